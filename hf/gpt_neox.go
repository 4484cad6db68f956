package hf

import (
	"fmt"
	"regexp"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// GPT-NeoX (Pythia) differs from the core block in three ways:
//   - query_key_value fuses q, k and v per head: its rows are (H, 3, hd), split at load time;
//   - RoPE rotates only the first partial_rotary_factor of each head (RopeDims);
//   - with use_parallel_residual (the default) a layer computes
//     x + attn(ln1(x)) + mlp(ln2(x)); otherwise x' = x + attn(ln1(x)), x' + mlp(ln2(x')).
//
// Load replaces each block's mixer with a NeoXLayer that holds the norms and the MLP and
// returns the layer's whole residual update (adaptNeoX).

// neoxConfig maps a gpt_neox config.json.
func neoxConfig(rc rawConfig) (models.ModelConfig, error) {
	rc.NumKeyValueHeads = rc.NumAttentionHeads
	rc.RMSNormEps = rc.LayerNormEps
	if rc.AttentionBias == nil {
		bias := true // older configs have no attention_bias: GPT-NeoX has biases
		rc.AttentionBias = &bias
	}
	cfg, err := llamaFamilyConfig(rc)
	if err != nil {
		return cfg, err
	}
	b := &cfg.Block
	b.Attention, b.FFN, b.Norm, b.Bias = "mha", "standard", "layer_norm", true
	if rc.HiddenAct == "" {
		b.Activation = "gelu"
	}
	if f := rc.RotaryPct; f > 0 && f < 1 && b.RopeDims == 0 {
		b.RopeDims = int(f * float64(b.HeadDimension()))
	}
	if rc.RotaryEmbBase > 0 {
		b.RopeTheta = rc.RotaryEmbBase
	}
	return cfg, nil
}

// splitNeoXQKV splits query_key_value (weight (H·3·hd, d) or bias (H·3·hd)) into q, k and v.
func splitNeoXQKV(heads func() int) rule {
	re := regexp.MustCompile(`^gpt_neox\.layers\.(\d+)\.attention\.query_key_value\.(weight|bias)$`)
	return rule{re, func(m []string, a *mx.Array) (map[string]*mx.Array, error) {
		h := heads()
		rows := a.Dim(0)
		if h <= 0 || rows%(3*h) != 0 {
			return nil, fmt.Errorf("%s has %d rows, not a multiple of 3·%d heads", m[0], rows, h)
		}
		hd := rows / (3 * h)
		shape := append([]int{h, 3, hd}, a.Shape()[1:]...)
		r := mx.Reshape(a, shape...)
		out := map[string]*mx.Array{}
		for i, p := range []string{"q_proj", "k_proj", "v_proj"} {
			part := mx.Squeeze(mx.SliceAxis(r, 1, i, i+1), 1)
			out[fmt.Sprintf("blocks.%s.attention.%s.%s", m[1], p, m[2])] = mx.Reshape(part, append([]int{h * hd}, a.Shape()[1:]...)...)
		}
		return out, nil
	}}
}

func neoxRules(cfg models.ModelConfig) []rule {
	return []rule{
		rename(`gpt_neox\.embed_in\.weight`, "embed.weight"),
		rename(`embed_out\.weight`, "head.weight"),
		rename(`gpt_neox\.final_layer_norm\.(weight|bias)`, "final_norm.$1"),
		rename(`gpt_neox\.layers\.(\d+)\.input_layernorm\.(weight|bias)`, "blocks.$1.attention.input_norm.$2"),
		rename(`gpt_neox\.layers\.(\d+)\.post_attention_layernorm\.(weight|bias)`, "blocks.$1.attention.post_norm.$2"),
		splitNeoXQKV(func() int { return cfg.Block.NHeads }),
		rename(`gpt_neox\.layers\.(\d+)\.attention\.dense\.(weight|bias)`, "blocks.$1.attention.o_proj.$2"),
		rename(`gpt_neox\.layers\.(\d+)\.mlp\.dense_h_to_4h\.(weight|bias)`, "blocks.$1.attention.mlp.up.$2"),
		rename(`gpt_neox\.layers\.(\d+)\.mlp\.dense_4h_to_h\.(weight|bias)`, "blocks.$1.attention.mlp.down.$2"),
		// Buffers some older checkpoints store.
		{regexp.MustCompile(`^gpt_neox\.layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$`),
			func([]string, *mx.Array) (map[string]*mx.Array, error) { return nil, nil }},
	}
}

// adaptNeoX moves each block's norms and MLP into a NeoXLayer mixer.
func adaptNeoX(rc rawConfig, m *models.LanguageModel) error {
	parallel := rc.UseParallelResidual == nil || *rc.UseParallelResidual
	for i, b := range m.Blocks {
		gqa, ok := b.Attention.(*core.GQA)
		if !ok {
			return fmt.Errorf("gpt_neox: layer %d attention is %T, want *core.GQA", i, b.Attention)
		}
		d, eps := b.Config.DModel, b.Config.NormEps
		b.Attention = &NeoXLayer{GQA: gqa, InputNorm: nn.NewLayerNorm(d, eps, true),
			PostNorm: nn.NewLayerNorm(d, eps, true), MLP: b.FFN, Parallel: parallel}
		b.AttnNorm, b.FFN, b.FFNNorm = identityNorm{}, core.NoFFN{}, nil
		b.Config.FFN = "none"
	}
	return nil
}

// NeoXLayer is a whole GPT-NeoX layer as a mixer: it returns the residual update
// attn(ln1(x)) + mlp(ln2(x)) (parallel) or attn(ln1(x)) + mlp(ln2(x + attn(ln1(x)))).
type NeoXLayer struct {
	*core.GQA
	InputNorm core.Norm `nn:"input_norm"`
	PostNorm  core.Norm `nn:"post_norm"`
	MLP       core.FFN  `nn:"mlp"`
	Parallel  bool      `nn:"-"`
}

// Forward returns the layer's update to the residual stream x.
func (n *NeoXLayer) Forward(x *mx.Array, ctx *core.Context, cache core.Cache) *mx.Array {
	a := n.GQA.Forward(n.InputNorm.Forward(x), ctx, cache)
	if n.Parallel {
		return mx.Add(n.MLP.Forward(n.PostNorm.Forward(x), ctx), a)
	}
	return mx.Add(a, n.MLP.Forward(n.PostNorm.Forward(mx.Add(x, a)), ctx))
}
