package hf

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
)

// adaptModel replaces components of a freshly built model where the architecture needs more
// than the core block expresses: Gemma 2/3's post norms and soft-capped attention, mixture-of-
// experts FFNs, GPT-NeoX's parallel residual. The replacements live in this package, so such a
// model is what Load returns; its ModelConfig alone describes only the shared parts.
func adaptModel(modelType, dir string, m *models.LanguageModel) error {
	switch modelType {
	case "gemma2", "gemma3_text", "mixtral", "qwen3_moe", "gpt_neox", "llama4_text", "deepseek_v2", "deepseek_v3", "mamba2", "nemotron_h", "falcon_h1", "jamba", "qwen3_next":
	default:
		return nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	var rc rawConfig
	if err := json.Unmarshal(data, &rc); err != nil {
		return err
	}
	switch modelType {
	case "gemma2", "gemma3_text":
		return adaptGemma(rc, m)
	case "mixtral", "qwen3_moe":
		return adaptMoE(rc, m)
	case "gpt_neox":
		return adaptNeoX(rc, m)
	case "llama4_text":
		return adaptLlama4(rc, m)
	case "deepseek_v2", "deepseek_v3":
		return adaptDeepseek(rc, m)
	case "mamba2":
		return adaptMamba2(rc, m)
	case "nemotron_h":
		return adaptNemotronH(rc, m)
	case "falcon_h1":
		return adaptFalconH1(rc, m)
	case "jamba":
		return adaptJamba(rc, m)
	case "qwen3_next":
		return adaptQwen3Next(rc, m)
	}
	return nil
}

// identityNorm is a parameter-free Norm that returns its input (for blocks whose replaced
// mixer normalises its own input).
type identityNorm struct{}

// Forward returns x.
func (identityNorm) Forward(x *mx.Array) *mx.Array { return x }
