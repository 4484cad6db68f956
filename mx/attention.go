package mx

import (
	"fmt"
	"math"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// AttentionOptions configures ScaledDotProductAttention. Query row i of Lq sits at absolute
// position pos = Lk - Lq + i: the queries are the last Lq positions of the keys, as in a decode
// step against a KV cache. The structural masks combine with each other and with Mask.
type AttentionOptions struct {
	// Scale multiplies the scores q·kᵀ; 0 means 1/sqrt(D).
	Scale float64
	// Causal lets a query see only keys j <= pos.
	Causal bool
	// Window, if > 0, lets a query see only keys j > pos - Window (sliding-window attention).
	Window int
	// Chunk, if > 0, lets a query see only keys in its own chunk: j/Chunk == pos/Chunk.
	Chunk int
	// Mask, if set, is an additive float mask or a boolean mask (true = keep), broadcastable to
	// (B, Hq, Lq, Lk). It receives no gradient.
	Mask *Array
}

// ScaledDotProductAttention computes softmax(q·kᵀ·scale + mask)·v with one fused kernel that
// never materializes the (Lq, Lk) scores. q is (B, Hq, Lq, D), k (B, Hkv, Lk, D) and
// v (B, Hkv, Lk, Dv); Hq must be a multiple of Hkv (grouped-query attention: query head h reads
// KV head h / (Hq/Hkv)). The result is (B, Hq, Lq, Dv). A query row that sees no key gives zeros.
// Gradients flow to q, k and v. Inside a transform (VJP, Compile tracing) the result is computed
// together with the rows' log-sum-exps, which the backward pass reuses instead of rerunning the
// forward pass; the values are the same bit for bit.
func ScaledDotProductAttention(q, k, v *Array, opts AttentionOptions) *Array {
	const name = "ScaledDotProductAttention"
	if q.NDim() != 4 || k.NDim() != 4 || v.NDim() != 4 {
		panic(fmt.Sprintf("mx.%s: q, k, v must be 4-d (B, H, L, D), got %v, %v, %v", name, q.shape, k.shape, v.shape))
	}
	b, hq, lq, d := q.shape[0], q.shape[1], q.shape[2], q.shape[3]
	hkv, lk := k.shape[1], k.shape[2]
	switch {
	case k.shape[0] != b || v.shape[0] != b:
		panic(fmt.Sprintf("mx.%s: batch sizes differ: q %v, k %v, v %v", name, q.shape, k.shape, v.shape))
	case k.shape[3] != d:
		panic(fmt.Sprintf("mx.%s: q %v and k %v differ in head size", name, q.shape, k.shape))
	case v.shape[1] != hkv || v.shape[2] != lk:
		panic(fmt.Sprintf("mx.%s: k %v and v %v differ in heads or length", name, k.shape, v.shape))
	case (hkv == 0 && hq != 0) || (hkv != 0 && hq%hkv != 0):
		panic(fmt.Sprintf("mx.%s: %d query heads (q %v) are not a multiple of %d KV heads (k %v)", name, hq, q.shape, hkv, k.shape))
	case opts.Window < 0 || opts.Chunk < 0:
		panic(fmt.Sprintf("mx.%s: negative window %d or chunk %d", name, opts.Window, opts.Chunk))
	}
	dt := floatType(resultType(resultType(q.dtype, k.dtype), v.dtype))
	scale := opts.Scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(max(d, 1)))
	}
	op := prim.ScaledDotProductAttention{
		Scale: scale,
		Mask:  prim.AttentionMask{Causal: opts.Causal, Window: opts.Window, Chunk: opts.Chunk},
	}
	ins := []*Array{AsType(q, dt), AsType(k, dt), AsType(v, dt)}
	if m := opts.Mask; m != nil {
		full := []int{b, hq, lq, lk}
		if m.NDim() > 4 || !slices.Equal(BroadcastShapes(name, m.shape, full), full) {
			panic(fmt.Sprintf("mx.%s: mask of shape %v does not broadcast to (B, Hq, Lq, Lk) = %v", name, m.shape, full))
		}
		if m.dtype != Bool && !m.dtype.IsFloat() {
			panic(fmt.Sprintf("mx.%s: mask must be bool or float, got %s", name, m.dtype))
		}
		for m.NDim() < 4 {
			m = ExpandDims(m, 0)
		}
		op.HasMask = true
		ins = append(ins, m)
	}
	shape := []int{b, hq, lq, v.shape[3]}
	if transformDepth.Load() == 0 {
		return newArray(op, shape, dt, ins...)
	}
	// Under a transform the result may be differentiated: compute it with the row log-sum-exps
	// that the backward pass needs, so that it does not rerun the forward pass.
	packed := attentionLSE(op, ins, shape)
	return AsType(unpack(packed, 0, shape), dt)
}

// attentionLSE is the ScaledDotProductAttentionLSE node of op's operands, whose attention output
// has the given shape.
func attentionLSE(op prim.ScaledDotProductAttention, ins []*Array, shape []int) *Array {
	n := prim.ShapeSize(shape) + shape[0]*shape[1]*shape[2]
	return newArray(prim.ScaledDotProductAttentionLSE(op), []int{n}, gradType(ins[0].dtype), ins...)
}

// attentionGrads returns the cotangents of q, k and v (none for the mask) from the
// ScaledDotProductAttentionLSE result fwd of the operands ins and the cotangent c of fwd or of
// the attention output alone.
func attentionGrads(op prim.ScaledDotProductAttentionGrad, ins []*Array, fwd, c *Array) []*Array {
	q, k, v := ins[0], ins[1], ins[2]
	args := append(append([]*Array{}, ins...), fwd, c)
	g := newArray(op, []int{q.Size() + k.Size() + v.Size()}, fwd.dtype, args...)
	return []*Array{
		unpack(g, 0, q.shape),
		unpack(g, q.Size(), k.shape),
		unpack(g, q.Size()+k.Size(), v.shape),
	}
}

func init() {
	// Outside transforms the plain op is built; should it be differentiated after all, its
	// forward pass is recomputed with the log-sum-exps.
	defVJP(func(op prim.ScaledDotProductAttention, node, c *Array) []*Array {
		fwd := attentionLSE(op, node.inputs, node.shape)
		return attentionGrads(prim.ScaledDotProductAttentionGrad(op), node.inputs, fwd, c)
	})
	defVJP(func(op prim.ScaledDotProductAttentionLSE, node, c *Array) []*Array {
		// When only the attention output was used, c is that output's cotangent padded with
		// zeros for the log-sum-exps (the VJP of the Slice that unpacked it): pass the unpadded
		// cotangent instead and skip the padding copy.
		q, v := node.inputs[0], node.inputs[2]
		if pad, ok := c.op.(prim.Pad); ok && len(pad.Low) == 1 && pad.Low[0] == 0 && pad.Value == 0 &&
			c.inputs[0].Size() == q.shape[0]*q.shape[1]*q.shape[2]*v.shape[3] {
			c = c.inputs[0]
		}
		return attentionGrads(prim.ScaledDotProductAttentionGrad(op), node.inputs, node, c)
	})
}
