package tokenizer

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDir returns the shared data folder: $LMXLAB_SHARED, or ../shared
// beside the repository root (the folder holding go.mod). It fails the test
// when the folder is missing.
func sharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("LMXLAB_SHARED"); d != "" {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("LMXLAB_SHARED=%s: %v", d, err)
		}
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find the repository root (go.mod) to locate ../shared; set LMXLAB_SHARED")
		}
		dir = parent
	}
	d := filepath.Join(filepath.Dir(dir), "shared")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("shared folder %s is missing (set LMXLAB_SHARED to its location): %v", d, err)
	}
	return d
}

// sharedFile returns a file under the shared folder, failing when missing.
func sharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(sharedDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared file %s is missing: %v", p, err)
	}
	return p
}
