package generate

import (
	"slices"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Compiled decoding (static caches, one mx.Compile'd step) against the eager path.

func decodeConfigs() map[string]models.ModelConfig {
	out := map[string]models.ModelConfig{"gpt": models.GPTTiny(), "llama": models.LlamaTiny()}
	c := models.GPTTiny()
	c.Block.Position = "learned"
	out["gpt learned"] = c
	c = models.GPTTiny()
	c.Block.Position = "alibi"
	out["gpt alibi"] = c
	c = models.LlamaTiny()
	c.Block.Attention, c.Block.WindowSize = "sliding_window_gqa", 5
	out["llama sliding"] = c
	c = models.LlamaTiny()
	c.Block.Attention, c.Block.AttentionChunkSize = "chunked_gqa", 6
	out["llama chunked"] = c
	return out
}

var decodeSamplers = map[string]Sampler{
	"greedy":         {},
	"top-p":          {Temperature: 1, TopP: 0.9},
	"top-k, penalty": {Temperature: 0.8, TopK: 20, RepetitionPenalty: 1.3},
}

func TestCompiledDecodingEqualsEager(t *testing.T) {
	prompts := [][]int{{5, 17, 42, 9, 3}, {1, 2, 3, 4, 5}}
	const n = 24
	for name, cfg := range decodeConfigs() {
		m := tinyModel(t, cfg)
		for sname, s := range decodeSamplers {
			t.Run(name+"/"+sname, func(t *testing.T) {
				opts := Options{Sampler: s, MaxTokens: n, Seed: 7, Decode: DecodeEager}
				want, err := Generate(m, prompts, opts)
				if err != nil {
					t.Fatal(err)
				}
				d := NewDecoder(m, s)
				opts.Decode, opts.Decoder = DecodeCompiled, d
				got, err := Generate(m, prompts, opts)
				if err != nil {
					t.Fatal(err)
				}
				for r := range want.Tokens {
					if !slices.Equal(got.Tokens[r], want.Tokens[r]) {
						t.Fatalf("row %d: compiled %v, eager %v", r, got.Tokens[r], want.Tokens[r])
					}
				}
				// n tokens are one prefill and n-1 steps of one signature; a second generation
				// of a similar length reuses the compilation.
				if d.Traces() != 1 {
					t.Fatalf("the step was traced %d times for %d tokens", d.Traces(), n)
				}
				opts.MaxTokens = n - 3
				if _, err := Generate(m, prompts, opts); err != nil {
					t.Fatal(err)
				}
				if d.Traces() != 1 || d.CompileTime() <= 0 {
					t.Fatalf("after a second generation: %d traces, compile time %v", d.Traces(), d.CompileTime())
				}
			})
		}
	}
}

func TestCompiledDecodingMixedPrecision(t *testing.T) {
	// The Linear weights and the tied table are cast once instead of at every step: the tokens
	// stay those of the eager path.
	for _, cfg := range []models.ModelConfig{models.GPTTiny(), models.LlamaTiny()} {
		m := tinyModel(t, cfg)
		if err := m.SetComputeDType(mx.BFloat16); err != nil {
			t.Fatal(err)
		}
		opts := Options{Sampler: Sampler{Temperature: 1}, MaxTokens: 12, Seed: 2, Decode: DecodeEager}
		want, err := Generate(m, [][]int{{4, 8, 15}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		before := nn.Values(nn.Parameters(m))
		opts.Decode = DecodeCompiled
		got, err := Generate(m, [][]int{{4, 8, 15}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Tokens[0], want.Tokens[0]) {
			t.Fatalf("%s bf16: compiled %v, eager %v", cfg.Name, got.Tokens[0], want.Tokens[0])
		}
		// The model's own parameters are left as they were.
		if !slices.Equal(nn.Values(nn.Parameters(m)), before) {
			t.Fatalf("%s: compiled decoding changed the model's parameters", cfg.Name)
		}
	}
}

func TestCompiledDecodingStopsAndSlides(t *testing.T) {
	cfg := models.GPTTiny()
	cfg.Block.Position, cfg.Block.MaxSeqLen = "learned", 8
	m := tinyModel(t, cfg)
	d := NewDecoder(m, Sampler{})
	eager, err := Generate(m, [][]int{{3, 1, 4, 1}}, Options{MaxTokens: 20, ContextWindow: 8, Decode: DecodeEager})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Generate(m, [][]int{{3, 1, 4, 1}}, Options{MaxTokens: 20, ContextWindow: 8, Decoder: d})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tokens[0], eager.Tokens[0]) {
		t.Fatalf("sliding window: compiled %v, eager %v", got.Tokens[0], eager.Tokens[0])
	}
	if d.Traces() != 1 {
		t.Fatalf("sliding window: %d traces", d.Traces())
	}
	// A stop token ends a row the same way.
	stop := eager.Tokens[0][6]
	a, _ := Generate(m, [][]int{{3, 1, 4, 1}}, Options{MaxTokens: 20, ContextWindow: 8, StopTokens: []int{stop}, Decode: DecodeEager})
	b, _ := Generate(m, [][]int{{3, 1, 4, 1}}, Options{MaxTokens: 20, ContextWindow: 8, StopTokens: []int{stop}, Decoder: d})
	if !slices.Equal(a.Tokens[0], b.Tokens[0]) || a.Stopped[0] != b.Stopped[0] || !b.Stopped[0] {
		t.Fatalf("stop token: compiled %v (%v), eager %v (%v)", b.Tokens[0], b.Stopped[0], a.Tokens[0], a.Stopped[0])
	}
}

func TestDecoderMismatchIsAnError(t *testing.T) {
	m := tinyModel(t, models.LlamaTiny())
	d := NewDecoder(m, Sampler{Temperature: 1})
	_, err := Generate(m, [][]int{{1, 2}}, Options{MaxTokens: 2, Decoder: d})
	if err == nil || !strings.Contains(err.Error(), "another model or sampler") {
		t.Fatalf("a decoder for another sampler: %v", err)
	}
	if _, err := Generate(m, [][]int{{1, 2}}, Options{MaxTokens: 2, Decode: DecodeMode(9)}); err == nil {
		t.Fatal("an unknown decode mode was accepted")
	}
}
