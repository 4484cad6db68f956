package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// remoteFile describes a named dataset that Resolve may download: its file name in the data
// directory or cache, its URL, and the size and SHA-256 the download must have.
type remoteFile struct {
	file   string
	url    string
	sha256 string
	size   int64
}

// remoteFiles lists the named datasets. Tests replace entries to point at a local server.
var remoteFiles = map[string]remoteFile{
	"shakespeare": {
		file:   "tinyshakespeare.txt",
		url:    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
		sha256: "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
		size:   1115394,
	},
}

// Hooks for tests: the HTTP client and the cache directory lookup.
var (
	httpClient   = &http.Client{Timeout: 10 * time.Minute}
	userCacheDir = os.UserCacheDir
)

// DataDirEnv names the environment variable of a directory that holds dataset files
// (tinyshakespeare.txt, ...). Resolve looks there before the user cache.
const DataDirEnv = "LMXLAB_DATA_DIR"

// Names returns the names Resolve knows, sorted.
func Names() []string {
	names := make([]string, 0, len(remoteFiles))
	for n := range remoteFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Resolve returns the path of a dataset file. A path that exists is returned as is. A known name
// ("shakespeare") is looked up as $LMXLAB_DATA_DIR/<file>, then in the user cache
// (os.UserCacheDir()/lmxlab/<file>, used if its size and SHA-256 match), and otherwise downloaded into the cache. A download is
// written to a temporary file, checked against the expected size and SHA-256, and renamed into
// place only if both match; a mismatch deletes it and is an error.
func Resolve(name string) (string, error) {
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	rf, ok := remoteFiles[name]
	if !ok {
		return "", fmt.Errorf("data.Resolve: %q is neither an existing file nor a dataset name (known: %s)",
			name, strings.Join(Names(), ", "))
	}
	if dir := os.Getenv(DataDirEnv); dir != "" {
		p := filepath.Join(dir, rf.file)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	cache, err := userCacheDir()
	if err != nil {
		return "", fmt.Errorf("data.Resolve %s: no %s file and no user cache directory: %w", name, DataDirEnv, err)
	}
	dir := filepath.Join(cache, "lmxlab")
	p := filepath.Join(dir, rf.file)
	if verify(p, rf) == nil {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("data.Resolve %s: %w", name, err)
	}
	if err := download(rf, p); err != nil {
		return "", fmt.Errorf("data.Resolve %s: %w", name, err)
	}
	return p, nil
}

// download fetches rf.url into dst through a temporary file in dst's directory, verifying size
// and SHA-256 before the rename.
func download(rf remoteFile, dst string) (err error) {
	resp, err := httpClient.Get(rf.url)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", rf.url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, rf.size+1))
	if err != nil {
		return fmt.Errorf("download %s: %w", rf.url, err)
	}
	if n != rf.size {
		return fmt.Errorf("download %s: got %s bytes, want %d (partial file removed)", rf.url, sizeString(n, rf.size), rf.size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != rf.sha256 {
		return fmt.Errorf("download %s: sha256 mismatch: got %s, want %s (file removed)", rf.url, got, rf.sha256)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	return nil
}

// verify checks a file's size and SHA-256 against rf.
func verify(path string, rf remoteFile) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, rf.size+1))
	if err != nil {
		return err
	}
	if n != rf.size || hex.EncodeToString(h.Sum(nil)) != rf.sha256 {
		return fmt.Errorf("%s does not match the expected size and sha256", path)
	}
	return nil
}

// sizeString prints a byte count, marking one that ran past the limit as "more than".
func sizeString(n, want int64) string {
	if n > want {
		return fmt.Sprintf("more than %d", want)
	}
	return fmt.Sprint(n)
}

// Text returns the text of a named corpus or file: "arithmetic" (or "default") is DefaultCorpus,
// "sample" is Sample, anything else goes through Resolve and LoadText.
func Text(name string) (string, error) {
	switch name {
	case "arithmetic", "default":
		return DefaultCorpus(), nil
	case "sample":
		return Sample(), nil
	}
	p, err := Resolve(name)
	if err != nil {
		return "", err
	}
	return LoadText(p)
}
