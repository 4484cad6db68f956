package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// loopbackOnly refuses every request that is not for a loopback address, so no test can ever
// reach the network, whatever it configures.
type loopbackOnly struct{ next http.RoundTripper }

func (l loopbackOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	host := r.URL.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, errors.New("test refused a non-loopback download of " + r.URL.String())
	}
	return l.next.RoundTrip(r)
}

func TestMain(m *testing.M) {
	httpClient = &http.Client{Transport: loopbackOnly{http.DefaultTransport}}
	userCacheDir = func() (string, error) { return "", errors.New("tests have no user cache") }
	os.Unsetenv(DataDirEnv)
	os.Exit(m.Run())
}

// fakeRemote serves body, counting requests, and points the shakespeare entry at it with the
// expected hash of want (the body itself when want is nil). It restores everything afterwards.
func fakeRemote(t *testing.T, body, want []byte) (cache string, hits *atomic.Int32) {
	t.Helper()
	hits = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	if want == nil {
		want = body
	}
	sum := sha256.Sum256(want)
	old := remoteFiles["shakespeare"]
	remoteFiles["shakespeare"] = remoteFile{file: old.file, url: srv.URL + "/input.txt",
		sha256: hex.EncodeToString(sum[:]), size: int64(len(want))}
	cache = t.TempDir()
	oldCache := userCacheDir
	userCacheDir = func() (string, error) { return cache, nil }
	t.Cleanup(func() { remoteFiles["shakespeare"], userCacheDir = old, oldCache })
	return cache, hits
}

func TestResolveExistingPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "my.txt")
	os.WriteFile(p, []byte("x"), 0o644)
	if got, err := Resolve(p); err != nil || got != p {
		t.Errorf("Resolve(%s) = %s, %v", p, got, err)
	}
	if _, err := Resolve(filepath.Join(t.TempDir(), "missing.txt")); err == nil || !strings.Contains(err.Error(), "shakespeare") {
		t.Errorf("missing path: err = %v (want one listing the known names)", err)
	}
}

func TestResolveOrder(t *testing.T) {
	body := []byte("First Citizen:\nBefore we proceed any further, hear me speak.\n")
	cache, hits := fakeRemote(t, body, nil)

	// 1. $LMXLAB_DATA_DIR wins when it holds the file (its content is not checked).
	dataDir := t.TempDir()
	local := filepath.Join(dataDir, "tinyshakespeare.txt")
	os.WriteFile(local, []byte("local copy"), 0o644)
	t.Setenv(DataDirEnv, dataDir)
	if got, err := Resolve("shakespeare"); err != nil || got != local {
		t.Fatalf("with %s: %s, %v", DataDirEnv, got, err)
	}
	// 2. Without it, the cache is empty, so the file is downloaded into the cache.
	t.Setenv(DataDirEnv, t.TempDir())
	want := filepath.Join(cache, "lmxlab", "tinyshakespeare.txt")
	got, err := Resolve("shakespeare")
	if err != nil || got != want {
		t.Fatalf("download: %s, %v", got, err)
	}
	if b, _ := os.ReadFile(got); string(b) != string(body) {
		t.Fatalf("downloaded %q", b)
	}
	// 3. The verified cache copy is used with no second request.
	if got, err := Resolve("shakespeare"); err != nil || got != want || hits.Load() != 1 {
		t.Fatalf("cached: %s, %v, %d requests", got, err, hits.Load())
	}
	// 4. A corrupt cache copy is replaced by a fresh download.
	os.WriteFile(want, []byte("corrupt"), 0o644)
	if got, err := Resolve("shakespeare"); err != nil || got != want || hits.Load() != 2 {
		t.Fatalf("re-download: %s, %v, %d requests", got, err, hits.Load())
	}
	if b, _ := os.ReadFile(want); string(b) != string(body) {
		t.Fatalf("re-downloaded %q", b)
	}
	if s, err := Text("shakespeare"); err != nil || s != string(body) {
		t.Errorf("Text(shakespeare) = %q, %v", s, err)
	}
	noTemps(t, filepath.Join(cache, "lmxlab"), 1)
}

func TestResolveShaMismatch(t *testing.T) {
	cache, _ := fakeRemote(t, []byte("tampered!"), []byte("original!")) // same size, other hash
	_, err := Resolve("shakespeare")
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("err = %v, want a sha256 mismatch", err)
	}
	noTemps(t, filepath.Join(cache, "lmxlab"), 0)
}

func TestResolveSizeMismatch(t *testing.T) {
	cache, _ := fakeRemote(t, []byte("much longer than expected"), []byte("short"))
	if _, err := Resolve("shakespeare"); err == nil || !strings.Contains(err.Error(), "bytes, want 5") {
		t.Fatalf("err = %v, want a size error", err)
	}
	noTemps(t, filepath.Join(cache, "lmxlab"), 0)
}

func TestResolveHTTPError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	cache, _ := fakeRemote(t, nil, []byte("x"))
	rf := remoteFiles["shakespeare"]
	rf.url = srv.URL
	remoteFiles["shakespeare"] = rf
	if _, err := Resolve("shakespeare"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err = %v, want a 404", err)
	}
	noTemps(t, filepath.Join(cache, "lmxlab"), 0)
}

func TestRealEntryUnchanged(t *testing.T) {
	rf := remoteFiles["shakespeare"]
	if rf.size != 1115394 || rf.sha256 != "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed" ||
		rf.url != "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt" {
		t.Errorf("shakespeare entry changed: %+v", rf)
	}
}

// noTemps checks that dir holds exactly want files and no temporary leftovers.
func noTemps(t *testing.T, dir string, want int) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	if len(entries) != want {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want %d file(s) and no temporaries", dir, names, want)
	}
}
