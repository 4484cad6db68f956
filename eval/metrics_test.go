package eval

import (
	"math"
	"testing"

	"github.com/lmxlab/lmxlab/data"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/tokenizer"
)

// logitsLoss returns a loss function for a model that ignores its input and emits the fixed
// logits row for every position: mean over tokens of logsumexp(logits) − logits[target].
func logitsLoss(row []float32) func(x, y *mx.Array) *mx.Array {
	v := len(row)
	return func(x, y *mx.Array) *mx.Array {
		b, l := y.Dim(0), y.Dim(1)
		logits := mx.BroadcastTo(mx.FromSlice(row, 1, 1, v), b, l, v)
		picked := mx.Squeeze(mx.TakeAlongAxis(logits, mx.ExpandDims(y, -1), -1), -1)
		return mx.Mean(mx.Sub(mx.LogSumExp(logits, []int{-1}, false), picked), nil, false)
	}
}

func TestPerplexityOfUniformModelIsV(t *testing.T) {
	const v = 37
	tokens := make([]int32, 2000)
	for i := range tokens {
		tokens[i] = int32((i * 7) % v)
	}
	src, err := data.Sequential(tokens, 4, 16)
	if err != nil {
		t.Fatal(err)
	}
	loss, n := EvaluateLoss(logitsLoss(make([]float32, v)), src, 0)
	if n != src.Len() {
		t.Errorf("%d batches, want %d", n, src.Len())
	}
	if math.Abs(loss-math.Log(v)) > 1e-5 {
		t.Errorf("loss %v, want ln %d = %v", loss, v, math.Log(v))
	}
	if ppl := Perplexity(loss); math.Abs(ppl-v) > 1e-3 {
		t.Errorf("perplexity %v, want %d", ppl, v)
	}
	// In bits per byte a uniform model over V one-byte characters costs log2 V.
	if bpb := BitsPerByte(loss, 1); math.Abs(bpb-math.Log2(v)) > 1e-5 {
		t.Errorf("bits per byte %v, want log2 %d", bpb, v)
	}
}

func TestPerplexityOfPeakedModel(t *testing.T) {
	// A model that puts probability p on the true token of a constant stream has loss −ln p.
	tokens := make([]int32, 200) // all zeros
	row := []float32{4, 0, 0, 0}
	src, _ := data.Sequential(tokens, 2, 8)
	loss, _ := EvaluateLoss(logitsLoss(row), src, 0)
	p := math.Exp(4) / (math.Exp(4) + 3)
	if math.Abs(loss+math.Log(p)) > 1e-5 {
		t.Errorf("loss %v, want %v", loss, -math.Log(p))
	}
	if ppl := Perplexity(loss); ppl < 1 || math.Abs(ppl-1/p) > 1e-4 {
		t.Errorf("perplexity %v, want %v", ppl, 1/p)
	}
	if Perplexity(0) != 1 {
		t.Error("perfect prediction does not give perplexity 1")
	}
}

func TestBitsPerByte(t *testing.T) {
	if got := BitsPerByte(math.Ln2, 1); math.Abs(got-1) > 1e-15 {
		t.Errorf("BitsPerByte(ln 2, 1) = %v", got)
	}
	if a, b := BitsPerByte(2.5, 1), BitsPerByte(2.5, 2); math.Abs(a-2*b) > 1e-12 {
		t.Errorf("doubling bytes per token: %v vs %v", a, b)
	}
	// BPB = log2(perplexity) / bytes per token.
	loss := 1.7
	if got, want := BitsPerByte(loss, 3.5), math.Log2(Perplexity(loss))/3.5; math.Abs(got-want) > 1e-12 {
		t.Errorf("BPB %v, log2(PPL)/bpt %v", got, want)
	}
	if !math.IsNaN(BitsPerByte(1, 0)) || !math.IsNaN(BitsPerByte(1, -1)) {
		t.Error("non-positive bytes per token did not give NaN")
	}
}

// runeEncoder is a character tokenizer stand-in: one id per rune.
type runeEncoder struct{}

func (runeEncoder) Encode(s string) []int {
	var out []int
	for _, r := range s {
		out = append(out, int(r))
	}
	return out
}

func TestBytesPerToken(t *testing.T) {
	if got := BytesPerToken("hello", 5); got != 1 {
		t.Errorf("ASCII: %v", got)
	}
	if got := TokenizerBytesPerToken(runeEncoder{}, "héllo"); got != 1.2 { // 6 bytes, 5 runes
		t.Errorf("héllo: %v, want 1.2", got)
	}
	if got := TokenizerBytesPerToken(runeEncoder{}, "日本"); got != 3 {
		t.Errorf("CJK: %v, want 3", got)
	}
	if !math.IsNaN(BytesPerToken("x", 0)) {
		t.Error("zero tokens did not give NaN")
	}
}

func TestBytesPerTokenWithCharTokenizer(t *testing.T) {
	ascii := data.Sample()
	if got := TokenizerBytesPerToken(tokenizer.NewChar(ascii), ascii); got != 1 {
		t.Errorf("char tokenizer on ASCII: %v bytes per token, want 1", got)
	}
	text := "naïve café — 東京"
	tok := tokenizer.NewChar(text)
	want := float64(len(text)) / float64(len([]rune(text)))
	if got := TokenizerBytesPerToken(tok, text); math.Abs(got-want) > 1e-15 {
		t.Errorf("char tokenizer on %q: %v, want %v", text, got, want)
	}
}
