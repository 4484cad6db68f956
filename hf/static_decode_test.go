package hf

import (
	"slices"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/generate"
)

// TestCompiledDecodingOfFixtures asks every fixture architecture for compiled decoding: it either
// gives the eager path's tokens (GQA layers, also wrapped as in GPT-NeoX and Gemma) or refuses
// with an error naming the static cache (mixers that read Context.Offset, SSMs, MLA), never a
// panic, so that DecodeAuto can fall back to eager decoding.
func TestCompiledDecodingOfFixtures(t *testing.T) {
	supported := map[string]bool{}
	for _, n := range []string{"gpt2", "llama", "llama_tied_rope_scaled", "mistral", "qwen2", "qwen3", "gemma",
		"gemma3_text", "phi3", "mixtral", "qwen3_moe", "gpt_neox"} {
		supported[n] = true
	}
	for _, name := range []string{"gpt2", "llama", "llama_tied_rope_scaled", "mistral", "qwen2",
		"qwen3", "gemma", "gemma2", "gemma3_text", "phi3", "mixtral", "qwen3_moe", "gpt_neox",
		"llama4_text", "deepseek_v2", "deepseek_v3", "mamba2", "nemotron_h", "falcon_h1", "jamba", "qwen3_next"} {
		t.Run(name, func(t *testing.T) {
			m, err := Load(fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			prompt := [][]int{{1, 5, 9, 2}}
			want, err := generate.Generate(m, prompt, generate.Options{MaxTokens: 5, Decode: generate.DecodeEager})
			if err != nil {
				t.Fatal(err)
			}
			got, err := generate.Generate(m, prompt, generate.Options{MaxTokens: 5, Decode: generate.DecodeCompiled})
			if err != nil {
				if !strings.Contains(err.Error(), "static") {
					t.Fatalf("compiled decoding refused with %v", err)
				}
				if supported[name] {
					t.Fatalf("compiled decoding of %s: %v", name, err)
				}
				t.Logf("eager only: %v", err)
				return
			}
			if !slices.Equal(got.Tokens[0], want.Tokens[0]) {
				t.Fatalf("compiled %v, eager %v", got.Tokens[0], want.Tokens[0])
			}
			t.Logf("compiled decoding matches: %v", got.Tokens[0])
		})
	}
}
