package safetensors

import (
	"encoding/binary"
	"github.com/lmxlab/lmxlab/internal/testenv"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir returns $LMXLAB_SHARED, or ../shared next to the repository
// root (the directory holding go.mod). A missing directory fails the test:
// fixtures are part of every checkout, and skipping would hide their loss.
func sharedDir(t testing.TB) string {
	t.Helper()
	return testenv.SharedDir(t)
}

// hfFixtures returns the fixture model directories under fixtures/hf,
// failing if there are none.
func hfFixtures(t testing.TB) []string {
	t.Helper()
	root := filepath.Join(sharedDir(t), "fixtures", "hf")
	dirs, err := filepath.Glob(filepath.Join(root, "*", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatalf("no fixtures/hf/*/model.safetensors under %s: the shared fixtures are missing", root)
	}
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}

// rawFile assembles a file from a header string, used as is (no padding),
// and a data buffer.
func rawFile(header string, buf []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(buf))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, buf...)
}

// writeTemp writes b to a file in a fresh temporary directory.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dirEntries lists the names in dir.
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
