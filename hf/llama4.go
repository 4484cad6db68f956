package hf

import (
	"fmt"
	"math"
	"regexp"
	"slices"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Llama 4 (text) is Llama with:
//   - interleaved ("traditional") RoPE at global positions, skipped on the NoPE layers
//     (no_rope_layers[i] == 0);
//   - chunked attention (attention_chunk_size) on the layers layer_types marks
//     "chunked_attention": a query sees only keys of its own chunk;
//   - a weightless RMS ("L2") norm of q and k after RoPE on RoPE layers (use_qk_norm);
//   - temperature tuning on NoPE layers: q is multiplied by
//     1 + attn_scale·log(floor((pos+1)/floor_scale) + 1);
//   - MoE FFNs on moe_layers: sigmoid of the top-k router logit scales each chosen expert's
//     input, and a shared expert is added; dense layers use intermediate_size_mlp.
//
// Load replaces each block's mixer with a Llama4Attention and each MoE layer's FFN with a
// Llama4MoE (adaptLlama4).

// llama4Config maps a llama4_text config.json.
func llama4Config(rc rawConfig) (models.ModelConfig, error) {
	cfg, err := llamaFamilyConfig(rc)
	if err != nil {
		return cfg, err
	}
	if rc.IntermediateSizeMLP > 0 {
		cfg.Block.DFF = rc.IntermediateSizeMLP
	}
	cfg.Block.RopeTraditional = true
	cfg.BlockConfigs = make([]core.BlockConfig, cfg.NLayers)
	for i := range cfg.BlockConfigs {
		b := cfg.Block
		if llama4Chunked(rc, i) {
			b.Attention, b.AttentionChunkSize = "chunked_gqa", rc.AttentionChunkSize
		}
		if !llama4Rope(rc, i) {
			b.Position = "none"
		}
		cfg.BlockConfigs[i] = b
	}
	return cfg, nil
}

func llama4Chunked(rc rawConfig, i int) bool {
	if rc.AttentionChunkSize <= 0 {
		return false
	}
	if i < len(rc.LayerTypes) {
		return rc.LayerTypes[i] == "chunked_attention"
	}
	return llama4Rope(rc, i)
}

func llama4Rope(rc rawConfig, i int) bool {
	if i < len(rc.NoRopeLayers) {
		return rc.NoRopeLayers[i] != 0
	}
	if n := rc.NoRopeLayerInterval; n > 0 {
		return (i+1)%n != 0
	}
	return true
}

func llama4MoELayer(rc rawConfig, i int) bool {
	if rc.MoeLayers != nil {
		return slices.Contains(rc.MoeLayers, i)
	}
	step := rc.InterleaveMoeLayerStep
	return step > 0 && (i+1)%step == 0
}

// adaptLlama4 installs the Llama 4 attention and MoE components.
func adaptLlama4(rc rawConfig, m *models.LanguageModel) error {
	for i, b := range m.Blocks {
		gqa, ok := b.Attention.(*core.GQA)
		if !ok {
			return fmt.Errorf("llama4_text: layer %d attention is %T, want *core.GQA", i, b.Attention)
		}
		a := &Llama4Attention{GQA: gqa, Eps: b.Config.NormEps}
		a.QKNorm = rc.UseQKNorm && gqa.RoPE != nil
		if rc.AttnTemperatureTuning && gqa.RoPE == nil {
			a.AttnScale, a.FloorScale = rc.AttnScale, rc.FloorScale
		}
		b.Attention = a
		if !llama4MoELayer(rc, i) {
			continue
		}
		d, dff := b.Config.DModel, rc.IntermediateSize
		mlp := func() *core.MLP {
			return &core.MLP{Gate: nn.NewLinear(d, dff, false, nil), Up: nn.NewLinear(d, dff, false, nil),
				Down: nn.NewLinear(dff, d, false, nil), Activation: b.Config.Activation}
		}
		moe := &Llama4MoE{Router: nn.NewLinear(d, experts(rc), false, nil), Shared: mlp(), TopK: max(rc.NumExpertsPerTok, 1)}
		for range experts(rc) {
			moe.Experts = append(moe.Experts, mlp())
		}
		b.FFN = moe
	}
	return nil
}

// Llama4Attention is GQA with Llama 4's global-position RoPE (also on chunked layers), qk L2
// norm and NoPE temperature tuning.
type Llama4Attention struct {
	*core.GQA
	QKNorm                bool    `nn:"-"`
	Eps                   float64 `nn:"-"`
	AttnScale, FloorScale float64 `nn:"-"` // temperature tuning when FloorScale > 0
}

// NewStaticCache reports that this attention decodes eagerly only: its positions (RoPE and the
// temperature tuning) come from Context.Offset.
func (a *Llama4Attention) NewStaticCache(int, int, mx.DType) (core.Cache, error) {
	return nil, fmt.Errorf("llama4_text attention has no static decoding")
}

// Forward runs the attention; with a cache, keys and values are appended to it first.
func (a *Llama4Attention) Forward(x *mx.Array, ctx *core.Context, cache core.Cache) *mx.Array {
	g := a.GQA
	b, l := x.Dim(0), x.Dim(1)
	q := headsOf(g.QProj.Forward(x), g.NHeads, g.HeadDim)
	k := headsOf(g.KProj.Forward(x), g.NKVHeads, g.HeadDim)
	v := headsOf(g.VProj.Forward(x), g.NKVHeads, g.HeadDim)
	if g.RoPE != nil {
		q, k = g.RoPE.Apply(q, ctx.Offset, 0), g.RoPE.Apply(k, ctx.Offset, 0)
	}
	if a.QKNorm {
		q, k = mx.RMSNorm(q, nil, a.Eps), mx.RMSNorm(k, nil, a.Eps)
	}
	if a.FloorScale > 0 {
		s := make([]float32, l)
		for i := range s {
			p := float64(ctx.Offset + i)
			s[i] = float32(math.Log(math.Floor((p+1)/a.FloorScale)+1)*a.AttnScale + 1)
		}
		q = mx.Mul(q, mx.AsType(mx.FromSlice(s, 1, 1, l, 1), q.DType()))
	}
	if cache != nil {
		k, v = cache.(*core.KVCache).Update(k, v)
	}
	opts := mx.AttentionOptions{Scale: g.Scale, Causal: true, Window: g.Window, Chunk: g.Chunk, Mask: ctx.Mask}
	if opts.Mask != nil && opts.Mask.Dim(-1) != k.Dim(2) {
		opts.Mask = mx.SliceAxis(opts.Mask, -1, opts.Mask.Dim(-1)-k.Dim(2), opts.Mask.Dim(-1))
	}
	o := mx.ScaledDotProductAttention(q, k, v, opts)
	o = mx.Reshape(mx.Transpose(o, 0, 2, 1, 3), b, l, g.NHeads*g.HeadDim)
	return g.OProj.Forward(o)
}

// Llama4MoE is Llama 4's mixture: the top-k router logits, through a sigmoid, scale the inputs
// of their experts (the others get a zero input, hence a zero output: the experts have no
// biases), and a shared expert sees every token.
type Llama4MoE struct {
	Router  *nn.Linear
	Experts []*core.MLP
	Shared  *core.MLP `nn:"shared_expert"`
	TopK    int       `nn:"-"`
}

// Forward applies the mixture to x (B, L, d).
func (e *Llama4MoE) Forward(x *mx.Array, ctx *core.Context) *mx.Array {
	logits := mx.AsType(e.Router.Forward(x), mx.Float32)
	vals, idx := mx.TopK(logits, e.TopK, -1)
	full := mx.PutAlongAxis(mx.FullLike(logits, math.Inf(-1)), idx, vals, -1)
	w := mx.AsType(mx.Sigmoid(full), x.DType())
	out := e.Shared.Forward(x, ctx)
	for i, ex := range e.Experts {
		out = mx.Add(out, ex.Forward(mx.Mul(x, mx.SliceAxis(w, -1, i, i+1)), ctx))
	}
	return out
}

// splitLlama4Experts splits the stacked expert tensors: gate_up_proj (E, d, 2·I), gate first,
// and down_proj (E, I, d), both applied as x·W, into per-expert (out, in) Linear weights.
func splitLlama4Experts() rule {
	re := regexp.MustCompile(`^model\.layers\.(\d+)\.feed_forward\.experts\.(gate_up_proj|down_proj)$`)
	return rule{re, func(m []string, a *mx.Array) (map[string]*mx.Array, error) {
		if a.NDim() != 3 {
			return nil, fmt.Errorf("%s: want 3 dimensions, got %v", m[0], a.Shape())
		}
		out := map[string]*mx.Array{}
		for e := 0; e < a.Dim(0); e++ {
			w := mx.Transpose(mx.Squeeze(mx.SliceAxis(a, 0, e, e+1), 0)) // (out, in)
			pre := fmt.Sprintf("blocks.%s.ffn.experts.%d.", m[1], e)
			if m[2] == "down_proj" {
				out[pre+"down.weight"] = w
				continue
			}
			n := w.Dim(0)
			if n%2 != 0 {
				return nil, fmt.Errorf("%s: odd fused gate_up width %d", m[0], n)
			}
			out[pre+"gate.weight"] = mx.SliceAxis(w, 0, 0, n/2)
			out[pre+"up.weight"] = mx.SliceAxis(w, 0, n/2, n)
		}
		return out, nil
	}}
}

var llama4Rules = []rule{
	rename(`model\.embed_tokens\.weight`, "embed.weight"),
	rename(`model\.layers\.(\d+)\.input_layernorm\.weight`, "blocks.$1.attn_norm.weight"),
	rename(`model\.layers\.(\d+)\.post_attention_layernorm\.weight`, "blocks.$1.ffn_norm.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q|k|v|o)_proj\.(weight|bias)`, "blocks.$1.attention.${2}_proj.$3"),
	rename(`model\.layers\.(\d+)\.feed_forward\.router\.weight`, "blocks.$1.ffn.router.weight"),
	splitLlama4Experts(),
	rename(`model\.layers\.(\d+)\.feed_forward\.shared_expert\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.shared_expert.$2.weight"),
	rename(`model\.layers\.(\d+)\.feed_forward\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.$2.weight"),
	rename(`model\.norm\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}
