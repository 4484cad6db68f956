package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"github.com/lmxlab/lmxlab/internal/testenv"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// sharedDir returns $LMXLAB_SHARED or ../shared beside the repository root,
// failing the test when it is missing.
func sharedDir(t *testing.T) string {
	t.Helper()
	return testenv.SharedDir(t)
}

// TestTokenizeCommandFixtures runs "lmxlab tokenize" in-process on every
// fixture and compares each output line with the reference.
func TestTokenizeCommandFixtures(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures", "tokenizers")
	files, _ := filepath.Glob(filepath.Join(dir, "*.cases.json"))
	if len(files) == 0 {
		t.Fatalf("no *.cases.json fixtures in %s", dir)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var f struct {
				Tokenizer string
				Cases     []struct {
					Text    string   `json:"text"`
					IDs     []int    `json:"ids"`
					Tokens  []string `json:"tokens"`
					Decoded string   `json:"decoded"`
				}
			}
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			var in bytes.Buffer
			for _, c := range f.Cases {
				line, _ := json.Marshal(map[string]string{"text": c.Text})
				in.Write(line)
				in.WriteByte('\n')
			}
			var out bytes.Buffer
			resetTokenizeFlags(t)
			rootCmd.SetArgs([]string{"tokenize", "--tokenizer", filepath.Join(dir, f.Tokenizer)})
			rootCmd.SetIn(&in)
			rootCmd.SetOut(&out)
			if err := rootCmd.Execute(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(&out)
			sc.Buffer(nil, 1<<20)
			i := 0
			for ; sc.Scan(); i++ {
				if i >= len(f.Cases) {
					t.Fatalf("more output lines than inputs: %s", sc.Text())
				}
				var got tokenizeOutput
				if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				c := f.Cases[i]
				if !reflect.DeepEqual(got.IDs, c.IDs) || !reflect.DeepEqual(got.Tokens, c.Tokens) || got.Decoded != c.Decoded {
					t.Errorf("%q:\n got %v %q %q\nwant %v %q %q", c.Text, got.IDs, got.Tokens, got.Decoded, c.IDs, c.Tokens, c.Decoded)
				}
			}
			if i != len(f.Cases) {
				t.Fatalf("got %d output lines for %d inputs", i, len(f.Cases))
			}
		})
	}
}

// resetTokenizeFlags restores the tokenize flags: cobra keeps flag values
// between Execute calls in one process.
func resetTokenizeFlags(t *testing.T) {
	t.Helper()
	cmd, _, err := rootCmd.Find([]string{"tokenize"})
	if err != nil || cmd.Name() != "tokenize" {
		t.Fatalf("tokenize command not registered: %v", err)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		_ = f.Value.Set(f.DefValue)
		f.Changed = false
	})
}

func TestTokenizeCommandErrors(t *testing.T) {
	tok := filepath.Join(sharedDir(t), "fixtures", "tokenizers", "bytelevel_bpe.json")
	for _, c := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"tokenize"}, "", "--tokenizer is required"},
		{[]string{"tokenize", "--tokenizer", filepath.Join(t.TempDir(), "missing.json")}, "", "missing.json"},
		{[]string{"tokenize", "--tokenizer", tok}, "{\"text\": \"ok\"}\nnot json\n", "stdin line 2"},
		{[]string{"tokenize", "--tokenizer", tok}, "{\"txt\": 1}\n", "missing \"text\""},
	} {
		resetTokenizeFlags(t)
		rootCmd.SetArgs(c.args)
		rootCmd.SetIn(strings.NewReader(c.stdin))
		rootCmd.SetOut(new(bytes.Buffer))
		err := rootCmd.Execute()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
