package hf

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Qwen3-Next alternates gated DeltaNet layers ("linear_attention") with gated attention
// ("full_attention"), every layer with a MoE whose shared expert is scaled by
// sigmoid(shared_expert_gate(x)). Its RMSNorms (layer, final, q/k) multiply by (1 + w), so those
// weights are loaded as w + 1.
//
// Gated attention: q_proj gives per head [query | gate]; the attention output is multiplied by
// sigmoid(gate) before o_proj; q/k are RMS-normed per head before the partial RoPE.
//
// Gated DeltaNet: in_proj_qkvz gives per key-head group [q | k | v | z] and in_proj_ba per
// group [b | a]; q, k, v pass a causal depthwise conv with SiLU; q and k are L2-normalised and
// repeated to the value heads, q scaled by dk^-1/2; with β = sigmoid(b) and
// g = -exp(A_log)·softplus(a + dt_bias), per head S ← S·e^g; S ← S + k⊗β(v - Sᵀk); o = Sᵀq.
// The output is RMS-normed per head (weight w), multiplied by silu(z), and projected.

// qwen3NextConfig maps a qwen3_next config.json.
func qwen3NextConfig(rc rawConfig) (models.ModelConfig, error) {
	cfg, err := llamaFamilyConfig(rc)
	if err != nil {
		return cfg, err
	}
	cfg.Block.QKNorm = true
	cfg.BlockConfigs = make([]core.BlockConfig, cfg.NLayers)
	for i := range cfg.BlockConfigs {
		b := cfg.Block
		if qwen3NextLinear(rc, i) {
			b.NHeads, b.NKVHeads, b.HeadDim, b.QKNorm = 1, 1, 1, false // placeholder, replaced at load
			b.Position, b.RopeDims = "none", 0
		}
		cfg.BlockConfigs[i] = b
	}
	if rc.NumExpertsPerTok <= 0 || experts(rc) < rc.NumExpertsPerTok {
		return cfg, fmt.Errorf("qwen3_next: need 0 < num_experts_per_tok <= num_experts")
	}
	return cfg, nil
}

func qwen3NextLinear(rc rawConfig, i int) bool {
	if i < len(rc.LayerTypes) {
		return rc.LayerTypes[i] == "linear_attention"
	}
	return (i+1)%4 != 0 // the default: every fourth layer is full attention
}

// adaptQwen3Next installs the DeltaNet and gated-attention mixers and the MoEs.
func adaptQwen3Next(rc rawConfig, m *models.LanguageModel) error {
	hk, hv, dk, dv := rc.LinearNumKeyHeads, rc.LinearNumValueHeads, rc.LinearKeyHeadDim, rc.LinearValueHeadDim
	if hk <= 0 || hv%hk != 0 {
		return fmt.Errorf("qwen3_next: linear_num_value_heads %d is not a multiple of linear_num_key_heads %d", hv, hk)
	}
	kernel := rc.LinearConvKernelDim
	if kernel == 0 {
		kernel = 4
	}
	for i, b := range m.Blocks {
		d := b.Config.DModel
		if qwen3NextLinear(rc, i) {
			conv := 2*hk*dk + hv*dv
			b.Attention = &GatedDeltaNet{InProjQKVZ: nn.NewLinear(d, 2*hk*dk+2*hv*dv, false, nil),
				InProjBA: nn.NewLinear(d, 2*hv, false, nil), ConvWeight: mx.Zeros([]int{conv, 1, kernel}, mx.Float32),
				ALog: mx.Zeros([]int{hv}, mx.Float32), DtBias: mx.Zeros([]int{hv}, mx.Float32),
				Norm: nn.NewRMSNorm(dv, rc.RMSNormEps), OutProj: nn.NewLinear(hv*dv, d, false, nil),
				KHeads: hk, VHeads: hv, KDim: dk, VDim: dv, Kernel: kernel}
		} else {
			gqa, ok := b.Attention.(*core.GQA)
			if !ok {
				return fmt.Errorf("qwen3_next: layer %d attention is %T, want *core.GQA", i, b.Attention)
			}
			gqa.QProj = nn.NewLinear(d, 2*gqa.NHeads*gqa.HeadDim, b.Config.QKVBias != nil && *b.Config.QKVBias, nil)
			b.Attention = &GatedAttention{GQA: gqa}
		}
		if !isMoELayer(rc, i) {
			continue
		}
		mlp := func(dff int) *core.MLP {
			return &core.MLP{Gate: nn.NewLinear(d, dff, false, nil), Up: nn.NewLinear(d, dff, false, nil),
				Down: nn.NewLinear(dff, d, false, nil), Activation: b.Config.Activation}
		}
		moe := &MoE{Router: nn.NewLinear(d, experts(rc), false, nil), TopK: rc.NumExpertsPerTok, Normalize: rc.NormTopKProb}
		for range experts(rc) {
			moe.Experts = append(moe.Experts, mlp(rc.MoeIntermediateSize))
		}
		if rc.SharedExpertIntermediateSize > 0 {
			moe.Shared, moe.SharedGate = mlp(rc.SharedExpertIntermediateSize), nn.NewLinear(d, 1, false, nil)
		}
		b.FFN = moe
	}
	return nil
}

// GatedAttention is GQA whose q_proj also yields a per-head output gate (Qwen3-Next).
type GatedAttention struct {
	*core.GQA
}

// NewStaticCache reports that the gated attention decodes eagerly only (its Forward reads
// Context.Offset).
func (a *GatedAttention) NewStaticCache(int, int, mx.DType) (core.Cache, error) {
	return nil, fmt.Errorf("qwen3_next gated attention has no static decoding")
}

// Forward runs the attention; with a cache, keys and values are appended to it first.
func (a *GatedAttention) Forward(x *mx.Array, ctx *core.Context, cache core.Cache) *mx.Array {
	g := a.GQA
	b, l := x.Dim(0), x.Dim(1)
	qg := mx.Reshape(g.QProj.Forward(x), b, l, g.NHeads, 2*g.HeadDim)
	q := mx.Transpose(mx.SliceAxis(qg, -1, 0, g.HeadDim), 0, 2, 1, 3)
	gate := mx.Reshape(mx.SliceAxis(qg, -1, g.HeadDim, 2*g.HeadDim), b, l, g.NHeads*g.HeadDim)
	k := headsOf(g.KProj.Forward(x), g.NKVHeads, g.HeadDim)
	v := headsOf(g.VProj.Forward(x), g.NKVHeads, g.HeadDim)
	if g.QNorm != nil {
		q, k = g.QNorm.Forward(q), g.KNorm.Forward(k)
	}
	if g.RoPE != nil {
		q, k = g.RoPE.Apply(q, ctx.Offset, 0), g.RoPE.Apply(k, ctx.Offset, 0)
	}
	if cache != nil {
		k, v = cache.(*core.KVCache).Update(k, v)
	}
	opts := mx.AttentionOptions{Scale: g.Scale, Causal: true, Window: g.Window, Mask: ctx.Mask}
	if opts.Mask != nil && opts.Mask.Dim(-1) != k.Dim(2) {
		opts.Mask = mx.SliceAxis(opts.Mask, -1, opts.Mask.Dim(-1)-k.Dim(2), opts.Mask.Dim(-1))
	}
	o := mx.ScaledDotProductAttention(q, k, v, opts)
	o = mx.Reshape(mx.Transpose(o, 0, 2, 1, 3), b, l, g.NHeads*g.HeadDim)
	return g.OProj.Forward(mx.Mul(o, mx.Sigmoid(gate)))
}

// GatedDeltaNet is Qwen3-Next's linear-attention mixer (see the notes in qwen3_next.go).
type GatedDeltaNet struct {
	InProjQKVZ *nn.Linear `nn:"in_proj_qkvz"`
	InProjBA   *nn.Linear `nn:"in_proj_ba"`
	ConvWeight *mx.Array  `nn:"conv1d.weight"`
	ALog       *mx.Array  `nn:"a_log"`
	DtBias     *mx.Array  `nn:"dt_bias"`
	Norm       *nn.RMSNorm
	OutProj    *nn.Linear

	KHeads, VHeads, KDim, VDim, Kernel int `nn:"-"`
}

// NewCache makes the conv window and the (B, Hv, dk, dv) state.
func (n *GatedDeltaNet) NewCache(batch, _ int) core.Cache {
	return &ssmCache{Conv: mx.Zeros([]int{batch, n.Kernel - 1, 2*n.KHeads*n.KDim + n.VHeads*n.VDim}, mx.Float32),
		State: mx.Zeros([]int{batch, n.VHeads, n.KDim, n.VDim}, mx.Float32)}
}

// l2norm is x·rsqrt(Σx² + 1e-6) over the last axis.
func l2norm(x *mx.Array) *mx.Array {
	return mx.Mul(x, mx.Rsqrt(mx.AddScalar(mx.Sum(mx.Square(x), []int{-1}, true), 1e-6)))
}

// Forward runs the mixer on x (B, L, d), continuing from the cache when given.
func (n *GatedDeltaNet) Forward(x *mx.Array, _ *core.Context, cache core.Cache) *mx.Array {
	b, l := x.Dim(0), x.Dim(1)
	hk, hv, dk, dv, r := n.KHeads, n.VHeads, n.KDim, n.VDim, n.VHeads/n.KHeads
	qkvz := mx.Reshape(n.InProjQKVZ.Forward(x), b, l, hk, 2*dk+2*r*dv)
	ba := mx.Reshape(n.InProjBA.Forward(x), b, l, hk, 2*r)
	q := mx.Reshape(mx.SliceAxis(qkvz, -1, 0, dk), b, l, hk*dk)
	k := mx.Reshape(mx.SliceAxis(qkvz, -1, dk, 2*dk), b, l, hk*dk)
	v := mx.Reshape(mx.SliceAxis(qkvz, -1, 2*dk, 2*dk+r*dv), b, l, hv*dv)
	z := mx.Reshape(mx.SliceAxis(qkvz, -1, 2*dk+r*dv, 2*dk+2*r*dv), b, l, hv, dv)
	beta := mx.Sigmoid(mx.Reshape(mx.SliceAxis(ba, -1, 0, r), b, l, hv))
	a := mx.Reshape(mx.SliceAxis(ba, -1, r, 2*r), b, l, hv)
	g := mx.Mul(mx.MulScalar(mx.Exp(n.ALog), -1), mx.Softplus(mx.Add(a, n.DtBias))) // (B, L, Hv)

	var c *ssmCache
	if cache != nil {
		c = cache.(*ssmCache)
	} else {
		c = n.NewCache(b, 0).(*ssmCache)
	}
	mixed := mx.Concatenate([]*mx.Array{q, k, v}, -1)
	conv := mixed.Dim(-1)
	y, newConv := causalConv(mixed, c.Conv, n.ConvWeight, nil, n.Kernel)
	y = mx.SiLU(y)
	repeat := func(a *mx.Array) *mx.Array { // (B, L, Hk, dk) → (B, L, Hv, dk), head h reads h/r
		a = mx.BroadcastTo(mx.ExpandDims(a, 3), b, l, hk, r, dk)
		return mx.Reshape(a, b, l, hv, dk)
	}
	qh := repeat(l2norm(mx.Reshape(mx.SliceAxis(y, -1, 0, hk*dk), b, l, hk, dk)))
	kh := repeat(l2norm(mx.Reshape(mx.SliceAxis(y, -1, hk*dk, 2*hk*dk), b, l, hk, dk)))
	vh := mx.Reshape(mx.SliceAxis(y, -1, 2*hk*dk, conv), b, l, hv, dv)
	qh = mx.MulScalar(qh, 1/math.Sqrt(float64(dk)))
	state := mx.AsType(c.State, x.DType())
	outs := make([]*mx.Array, l)
	for t := 0; t < l; t++ {
		at := func(v *mx.Array) *mx.Array { return mx.Squeeze(mx.SliceAxis(v, 1, t, t+1), 1) }
		qt, kt, vt := at(qh), at(kh), at(vh) // (B, Hv, dk), (B, Hv, dk), (B, Hv, dv)
		gt := mx.Reshape(mx.Exp(at(g)), b, hv, 1, 1)
		bt := mx.ExpandDims(at(beta), -1) // (B, Hv, 1)
		state = mx.Mul(state, gt)
		mem := mx.Sum(mx.Mul(state, mx.ExpandDims(kt, -1)), []int{-2}, false) // (B, Hv, dv)
		delta := mx.Mul(mx.Sub(vt, mem), bt)
		state = mx.Add(state, mx.Mul(mx.ExpandDims(kt, -1), mx.ExpandDims(delta, -2)))
		outs[t] = mx.Sum(mx.Mul(state, mx.ExpandDims(qt, -1)), []int{-2}, false)
	}
	o := mx.Stack(outs, 1) // (B, L, Hv, dv)
	if cache != nil {
		c.Conv, c.State, c.n = newConv, state, c.n+l
	}
	o = mx.Mul(n.Norm.Forward(o), mx.SiLU(z))
	return n.OutProj.Forward(mx.Reshape(o, b, l, hv*dv))
}

var qwen3NextRules = []rule{
	rename(`model\.embed_tokens\.weight`, "embed.weight"),
	plusOne(`model\.layers\.(\d+)\.input_layernorm\.weight`, "blocks.$1.attn_norm.weight"),
	plusOne(`model\.layers\.(\d+)\.post_attention_layernorm\.weight`, "blocks.$1.ffn_norm.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q|k|v|o)_proj\.(weight|bias)`, "blocks.$1.attention.${2}_proj.$3"),
	plusOne(`model\.layers\.(\d+)\.self_attn\.(q|k)_norm\.weight`, "blocks.$1.attention.${2}_norm.weight"),
	rename(`model\.layers\.(\d+)\.linear_attn\.(in_proj_qkvz|in_proj_ba|out_proj)\.weight`, "blocks.$1.attention.$2.weight"),
	rename(`model\.layers\.(\d+)\.linear_attn\.conv1d\.weight`, "blocks.$1.attention.conv1d.weight"),
	rename(`model\.layers\.(\d+)\.linear_attn\.A_log`, "blocks.$1.attention.a_log"),
	rename(`model\.layers\.(\d+)\.linear_attn\.dt_bias`, "blocks.$1.attention.dt_bias"),
	rename(`model\.layers\.(\d+)\.linear_attn\.norm\.weight`, "blocks.$1.attention.norm.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.gate\.weight`, "blocks.$1.ffn.router.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.experts.$2.$3.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.shared_expert\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.shared_expert.$2.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.shared_expert_gate\.weight`, "blocks.$1.ffn.shared_expert_gate.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.$2.weight"),
	plusOne(`model\.norm\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}
