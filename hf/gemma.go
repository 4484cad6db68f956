package hf

import (
	"math"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
)

// Gemma differs from Llama in four ways the mapping expresses without a new kernel:
//   - embeddings are multiplied by sqrt(hidden_size) (ModelConfig.EmbeddingScale);
//   - its RMSNorm multiplies by (1 + w), so every norm weight is loaded as w + 1;
//   - the gated FFN uses hidden_activation (gelu_pytorch_tanh);
//   - the embeddings are tied.
//
// Gemma 2 adds attention-logit soft-capping, a final-logit soft-cap, sliding-window attention on
// the layers layer_types marks "sliding_attention", a query scale of query_pre_attn_scalar^-0.5,
// and norms after the attention and the FFN as well as before: see gemma2.go.

// gemmaConfig maps a gemma or gemma2 config.json.
func gemmaConfig(rc rawConfig) (models.ModelConfig, error) {
	window := rc.SlidingWindow
	rc.SlidingWindow = nil // Gemma 2 windows only some layers: set per layer below
	cfg, err := llamaFamilyConfig(rc)
	if err != nil {
		return cfg, err
	}
	if rc.HiddenActivation != "" {
		cfg.Block.Activation = rc.HiddenActivation
	}
	if cfg.Block.Activation == "" || rc.HiddenActivation == "" && rc.HiddenAct == "" {
		cfg.Block.Activation = "gelu_pytorch_tanh"
	}
	cfg.EmbeddingScale = float64(float32(math.Sqrt(float64(rc.HiddenSize))))
	if rc.TieWordEmbeddings == nil {
		cfg.TieEmbeddings = true
	}
	if rc.ModelType != "gemma2" {
		return cfg, nil
	}
	if rc.FinalLogitSoftcapping != nil {
		cfg.LogitSoftcap = *rc.FinalLogitSoftcapping
	}
	cfg.BlockConfigs = make([]core.BlockConfig, cfg.NLayers)
	for i := range cfg.BlockConfigs {
		b := cfg.Block
		sliding := i%2 == 0 // Gemma 2's default pattern when layer_types is absent
		if i < len(rc.LayerTypes) {
			sliding = rc.LayerTypes[i] == "sliding_attention"
		}
		if sliding && window != nil && *window > 0 {
			b.Attention, b.WindowSize = "sliding_window_gqa", *window
		}
		cfg.BlockConfigs[i] = b
	}
	return cfg, nil
}

// plusOne renames a Gemma norm weight w to the lmxlab RMSNorm weight 1 + w.
func plusOne(pattern, to string) rule {
	r := rename(pattern, to)
	conv := r.conv
	r.conv = func(m []string, a *mx.Array) (map[string]*mx.Array, error) {
		out, err := conv(m, a)
		for k, v := range out {
			out[k] = mx.AddScalar(v, 1)
		}
		return out, err
	}
	return r
}

var gemmaRules = []rule{
	rename(`model\.embed_tokens\.weight`, "embed.weight"),
	plusOne(`model\.layers\.(\d+)\.input_layernorm\.weight`, "blocks.$1.attn_norm.weight"),
	plusOne(`model\.layers\.(\d+)\.post_attention_layernorm\.weight`, "blocks.$1.ffn_norm.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q|k|v|o)_proj\.(weight|bias)`, "blocks.$1.attention.${2}_proj.$3"),
	rename(`model\.layers\.(\d+)\.mlp\.gate_proj\.(weight|bias)`, "blocks.$1.ffn.gate.$2"),
	rename(`model\.layers\.(\d+)\.mlp\.up_proj\.(weight|bias)`, "blocks.$1.ffn.up.$2"),
	rename(`model\.layers\.(\d+)\.mlp\.down_proj\.(weight|bias)`, "blocks.$1.ffn.down.$2"),
	plusOne(`model\.norm\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}
