package hf

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Gemma 2's decoder layer is
//
//	x += post_attention_layernorm(attn(input_layernorm(x)))
//	x += post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x)))
//
// with attention scores soft-capped (c·tanh(s/c), before the mask) and scaled by
// query_pre_attn_scalar^-0.5. The core block has no norms after its sublayers, so Load wraps
// each block's mixer and FFN (adaptModel): the wrappers add the post norms (parameters
// blocks.i.attention.post_norm and blocks.i.ffn.post_norm) and the soft-capped attention, which
// the fused attention kernel cannot do, so it is computed with explicit scores.

var gemma2Rules = []rule{
	rename(`model\.embed_tokens\.weight`, "embed.weight"),
	plusOne(`model\.layers\.(\d+)\.input_layernorm\.weight`, "blocks.$1.attn_norm.weight"),
	plusOne(`model\.layers\.(\d+)\.post_attention_layernorm\.weight`, "blocks.$1.attention.post_norm.weight"),
	plusOne(`model\.layers\.(\d+)\.pre_feedforward_layernorm\.weight`, "blocks.$1.ffn_norm.weight"),
	plusOne(`model\.layers\.(\d+)\.post_feedforward_layernorm\.weight`, "blocks.$1.ffn.post_norm.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q|k|v|o)_proj\.(weight|bias)`, "blocks.$1.attention.${2}_proj.$3"),
	rename(`model\.layers\.(\d+)\.mlp\.gate_proj\.(weight|bias)`, "blocks.$1.ffn.gate.$2"),
	rename(`model\.layers\.(\d+)\.mlp\.up_proj\.(weight|bias)`, "blocks.$1.ffn.up.$2"),
	rename(`model\.layers\.(\d+)\.mlp\.down_proj\.(weight|bias)`, "blocks.$1.ffn.down.$2"),
	plusOne(`model\.layers\.(\d+)\.self_attn\.(q|k)_norm\.weight`, "blocks.$1.attention.${2}_norm.weight"),
	plusOne(`model\.norm\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}

// adaptGemma wraps each block's mixer and FFN with Gemma 2/3's post norms (and Gemma 2's
// soft-capped attention).
func adaptGemma(rc rawConfig, m *models.LanguageModel) error {
	softcap := 0.0
	if rc.AttnLogitSoftcapping != nil {
		softcap = *rc.AttnLogitSoftcapping
	}
	for i, b := range m.Blocks {
		gqa, ok := b.Attention.(*core.GQA)
		if !ok {
			return fmt.Errorf("gemma2: layer %d attention is %T, want *core.GQA", i, b.Attention)
		}
		if rc.QueryPreAttnScalar > 0 {
			gqa.Scale = 1 / math.Sqrt(rc.QueryPreAttnScalar)
		}
		eps := b.Config.NormEps
		b.Attention = &PostNormAttention{GQA: gqa, PostNorm: nn.NewRMSNorm(b.Config.DModel, eps), Softcap: softcap}
		b.FFN = &PostNormFFN{FFN: b.FFN, PostNorm: nn.NewRMSNorm(b.Config.DModel, eps)}
	}
	return nil
}

// PostNormAttention is grouped-query attention followed by an RMSNorm of its output, with
// optional soft-capping of the attention scores (Gemma 2).
type PostNormAttention struct {
	*core.GQA
	PostNorm *nn.RMSNorm `nn:"post_norm"`
	Softcap  float64     `nn:"-"` // scores become Softcap·tanh(scores/Softcap) when > 0
}

// NewStaticCache makes the GQA's static cache; the soft-capped attention (Softcap > 0) decodes
// eagerly only.
func (a *PostNormAttention) NewStaticCache(batch, capacity int, dt mx.DType) (core.Cache, error) {
	if a.Softcap > 0 {
		return nil, fmt.Errorf("soft-capped attention has no static decoding")
	}
	return a.GQA.NewStaticCache(batch, capacity, dt)
}

// Forward runs the attention and normalises its output.
func (a *PostNormAttention) Forward(x *mx.Array, ctx *core.Context, cache core.Cache) *mx.Array {
	if a.Softcap <= 0 {
		return a.PostNorm.Forward(a.GQA.Forward(x, ctx, cache))
	}
	return a.PostNorm.Forward(a.softcapped(x, ctx, cache))
}

// softcapped is GQA.Forward with explicit scores: softmax(cap·tanh(q·kᵀ·scale/cap) + mask)·v.
func (a *PostNormAttention) softcapped(x *mx.Array, ctx *core.Context, cache core.Cache) *mx.Array {
	g := a.GQA
	b, l := x.Dim(0), x.Dim(1)
	q := headsOf(g.QProj.Forward(x), g.NHeads, g.HeadDim)
	k := headsOf(g.KProj.Forward(x), g.NKVHeads, g.HeadDim)
	v := headsOf(g.VProj.Forward(x), g.NKVHeads, g.HeadDim)
	if g.QNorm != nil {
		q, k = g.QNorm.Forward(q), g.KNorm.Forward(k)
	}
	if g.RoPE != nil {
		q, k = g.RoPE.Apply(q, ctx.Offset, g.Chunk), g.RoPE.Apply(k, ctx.Offset, g.Chunk)
	}
	if cache != nil {
		k, v = cache.(*core.KVCache).Update(k, v)
	}
	lk, grp := k.Dim(2), g.NHeads/g.NKVHeads
	// (B, Hkv, G, L, hd) against (B, Hkv, 1, Lk, hd): query head h reads KV head h/G.
	q5 := mx.Reshape(q, b, g.NKVHeads, grp, l, g.HeadDim)
	s := mx.MulScalar(mx.MatmulT(q5, mx.ExpandDims(k, 2)), g.Scale)
	s = mx.MulScalar(mx.Tanh(mx.DivScalar(s, a.Softcap)), a.Softcap)
	s = mx.Reshape(s, b, g.NHeads, l, lk)
	keep := make([]bool, l*lk)
	for i := 0; i < l; i++ {
		pos := lk - l + i
		for j := 0; j < lk; j++ {
			ok := j <= pos && (g.Window <= 0 || j > pos-g.Window) && (g.Chunk <= 0 || j/g.Chunk == pos/g.Chunk)
			keep[i*lk+j] = ok
		}
	}
	neg := mx.FullLike(s, math.Inf(-1))
	s = mx.Where(mx.FromSlice(keep, 1, 1, l, lk), s, neg)
	if m := ctx.Mask; m != nil {
		if m.Dim(-1) != lk {
			m = mx.SliceAxis(m, -1, m.Dim(-1)-lk, m.Dim(-1))
		}
		if m.DType() == mx.Bool {
			s = mx.Where(m, s, neg)
		} else {
			s = mx.Add(s, mx.AsType(m, s.DType()))
		}
	}
	p := mx.Reshape(mx.Softmax(s, -1), b, g.NKVHeads, grp, l, lk)
	o := mx.Reshape(mx.Matmul(p, mx.ExpandDims(v, 2)), b, g.NHeads, l, g.HeadDim)
	o = mx.Reshape(mx.Transpose(o, 0, 2, 1, 3), b, l, g.NHeads*g.HeadDim)
	return g.OProj.Forward(o)
}

// headsOf reshapes (B, L, H*hd) to (B, H, L, hd).
func headsOf(x *mx.Array, h, hd int) *mx.Array {
	return mx.Transpose(mx.Reshape(x, x.Dim(0), x.Dim(1), h, hd), 0, 2, 1, 3)
}

// PostNormFFN is a feed-forward network followed by an RMSNorm of its output (Gemma 2).
type PostNormFFN struct {
	core.FFN
	PostNorm *nn.RMSNorm `nn:"post_norm"`
}

// Forward runs the network and normalises its output.
func (f *PostNormFFN) Forward(x *mx.Array, ctx *core.Context) *mx.Array {
	return f.PostNorm.Forward(f.FFN.Forward(x, ctx))
}
