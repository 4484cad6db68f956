package hf

import (
	"encoding/json"
	"fmt"
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

// Gemma 3 (text) is Gemma 2 without soft-capping, plus qk-norm (with (1 + w) weights) and a
// different RoPE base on sliding and full layers.

// gemmaConfig maps a gemma, gemma2 or gemma3_text config.json.
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
	if rc.ModelType == "gemma" {
		return cfg, nil
	}
	if rc.FinalLogitSoftcapping != nil {
		cfg.LogitSoftcap = *rc.FinalLogitSoftcapping
	}
	thetas, err := gemma3Thetas(rc)
	if err != nil {
		return cfg, err
	}
	cfg.Block.QKNorm = rc.ModelType == "gemma3_text"
	cfg.BlockConfigs = make([]core.BlockConfig, cfg.NLayers)
	for i := range cfg.BlockConfigs {
		b := cfg.Block
		// Default patterns when layer_types is absent: Gemma 2 alternates sliding and full
		// layers; Gemma 3 makes every sixth layer full.
		sliding := i%2 == 0
		if rc.ModelType == "gemma3_text" {
			sliding = (i+1)%6 != 0
		}
		if i < len(rc.LayerTypes) {
			sliding = rc.LayerTypes[i] == "sliding_attention"
		}
		if sliding && window != nil && *window > 0 {
			b.Attention, b.WindowSize = "sliding_window_gqa", *window
		}
		if sliding && rc.ModelType == "gemma3_text" {
			b.RopeScaling = nil // Gemma 3 scales only the global layers' RoPE
		}
		if sliding && thetas[0] > 0 {
			b.RopeTheta = thetas[0]
		} else if !sliding && thetas[1] > 0 {
			b.RopeTheta = thetas[1]
		}
		cfg.BlockConfigs[i] = b
	}
	return cfg, nil
}

// gemma3Thetas reads Gemma 3's per-layer-type RoPE bases: rope_parameters holds one entry per
// layer type in transformers 5 (older configs: rope_theta for full layers and
// rope_local_base_freq for sliding ones). It returns {sliding, full}; 0 keeps the block's base.
func gemma3Thetas(rc rawConfig) ([2]float64, error) {
	var th [2]float64
	if rc.ModelType != "gemma3_text" {
		return th, nil
	}
	th[0], th[1] = rc.RopeLocalBaseFreq, rc.RopeTheta
	if len(rc.RopeParameters) == 0 || string(rc.RopeParameters) == "null" {
		return th, nil
	}
	var per map[string]json.RawMessage
	if err := json.Unmarshal(rc.RopeParameters, &per); err != nil {
		return th, fmt.Errorf("rope_parameters: %w", err)
	}
	for i, key := range []string{"sliding_attention", "full_attention"} {
		raw, ok := per[key]
		if !ok {
			continue
		}
		var rp ropeParams
		if err := json.Unmarshal(raw, &rp); err != nil {
			return th, fmt.Errorf("rope_parameters.%s: %w", key, err)
		}
		if t := rp.RopeType; t != "" && t != "default" {
			return th, fmt.Errorf("rope_parameters.%s: rope type %q is not supported for gemma3", key, t)
		}
		th[i] = rp.RopeTheta
	}
	return th, nil
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
