package core

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/nn"
)

func init() {
	Attentions.Register("mha", newGQA)
	Attentions.Register("gqa", newGQA)
	Attentions.Register("sliding_window_gqa", func(cfg BlockConfig, key *mx.Array) (Mixer, error) {
		if cfg.WindowSize <= 0 {
			return nil, fmt.Errorf("sliding_window_gqa needs window_size > 0, got %d", cfg.WindowSize)
		}
		return newGQA(cfg, key)
	})
	Attentions.Register("chunked_gqa", func(cfg BlockConfig, key *mx.Array) (Mixer, error) {
		if cfg.AttentionChunkSize <= 0 {
			return nil, fmt.Errorf("chunked_gqa needs attention_chunk_size > 0, got %d", cfg.AttentionChunkSize)
		}
		return newGQA(cfg, key)
	})
	Attentions.Register("none", func(BlockConfig, *mx.Array) (Mixer, error) { return NoAttention{}, nil })
}

// GQA is multi-head attention with grouped key/value heads: MHA when KV heads equal query heads,
// MQA with one KV head. Sliding-window and chunked variants only change the mask.
type GQA struct {
	QProj *nn.Linear
	KProj *nn.Linear
	VProj *nn.Linear
	OProj *nn.Linear
	QNorm *nn.RMSNorm // qk-norm (OLMo-2 / Qwen 3), nil when off
	KNorm *nn.RMSNorm

	NHeads, NKVHeads, HeadDim int     `nn:"-"`
	Scale                     float64 `nn:"-"`
	Window, Chunk             int     `nn:"-"`
	RoPE                      *RoPE   `nn:"-"`
	ALiBi                     *ALiBi  `nn:"-"`
}

func newGQA(cfg BlockConfig, key *mx.Array) (Mixer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, kv, hd, d := cfg.NHeads, cfg.KVHeads(), cfg.HeadDimension(), cfg.DModel
	keys := splitKeys(key, 4)
	a := &GQA{
		QProj:    nn.NewLinear(d, h*hd, cfg.qkvBias(), keys[0]),
		KProj:    nn.NewLinear(d, kv*hd, cfg.qkvBias(), keys[1]),
		VProj:    nn.NewLinear(d, kv*hd, cfg.qkvBias(), keys[2]),
		OProj:    nn.NewLinear(h*hd, d, cfg.outBias(), keys[3]),
		NHeads:   h,
		NKVHeads: kv,
		HeadDim:  hd,
		Scale:    1 / math.Sqrt(float64(hd)),
	}
	if cfg.Mup {
		a.Scale = 1 / float64(hd) // µP attention scale
	}
	if cfg.QKNorm {
		a.QNorm, a.KNorm = nn.NewRMSNorm(hd, cfg.NormEps), nn.NewRMSNorm(hd, cfg.NormEps)
	}
	switch cfg.Attention {
	case "sliding_window_gqa":
		a.Window = cfg.WindowSize
	case "chunked_gqa":
		a.Chunk = cfg.AttentionChunkSize
	}
	switch cfg.Position {
	case "rope":
		r, err := NewRoPE(cfg)
		if err != nil {
			return nil, err
		}
		a.RoPE = r
	case "alibi":
		a.ALiBi = NewALiBi(h)
	}
	return a, nil
}

// heads reshapes (B, L, H*hd) to (B, H, L, hd).
func heads(x *mx.Array, h, hd int) *mx.Array {
	return mx.Transpose(mx.Reshape(x, x.Dim(0), x.Dim(1), h, hd), 0, 2, 1, 3)
}

// Forward runs attention; with a cache, keys and values are appended to it first. With
// ctx.Position set it decodes statically (see Context.Position): the cache, if any, must be
// static.
func (a *GQA) Forward(x *mx.Array, ctx *Context, cache Cache) *mx.Array {
	b, l := x.Dim(0), x.Dim(1)
	qx, kx, vx := a.project(x)
	q := heads(qx, a.NHeads, a.HeadDim)
	k := heads(kx, a.NKVHeads, a.HeadDim)
	v := heads(vx, a.NKVHeads, a.HeadDim)
	if a.QNorm != nil {
		q, k = a.QNorm.Forward(q), a.KNorm.Forward(k)
	}
	var opts mx.AttentionOptions
	if ctx.Position != nil {
		q, k, v, opts = a.staticAttention(q, k, v, x.DType(), ctx, cache)
	} else {
		q, k, v, opts = a.dynamicAttention(q, k, v, x.DType(), ctx, cache)
	}
	o := mx.ScaledDotProductAttention(q, k, v, opts)
	o = mx.Reshape(mx.Transpose(o, 0, 2, 1, 3), b, l, a.NHeads*a.HeadDim)
	return a.OProj.Forward(o)
}

// fusedQKVRows is the number of rows (batch × length) from which project multiplies by the
// three projections at once: below it (decoding) the weights' concatenation would cost more
// than it saves.
const fusedQKVRows = 1024

// project computes the query, key and value projections of x. For long inputs on a device that
// prefers it (prim.Traits.SharedInputProducts: the gpu) it multiplies x once by the
// concatenated weights [Wq; Wk; Wv] and splits the result: the same arithmetic, but under
// autodiff the input's gradient is then one matrix product over the concatenated output
// gradients (one read of them) instead of three products summed, and the three bias gradients
// one reduction. On the cpu the separate products are faster (5% of a d256 training step).
func (a *GQA) project(x *mx.Array) (q, k, v *mx.Array) {
	return a.projectWith(x, x.Device().Traits().SharedInputProducts)
}

func (a *GQA) projectWith(x *mx.Array, fuse bool) (q, k, v *mx.Array) {
	ps := []*nn.Linear{a.QProj, a.KProj, a.VProj}
	if !fuse || x.Size()/x.Dim(-1) < fusedQKVRows || (a.QProj.Bias == nil) != (a.KProj.Bias == nil) || (a.QProj.Bias == nil) != (a.VProj.Bias == nil) {
		return a.QProj.Forward(x), a.KProj.Forward(x), a.VProj.Forward(x)
	}
	ws := make([]*mx.Array, 3)
	for i, p := range ps {
		ws[i] = mx.AsType(p.Weight, x.DType())
	}
	y := mx.MatmulT(x, mx.Concatenate(ws, 0))
	if a.QProj.Bias != nil {
		bs := make([]*mx.Array, 3)
		for i, p := range ps {
			bs[i] = mx.AsType(p.Bias, y.DType())
		}
		y = mx.Add(y, mx.Concatenate(bs, 0))
	}
	nq, nk := a.QProj.OutDim(), a.KProj.OutDim()
	return mx.SliceAxis(y, -1, 0, nq), mx.SliceAxis(y, -1, nq, nq+nk), mx.SliceAxis(y, -1, nq+nk, nq+nk+a.VProj.OutDim())
}

// dynamicAttention positions q and k at ctx.Offset, appends k and v to a dynamic cache, and
// masks with the attention kernel's structural masks (the queries are the last keys).
func (a *GQA) dynamicAttention(q, k, v *mx.Array, dt mx.DType, ctx *Context, cache Cache) (_, _, _ *mx.Array, opts mx.AttentionOptions) {
	if a.RoPE != nil {
		q, k = a.RoPE.Apply(q, ctx.Offset, a.Chunk), a.RoPE.Apply(k, ctx.Offset, a.Chunk)
	}
	if cache != nil {
		k, v = cache.(*KVCache).Update(k, v)
	}
	opts = mx.AttentionOptions{Scale: a.Scale, Causal: true, Window: a.Window, Chunk: a.Chunk, Mask: ctx.Mask}
	if opts.Mask != nil && opts.Mask.Dim(-1) != k.Dim(2) {
		opts.Mask = mx.SliceAxis(opts.Mask, -1, opts.Mask.Dim(-1)-k.Dim(2), opts.Mask.Dim(-1))
	}
	if a.ALiBi != nil {
		opts.Mask = withBias(a.ALiBi.Bias(q.Dim(2), k.Dim(2), dt), opts.Mask)
	}
	return q, k, v, opts
}

// staticAttention positions q and k at the run-time ctx.Position, writes k and v into a static
// cache there, and masks the cache's whole capacity by position: key j (at position j) is
// visible to query i (at position+i) as VisibleKeys says.
func (a *GQA) staticAttention(q, k, v *mx.Array, dt mx.DType, ctx *Context, cache Cache) (_, _, _ *mx.Array, opts mx.AttentionOptions) {
	pos, l := ctx.Position, q.Dim(2)
	if a.RoPE != nil {
		q, k = a.RoPE.ApplyAt(q, pos, a.Chunk), a.RoPE.ApplyAt(k, pos, a.Chunk)
	}
	qpos := PositionsFrom(pos, l)
	kpos := qpos
	if cache != nil {
		kc := cache.(*KVCache)
		k, v = kc.UpdateAt(k, v, pos)
		kpos = mx.Arange(0, float64(kc.Capacity()), 1, mx.Int32)
	}
	vis := VisibleKeys(qpos, kpos, a.Window, a.Chunk)
	mask := ctx.Mask
	if mask != nil {
		if mask.Dim(-1) != k.Dim(2) {
			panic(fmt.Sprintf("core.GQA: with a run-time position the mask must cover all %d keys, got shape %v", k.Dim(2), mask.Shape()))
		}
		if mask.DType() == mx.Bool {
			mask = mx.LogicalAnd(vis, mask)
		} else {
			mask = mx.Where(vis, mask, mx.FullLike(mask, math.Inf(-1)))
		}
	} else {
		mask = vis
	}
	if a.ALiBi != nil {
		mask = withBias(a.ALiBi.BiasAt(qpos, kpos, dt), mask)
	}
	return q, k, v, mx.AttentionOptions{Scale: a.Scale, Mask: mask}
}

// withBias combines an additive bias with an optional keep (bool) or additive mask.
func withBias(bias, mask *mx.Array) *mx.Array {
	switch {
	case mask == nil:
		return bias
	case mask.DType() == mx.Bool:
		return mx.Where(mask, bias, mx.FullLike(bias, math.Inf(-1)))
	}
	return mx.Add(bias, mask)
}

// NewCache makes a dynamic KV cache for this layer.
func (a *GQA) NewCache(batch, capacity int) Cache {
	return NewKVCache(batch, a.NKVHeads, capacity, a.HeadDim, a.Window)
}

// NewStaticCache makes a static KV cache of dtype dt for this layer.
func (a *GQA) NewStaticCache(batch, capacity int, dt mx.DType) (Cache, error) {
	return NewStaticKVCache(batch, a.NKVHeads, capacity, a.HeadDim, a.Window, dt), nil
}

// NoAttention is the "none" mixer: the block skips its attention sublayer entirely.
type NoAttention struct{}

// Forward returns x unchanged (never called by ConfigurableBlock, which skips the sublayer).
func (NoAttention) Forward(x *mx.Array, _ *Context, _ Cache) *mx.Array { return x }

// NewCache returns nil: nothing to remember.
func (NoAttention) NewCache(int, int) Cache { return nil }

// splitKeys derives n independent keys from key; with a nil key every entry is nil (the default
// key is then advanced by each initialiser).
func splitKeys(key *mx.Array, n int) []*mx.Array {
	out := make([]*mx.Array, n)
	if key == nil {
		return out
	}
	ks := random.Split(key, n)
	for i := range out {
		out[i] = random.At(ks, i)
	}
	return out
}
