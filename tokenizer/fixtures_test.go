package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

type fixtureCase struct {
	Text    string   `json:"text"`
	IDs     []int    `json:"ids"`
	Tokens  []string `json:"tokens"`
	Decoded string   `json:"decoded"`
}

type fixture struct {
	Tokenizer string        `json:"tokenizer"`
	VocabSize int           `json:"vocab_size"`
	Cases     []fixtureCase `json:"cases"`
}

// fixtureFiles returns the *.cases.json files, failing when there are none.
func fixtureFiles(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "fixtures", "tokenizers")
	files, err := filepath.Glob(filepath.Join(dir, "*.cases.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.cases.json fixtures in %s", dir)
	}
	return files
}

func loadFixture(t testing.TB, path string) (fixture, *HF) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tok, err := FromFile(filepath.Join(filepath.Dir(path), f.Tokenizer))
	if err != nil {
		t.Fatal(err)
	}
	return f, tok
}

func TestFixtures(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, tok := loadFixture(t, path)
			if len(f.Cases) == 0 {
				t.Fatal("fixture has no cases")
			}
			if got := tok.VocabSize(); got != f.VocabSize {
				t.Errorf("VocabSize = %d, want %d", got, f.VocabSize)
			}
			for _, c := range f.Cases {
				ids, toks := tok.EncodeWithTokens(c.Text)
				if ids == nil {
					ids = []int{}
				}
				if toks == nil {
					toks = []string{}
				}
				if !reflect.DeepEqual(ids, c.IDs) {
					t.Errorf("%q: ids\n got %v\nwant %v", c.Text, ids, c.IDs)
				}
				if !reflect.DeepEqual(toks, c.Tokens) {
					t.Errorf("%q: tokens\n got %q\nwant %q", c.Text, toks, c.Tokens)
				}
				if got := tok.Decode(c.IDs); got != c.Decoded {
					t.Errorf("%q: decoded\n got %q\nwant %q", c.Text, got, c.Decoded)
				}
			}
		})
	}
}

// TestConcurrentEncode encodes from several goroutines at once (run with
// -race to check the caches and the regex machine pool).
func TestConcurrentEncode(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		f, tok := loadFixture(t, path)
		done := make(chan bool)
		for g := 0; g < 4; g++ {
			go func() {
				defer func() { done <- true }()
				for i := 0; i < 20; i++ {
					for _, c := range f.Cases {
						if ids := tok.Encode(c.Text); len(ids) != len(c.IDs) {
							t.Errorf("%q: %d ids, want %d", c.Text, len(ids), len(c.IDs))
							return
						}
					}
				}
			}()
		}
		for g := 0; g < 4; g++ {
			<-done
		}
	}
}
