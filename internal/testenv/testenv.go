// Package testenv holds what the packages' tests share: SharedDir locates the shared test
// fixtures ($LMXLAB_SHARED, else the folder "shared" beside the repository root; a test that needs
// a shared file fails with a clear message when it is missing, never skips), and MustPanic checks
// panic messages.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SharedDir returns the shared folder, failing the test when it cannot be found.
func SharedDir(t testing.TB) string {
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
		t.Fatalf("shared folder %s is missing (set LMXLAB_SHARED to it): %v", d, err)
	}
	return d
}

// SharedFile returns the path of a file under the shared folder, failing the test when it is
// missing.
func SharedFile(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{SharedDir(t)}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared file %s is missing (set LMXLAB_SHARED to the shared folder): %v", p, err)
	}
	return p
}

// MustPanic runs f and fails the test unless it panics with a message containing every fragment.
func MustPanic(t testing.TB, f func(), fragments ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one mentioning %q", fragments)
		}
		msg := fmt.Sprint(r)
		for _, fr := range fragments {
			if !strings.Contains(msg, fr) {
				t.Fatalf("panic %q does not mention %q", msg, fr)
			}
		}
	}()
	f()
}
