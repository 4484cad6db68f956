package generate

import (
	"math"
	"testing"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

func TestTopKKeepsExactlyTheLargest(t *testing.T) {
	logits := mx.FromSlice([]float32{0.1, 3, -1, 2, 2.5, 0}, 1, 6)
	f := Sampler{Temperature: 1, TopK: 3}.Filter(logits, nil).Float32s()
	for i, want := range []bool{false, true, false, true, true, false} {
		if kept := !math.IsInf(float64(f[i]), -1); kept != want {
			t.Fatalf("top-k 3 of %v kept %v", logits, f)
		}
	}
	// Samples only ever come from the support.
	for s := 0; s < 50; s++ {
		tok := Sampler{Temperature: 1, TopK: 2}.Sample(logits, nil, random.Key(uint64(s))).Ints()[0]
		if tok != 1 && tok != 4 {
			t.Fatalf("top-k 2 sampled token %d", tok)
		}
	}
}

func TestTopPKeepsTheCrossingToken(t *testing.T) {
	// probabilities 0.5, 0.3, 0.15, 0.05
	p := []float64{0.5, 0.3, 0.15, 0.05}
	l := make([]float32, 4)
	for i, v := range p {
		l[i] = float32(math.Log(v))
	}
	logits := mx.FromSlice(l, 1, 4)
	cases := []struct {
		topP float64
		keep []bool
	}{
		{0.45, []bool{true, false, false, false}},
		{0.6, []bool{true, true, false, false}},
		{0.78, []bool{true, true, false, false}},
		{0.82, []bool{true, true, true, false}},
		{0.99, []bool{true, true, true, true}},
	}
	for _, c := range cases {
		f := Sampler{Temperature: 1, TopP: c.topP}.Filter(logits, nil).Float32s()
		for i := range c.keep {
			if kept := !math.IsInf(float64(f[i]), -1); kept != c.keep[i] {
				t.Fatalf("top-p %.2f kept %v", c.topP, f)
			}
		}
	}
	// min-p 0.5 keeps tokens with p >= 0.25
	f := Sampler{Temperature: 1, MinP: 0.5}.Filter(logits, nil).Float32s()
	if math.IsInf(float64(f[1]), -1) || !math.IsInf(float64(f[2]), -1) {
		t.Fatalf("min-p kept %v", f)
	}
}

func TestRepetitionPenalty(t *testing.T) {
	logits := mx.FromSlice([]float32{2, -2, 1}, 1, 3)
	seen := mx.FromSlice([]bool{true, true, false}, 1, 3)
	f := Sampler{Temperature: 1, RepetitionPenalty: 2}.Filter(logits, seen).Float32s()
	if f[0] != 1 || f[1] != -4 || f[2] != 1 {
		t.Fatalf("penalised logits %v", f)
	}
	// Greedy with a penalty avoids the repeated winner.
	if tok := (Sampler{RepetitionPenalty: 3}).Sample(logits, seen, nil).Ints()[0]; tok != 2 {
		t.Fatalf("greedy with penalty picked %d", tok)
	}
}

func tinyModel(t *testing.T, cfg models.ModelConfig) *models.LanguageModel {
	t.Helper()
	m, err := models.New(cfg, random.Key(11))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGreedyGenerationEqualsFullRecomputation(t *testing.T) {
	for _, cfg := range []models.ModelConfig{models.GPTTiny(), models.LlamaTiny()} {
		m := tinyModel(t, cfg)
		prompt := []int{5, 17, 42, 9}
		res, err := Generate(m, [][]int{prompt}, Options{MaxTokens: 8})
		if err != nil {
			t.Fatal(err)
		}
		// Recompute every step from scratch, without a cache.
		seq := append([]int(nil), prompt...)
		for i := 0; i < 8; i++ {
			logits := m.Forward(mx.FromSlice(seq, 1, len(seq)), models.ForwardOptions{})
			last := mx.SliceAxis(logits, 1, len(seq)-1, len(seq))
			seq = append(seq, mx.ArgMax(mx.Reshape(last, 1, -1), -1, false).Ints()[0])
		}
		for i, tok := range res.Tokens[0] {
			if tok != seq[len(prompt)+i] {
				t.Fatalf("%s: cached greedy %v, recomputed %v", cfg.Name, res.Tokens[0], seq[len(prompt):])
			}
		}
	}
}

func TestSamplingIsSeededStopsAndStreams(t *testing.T) {
	m := tinyModel(t, models.LlamaTiny())
	opts := Options{Sampler: Sampler{Temperature: 1, TopP: 0.9}, MaxTokens: 12, Seed: 3}
	a, err := Generate(m, [][]int{{1, 2, 3}, {4, 5, 6}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(m, [][]int{{1, 2, 3}, {4, 5, 6}}, opts)
	for r := range a.Tokens {
		if len(a.Tokens[r]) != 12 {
			t.Fatalf("row %d has %d tokens", r, len(a.Tokens[r]))
		}
		for i := range a.Tokens[r] {
			if a.Tokens[r][i] != b.Tokens[r][i] {
				t.Fatal("same seed, different samples")
			}
		}
	}
	// Stop at the 4th token of row 0: it is excluded, and row 0 stops there.
	stopTok := a.Tokens[0][3]
	first := -1
	for i, tok := range a.Tokens[0] {
		if tok == stopTok {
			first = i
			break
		}
	}
	var streamed []int
	opts.StopTokens = []int{stopTok}
	opts.OnToken = func(tok int) bool { streamed = append(streamed, tok); return true }
	c, _ := Generate(m, [][]int{{1, 2, 3}, {4, 5, 6}}, opts)
	if !c.Stopped[0] || len(c.Tokens[0]) != first {
		t.Fatalf("stop token %d: got %v (stopped %v), full %v", stopTok, c.Tokens[0], c.Stopped[0], a.Tokens[0])
	}
	if len(streamed) != len(c.Tokens[0]) {
		t.Fatalf("streamed %v, generated %v", streamed, c.Tokens[0])
	}
	// Stopping early from the callback.
	n := 0
	d, _ := Generate(m, [][]int{{1, 2, 3}}, Options{MaxTokens: 10, OnToken: func(int) bool { n++; return n < 3 }})
	if len(d.Tokens[0]) != 3 {
		t.Fatalf("callback stop: %d tokens", len(d.Tokens[0]))
	}
	if _, err := Generate(m, [][]int{{1, 2}, {3}}, Options{MaxTokens: 1}); err == nil {
		t.Fatal("ragged prompts accepted")
	}
	if _, err := Generate(m, [][]int{{1, 999}}, Options{MaxTokens: 1}); err == nil {
		t.Fatal("out-of-vocabulary prompt accepted")
	}
}

func TestContextWindowSlides(t *testing.T) {
	cfg := models.GPTTiny()
	cfg.Block.Position, cfg.Block.MaxSeqLen = "learned", 8
	m := tinyModel(t, cfg)
	prompt := [][]int{{3, 1, 4, 1}}
	if _, err := Generate(m, prompt, Options{MaxTokens: 20}); err == nil {
		t.Fatal("24 positions on an 8-position model without a window must fail")
	}
	res, err := Generate(m, prompt, Options{MaxTokens: 20, ContextWindow: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tokens[0]) != 20 {
		t.Fatalf("%d tokens", len(res.Tokens[0]))
	}
	// Up to the first slide the window changes nothing.
	short, _ := Generate(m, prompt, Options{MaxTokens: 4})
	for i, tok := range short.Tokens[0] {
		if res.Tokens[0][i] != tok {
			t.Fatalf("before the window fills: %v vs %v", res.Tokens[0][:4], short.Tokens[0])
		}
	}
	// Token 5 is the first sampled after the slide: the model sees exactly the last 4 tokens
	// (generated tokens 1..4, at sequence indices 5..8) from position 0.
	seq := append(append([]int(nil), prompt[0]...), res.Tokens[0]...)
	ctx := seq[5:9]
	logits := m.Forward(mx.FromSlice(ctx, 1, 4), models.ForwardOptions{})
	want := mx.ArgMax(mx.Reshape(mx.SliceAxis(logits, 1, 3, 4), 1, -1), -1, false).Ints()[0]
	if res.Tokens[0][5] != want {
		t.Fatalf("after the slide: got %d, a fresh 4-token context gives %d", res.Tokens[0][5], want)
	}
	if _, err := Generate(m, [][]int{{1, 2, 3, 4, 5, 6, 7, 8, 9}}, Options{MaxTokens: 1, ContextWindow: 8}); err == nil {
		t.Fatal("a prompt longer than the window must fail")
	}
}
