package tokenizer

import (
	"github.com/lmxlab/lmxlab/internal/testenv"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir returns the shared data folder: $LMXLAB_SHARED, or ../shared
// beside the repository root (the folder holding go.mod). It fails the test
// when the folder is missing.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testenv.SharedDir(t)
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
