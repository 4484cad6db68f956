package data_test

import (
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/data"
	"github.com/lmxlab/lmxlab/tokenizer"
)

// TestCharPipeline runs the whole path text → character tokenizer → split → batches and checks
// that the batches decode back to text of the corpus.
func TestCharPipeline(t *testing.T) {
	text := data.DefaultCorpus()
	var tok tokenizer.Tokenizer = tokenizer.NewChar(text)
	if v := tok.VocabSize(); v != 15 { // 0-9, + - * =, newline
		t.Fatalf("vocabulary of the default corpus has %d characters, want 15", v)
	}
	tokens := data.Encode(tok, text)
	if len(tokens) != len(text) {
		t.Fatalf("%d tokens for %d ASCII bytes", len(tokens), len(text))
	}
	train, val, err := data.SplitTokens(tokens, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Decode(ints(val)) != text[len(train):] {
		t.Fatal("validation tokens do not decode to the text's tail")
	}

	rw, err := data.RandomWindows(train, 4, 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := rw.Next()
	x, y := b.X.Int32s(), b.Y.Int32s()
	for r := range 4 {
		xs := tok.Decode(ints(x[r*32 : (r+1)*32]))
		ys := tok.Decode(ints(y[r*32 : (r+1)*32]))
		if !strings.Contains(text, xs+ys[len(ys)-1:]) || xs[1:] != ys[:31] {
			t.Fatalf("row %d: %q / %q is not a shifted window of the corpus", r, xs, ys)
		}
	}

	seq, err := data.Sequential(val, 8, 64)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, ok := seq.Next(); !ok {
			break
		}
		n++
	}
	if want := (len(val) - 1) / 64 / 8; n != want {
		t.Errorf("%d validation batches, want %d", n, want)
	}
}

// TestSampleRoundTrip checks the embedded sample survives the character tokenizer.
func TestSampleRoundTrip(t *testing.T) {
	s := data.Sample()
	tok := tokenizer.NewChar(s)
	if tok.Decode(ints(data.Encode(tok, s))) != s {
		t.Error("sample does not round-trip")
	}
}

func ints(v []int32) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}
