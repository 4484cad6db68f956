package hf

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// DeepSeek V2 and V3 are Llama-shaped with multi-head latent attention (MLA) and, from layer
// first_k_dense_replace on, a mixture of experts with shared experts.
//
// MLA: q = q_proj(x) (V3: q_b_proj(rms(q_a_proj(x)))), split per head into a nope part and a
// rope part; kv_a_proj_with_mqa(x) gives a latent (kv_lora_rank) and one shared rope key;
// kv_b_proj(rms(latent)) gives per-head nope keys and values. The rope parts are rotated
// (interleaved pairs) and appended to the nope parts; the scale is qk_head_dim^-0.5. The cache
// keeps the expanded keys and values.
//
// Routing: V2 ("greedy") takes the top k of the softmax; V3 takes the top k of
// sigmoid + e_score_correction_bias within the best topk_group of n_group groups (ranked by the
// sum of their two best scores) and weights by the plain sigmoid. Weights are renormalised when
// norm_topk_prob and multiplied by routed_scaling_factor.

// deepseekConfig maps a deepseek_v2 or deepseek_v3 config.json (the attention and MoE layers
// are installed by adaptDeepseek).
func deepseekConfig(rc rawConfig) (models.ModelConfig, error) {
	if rc.ModelType == "deepseek_v2" && rc.TopkMethod != "" && rc.TopkMethod != "greedy" {
		return models.ModelConfig{}, fmt.Errorf("deepseek_v2: topk_method %q is not supported (greedy)", rc.TopkMethod)
	}
	if rc.QKRopeHeadDim <= 0 || rc.KVLoraRank <= 0 || rc.VHeadDim <= 0 {
		return models.ModelConfig{}, fmt.Errorf("%s: needs qk_rope_head_dim, kv_lora_rank and v_head_dim", rc.ModelType)
	}
	rc.HeadDim = 0
	return llamaFamilyConfig(rc)
}

func deepseekMoELayer(rc rawConfig, i int) bool {
	freq := max(rc.MoeLayerFreq, 1)
	return rc.NRoutedExperts > 0 && i >= rc.FirstKDenseReplace && i%freq == 0
}

// adaptDeepseek installs MLA in every layer and the MoE in the MoE layers.
func adaptDeepseek(rc rawConfig, m *models.LanguageModel) error {
	h, nope, rope, vd := rc.NumAttentionHeads, rc.QKNopeHeadDim, rc.QKRopeHeadDim, rc.VHeadDim
	const eps = 1e-6 // the latent norms use DeepSeek's default RMSNorm eps
	for i, b := range m.Blocks {
		d := b.Config.DModel
		rcfg := b.Config
		rcfg.HeadDim, rcfg.RopeDims, rcfg.RopeTraditional = rope, 0, true
		r, err := core.NewRoPE(rcfg)
		if err != nil {
			return err
		}
		a := &MLA{KVAProj: nn.NewLinear(d, rc.KVLoraRank+rope, false, nil), KVANorm: nn.NewRMSNorm(rc.KVLoraRank, eps),
			KVBProj: nn.NewLinear(rc.KVLoraRank, h*(nope+vd), false, nil), OProj: nn.NewLinear(h*vd, d, false, nil),
			NHeads: h, Nope: nope, Rope: rope, VDim: vd, Scale: 1 / math.Sqrt(float64(nope+rope)), RoPE: r}
		if rc.QLoraRank != nil && *rc.QLoraRank > 0 {
			a.QAProj, a.QANorm = nn.NewLinear(d, *rc.QLoraRank, false, nil), nn.NewRMSNorm(*rc.QLoraRank, eps)
			a.QBProj = nn.NewLinear(*rc.QLoraRank, h*(nope+rope), false, nil)
		} else {
			a.QProj = nn.NewLinear(d, h*(nope+rope), false, nil)
		}
		b.Attention = a
		if !deepseekMoELayer(rc, i) {
			continue
		}
		act := b.Config.Activation
		mlp := func(dff int) *core.MLP {
			return &core.MLP{Gate: nn.NewLinear(d, dff, false, nil), Up: nn.NewLinear(d, dff, false, nil),
				Down: nn.NewLinear(dff, d, false, nil), Activation: act}
		}
		moe := &DeepseekMoE{Router: nn.NewLinear(d, rc.NRoutedExperts, false, nil), TopK: rc.NumExpertsPerTok,
			Normalize: rc.NormTopKProb, Scaling: rc.RoutedScalingFactor, V3: rc.ModelType == "deepseek_v3",
			Groups: max(rc.NGroup, 1), TopKGroup: max(rc.TopkGroup, 1)}
		if moe.Scaling == 0 {
			moe.Scaling = 1
		}
		if moe.V3 {
			moe.Bias = mx.Zeros([]int{rc.NRoutedExperts}, mx.Float32)
		}
		for range rc.NRoutedExperts {
			moe.Experts = append(moe.Experts, mlp(rc.MoeIntermediateSize))
		}
		if rc.NSharedExperts > 0 {
			moe.Shared = mlp(rc.MoeIntermediateSize * rc.NSharedExperts)
		}
		b.FFN = moe
	}
	return nil
}

// MLA is DeepSeek's multi-head latent attention (see the package notes in deepseek.go).
type MLA struct {
	QProj   *nn.Linear  // without q-LoRA
	QAProj  *nn.Linear  `nn:"q_a_proj"` // with q-LoRA
	QANorm  *nn.RMSNorm `nn:"q_a_layernorm"`
	QBProj  *nn.Linear  `nn:"q_b_proj"`
	KVAProj *nn.Linear  `nn:"kv_a_proj_with_mqa"`
	KVANorm *nn.RMSNorm `nn:"kv_a_layernorm"`
	KVBProj *nn.Linear  `nn:"kv_b_proj"`
	OProj   *nn.Linear

	NHeads, Nope, Rope, VDim int        `nn:"-"`
	Scale                    float64    `nn:"-"`
	RoPE                     *core.RoPE `nn:"-"`
}

// Forward runs the attention; with a cache, keys and values are appended to it first.
func (a *MLA) Forward(x *mx.Array, ctx *core.Context, cache core.Cache) *mx.Array {
	b, l := x.Dim(0), x.Dim(1)
	var q *mx.Array
	if a.QProj != nil {
		q = a.QProj.Forward(x)
	} else {
		q = a.QBProj.Forward(a.QANorm.Forward(a.QAProj.Forward(x)))
	}
	q = headsOf(q, a.NHeads, a.Nope+a.Rope)
	qPass, qRot := mx.SliceAxis(q, -1, 0, a.Nope), mx.SliceAxis(q, -1, a.Nope, a.Nope+a.Rope)
	ckv := a.KVAProj.Forward(x)
	lora := ckv.Dim(-1) - a.Rope
	kv := headsOf(a.KVBProj.Forward(a.KVANorm.Forward(mx.SliceAxis(ckv, -1, 0, lora))), a.NHeads, a.Nope+a.VDim)
	kPass, v := mx.SliceAxis(kv, -1, 0, a.Nope), mx.SliceAxis(kv, -1, a.Nope, a.Nope+a.VDim)
	kRot := mx.Reshape(mx.SliceAxis(ckv, -1, lora, lora+a.Rope), b, 1, l, a.Rope)
	qRot, kRot = a.RoPE.Apply(qRot, ctx.Offset, 0), a.RoPE.Apply(kRot, ctx.Offset, 0)
	kRot = mx.BroadcastTo(kRot, b, a.NHeads, l, a.Rope)
	q = mx.Concatenate([]*mx.Array{qPass, qRot}, -1)
	k := mx.Concatenate([]*mx.Array{kPass, kRot}, -1)
	if cache != nil {
		c := cache.(*mlaCache)
		k, _ = c.K.Update(k, k)
		v, _ = c.V.Update(v, v)
	}
	opts := mx.AttentionOptions{Scale: a.Scale, Causal: true, Mask: ctx.Mask}
	if opts.Mask != nil && opts.Mask.Dim(-1) != k.Dim(2) {
		opts.Mask = mx.SliceAxis(opts.Mask, -1, opts.Mask.Dim(-1)-k.Dim(2), opts.Mask.Dim(-1))
	}
	o := mx.ScaledDotProductAttention(q, k, v, opts)
	o = mx.Reshape(mx.Transpose(o, 0, 2, 1, 3), b, l, a.NHeads*a.VDim)
	return a.OProj.Forward(o)
}

// NewCache makes caches for the keys (nope+rope wide) and values (v_head_dim wide).
func (a *MLA) NewCache(batch, capacity int) core.Cache {
	return &mlaCache{K: core.NewKVCache(batch, a.NHeads, capacity, a.Nope+a.Rope, 0),
		V: core.NewKVCache(batch, a.NHeads, capacity, a.VDim, 0)}
}

// mlaCache keeps MLA's keys and values, which differ in width.
type mlaCache struct{ K, V *core.KVCache }

func (c *mlaCache) Len() int { return c.K.Len() }

func (c *mlaCache) Arrays() []*mx.Array { return []*mx.Array{c.K.K, c.V.V} }

// DeepseekMoE is DeepSeek's routed mixture plus shared experts.
type DeepseekMoE struct {
	Router  *nn.Linear `nn:"gate"`
	Bias    *mx.Array  `nn:"e_score_correction_bias"` // V3 only
	Experts []*core.MLP
	Shared  *core.MLP `nn:"shared_experts"`

	TopK, Groups, TopKGroup int     `nn:"-"`
	Normalize, V3           bool    `nn:"-"`
	Scaling                 float64 `nn:"-"`
}

// Forward applies the mixture to x (B, L, d).
func (e *DeepseekMoE) Forward(x *mx.Array, ctx *core.Context) *mx.Array {
	logits := mx.AsType(e.Router.Forward(x), mx.Float32)
	var vals, idx *mx.Array
	if !e.V3 {
		vals, idx = mx.TopK(mx.Softmax(logits, -1), e.TopK, -1)
	} else {
		scores := mx.Sigmoid(logits)
		choice := mx.Add(scores, e.Bias)
		n := choice.Dim(-1)
		shape := append(append([]int{}, choice.Shape()[:choice.NDim()-1]...), e.Groups, n/e.Groups)
		grouped := mx.Reshape(choice, shape...)
		top2, _ := mx.TopK(grouped, min(2, n/e.Groups), -1)
		groupScores := mx.Sum(top2, []int{-1}, false)
		_, gidx := mx.TopK(groupScores, e.TopKGroup, -1)
		gmask := mx.PutAlongAxis(mx.ZerosLike(groupScores), gidx, mx.OnesLike(mx.AsType(gidx, mx.Float32)), -1)
		keep := mx.Greater(mx.ExpandDims(gmask, -1), mx.ZerosLike(mx.ExpandDims(gmask, -1)))
		masked := mx.Reshape(mx.Where(mx.BroadcastTo(keep, shape...), grouped, mx.ZerosLike(grouped)), choice.Shape()...)
		_, idx = mx.TopK(masked, e.TopK, -1)
		vals = mx.TakeAlongAxis(scores, idx, -1)
	}
	if e.Normalize {
		vals = mx.Div(vals, mx.AddScalar(mx.Sum(vals, []int{-1}, true), 1e-20))
	}
	vals = mx.MulScalar(vals, e.Scaling)
	w := mx.AsType(mx.PutAlongAxis(mx.ZerosLike(logits), idx, vals, -1), x.DType())
	out := mixExperts(e.Experts, x, w, ctx)
	if e.Shared != nil {
		out = mx.Add(out, e.Shared.Forward(x, ctx))
	}
	return out
}

var deepseekRules = []rule{
	rename(`model\.embed_tokens\.weight`, "embed.weight"),
	rename(`model\.layers\.(\d+)\.input_layernorm\.weight`, "blocks.$1.attn_norm.weight"),
	rename(`model\.layers\.(\d+)\.post_attention_layernorm\.weight`, "blocks.$1.ffn_norm.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q_proj|q_a_proj|q_b_proj|kv_a_proj_with_mqa|kv_b_proj|o_proj)\.weight`, "blocks.$1.attention.$2.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q_a_layernorm|kv_a_layernorm)\.weight`, "blocks.$1.attention.$2.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.gate\.weight`, "blocks.$1.ffn.gate.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.gate\.e_score_correction_bias`, "blocks.$1.ffn.e_score_correction_bias"),
	rename(`model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.experts.$2.$3.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.shared_experts\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.shared_experts.$2.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.$2.weight"),
	rename(`model\.norm\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}
