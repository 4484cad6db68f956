package xla

import (
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Lowerings of the fused primitives (norms, RoPE, attention, cross-entropy) as plain HLO. XLA
// fuses the elementwise chains back together; attention materializes the (Lq, Lk) scores.

// statType is the dtype norm statistics are computed in: float64 for float64, else float32.
func statType(dt prim.DType) prim.DType {
	if dt == prim.Float64 {
		return prim.Float64
	}
	return prim.Float32
}

// lastAxis is the one-element list of x's last dimension.
func lastAxis(x value) []int { return []int{x.rank() - 1} }

// leadAxes lists every dimension of x but the last.
func leadAxes(x value) []int {
	out := make([]int, x.rank()-1)
	for i := range out {
		out[i] = i
	}
	return out
}

// rowVec broadcasts a vector of the last axis's length over x's rows.
func (f *fn) rowVec(v, x value) value {
	return f.broadcastInDim(v, x.shape(), []int{x.rank() - 1})
}

// meanLast is the mean over the last axis, kept as size 1 and broadcast back to x's shape.
func (l *lowerer) meanLast(x value) value {
	f := l.f
	d := x.shape()[x.rank()-1]
	s := l.reduceOf(x, prim.ReduceSum, lastAxis(x))
	return f.broadcastTo(f.divS(s, float64(d)), x.shape())
}

func (l *lowerer) rmsNorm(op prim.RMSNorm, n *prim.Node) value {
	f := l.f
	ct := statType(n.DType)
	x, w := f.convert(l.in(n, 0), ct), f.convert(l.in(n, 1), ct)
	inv := f.unary("stablehlo.rsqrt", f.addS(l.meanLast(f.mul(x, x)), op.Eps))
	y := f.mul(f.mul(x, inv), f.rowVec(w, x))
	return f.convert(y, n.DType)
}

// rmsNormGrad packs dx = s·(c·w - x̂·mean(c·w·x̂)) and dw = Σ_rows c·x̂ with s = 1/rms(x).
func (l *lowerer) rmsNormGrad(op prim.RMSNormGrad, n *prim.Node) value {
	f := l.f
	ct := n.DType
	x, w, c := f.convert(l.in(n, 0), ct), f.convert(l.in(n, 1), ct), f.convert(l.in(n, 2), ct)
	d := float64(x.shape()[x.rank()-1])
	s := f.unary("stablehlo.rsqrt", f.addS(l.meanLast(f.mul(x, x)), op.Eps))
	cw := f.mul(c, f.rowVec(w, x))
	dot := f.broadcastTo(l.reduceOf(f.mul(cw, x), prim.ReduceSum, lastAxis(x)), x.shape())
	k := f.divS(f.mul(f.mul(f.mul(s, s), s), dot), d)
	dx := f.sub(f.mul(s, cw), f.mul(x, k))
	dw := f.reduce(f.mul(f.mul(c, x), s), 0, leadAxes(x), combineAdd)
	return f.concat(0, f.reshape(dx, x.t.size()), dw)
}

// layerNormStats gives x - mean and 1/sqrt(var + eps), both of x's shape. The mean and the
// variance come from one read of x: a reduction carrying each row's (count, mean, M2), merged
// with Chan, Golub and LeVeque's pairwise update, which keeps the two-pass formula's accuracy
// (no E[x²] - E[x]² cancellation). Two passes, mean then Σ(x - mean)², read x three times with
// the normalization (the variance pass alone took 0.54 ms of a bf16 GPT-2-small step on an H100).
func (l *lowerer) layerNormStats(x value, eps float64) (xc, rstd value) {
	f := l.f
	dt := x.dtype()
	zero := f.scalar(dt, 0)
	st := f.reduceMulti([]value{f.fullLike(x, 1), x, f.fullLike(x, 0)}, []value{zero, zero, zero}, lastAxis(x),
		func(r *fn, a, b []value) []value {
			n := r.add(a[0], b[0])
			d := r.sub(b[1], a[1])
			wb := r.div(b[0], r.max(n, r.scalar(dt, 1))) // b's share; 0 when both sides are empty
			mean := r.add(a[1], r.mul(d, wb))
			m2 := r.add(r.add(a[2], b[2]), r.mul(r.mul(d, d), r.mul(a[0], wb)))
			return []value{n, mean, m2}
		})
	d := float64(x.shape()[x.rank()-1])
	keep := append(append([]int(nil), x.shape()[:x.rank()-1]...), 1)
	mean := f.broadcastTo(f.reshape(st[1], keep...), x.shape())
	variance := f.broadcastTo(f.reshape(f.divS(st[2], d), keep...), x.shape())
	xc = f.sub(x, mean)
	rstd = f.unary("stablehlo.rsqrt", f.addS(variance, eps))
	return xc, rstd
}

func (l *lowerer) layerNorm(op prim.LayerNorm, n *prim.Node) value {
	f := l.f
	ct := statType(n.DType)
	x := f.convert(l.in(n, 0), ct)
	xc, rstd := l.layerNormStats(x, op.Eps)
	y := f.mul(xc, rstd)
	k := 1
	if op.HasWeight {
		y = f.mul(y, f.rowVec(f.convert(l.in(n, k), ct), x))
		k++
	}
	if op.HasBias {
		y = f.add(y, f.rowVec(f.convert(l.in(n, k), ct), x))
	}
	return f.convert(y, n.DType)
}

// layerNormGrad packs dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) with g = c·w, then dw = Σ_rows c·x̂
// and db = Σ_rows c when present.
func (l *lowerer) layerNormGrad(op prim.LayerNormGrad, n *prim.Node) value {
	f := l.f
	ct := n.DType
	x := f.convert(l.in(n, 0), ct)
	c := f.convert(l.in(n, len(n.Inputs)-1), ct)
	xc, rstd := l.layerNormStats(x, op.Eps)
	xh := f.mul(xc, rstd)
	g := c
	if op.HasWeight {
		g = f.mul(c, f.rowVec(f.convert(l.in(n, 1), ct), x))
	}
	dx := f.mul(rstd, f.sub(f.sub(g, l.meanLast(g)), f.mul(xh, l.meanLast(f.mul(g, xh)))))
	parts := []value{f.reshape(dx, x.t.size())}
	if op.HasWeight {
		parts = append(parts, f.reduce(f.mul(c, xh), 0, leadAxes(x), combineAdd))
	}
	if op.HasBias {
		parts = append(parts, f.reduce(c, 0, leadAxes(x), combineAdd))
	}
	return f.concat(0, parts...)
}

// rope rotates feature pairs of x (..., L, D) by angles computed in float64, as the cpu backend.
func (l *lowerer) rope(op prim.RoPE, n *prim.Node) value {
	f := l.f
	ct := statType(n.DType)
	x := f.convert(l.in(n, 0), ct)
	offset := f.convert(l.in(n, 1), prim.Int32)
	nd := x.rank()
	ln, d := x.shape()[nd-2], x.shape()[nd-1]
	half := op.Dims / 2
	var theta value
	if op.HasFreqs {
		theta = f.convert(l.in(n, 2), prim.Float64)
	} else {
		th := make([]float64, half)
		for i := range th {
			th[i] = math.Pow(op.Base, -2*float64(i)/float64(op.Dims))
		}
		theta = f.vector(prim.Float64, th)
	}
	pos := f.add(f.iota(prim.Int32, []int{ln}, 0), f.broadcastTo(offset, []int{ln}))
	posf := f.mulS(f.convert(pos, prim.Float64), op.Scale)
	ang := f.mul(f.broadcastInDim(posf, []int{ln, half}, []int{0}), f.broadcastInDim(theta, []int{ln, half}, []int{1}))
	cos := f.convert(f.unary("stablehlo.cosine", ang), ct)
	sin := f.convert(f.unary("stablehlo.sine", ang), ct)
	if op.Inverse {
		sin = f.neg(sin)
	}
	hs := append(append([]int(nil), x.shape()[:nd-1]...), half)
	cb := f.broadcastInDim(cos, hs, []int{nd - 2, nd - 1})
	sb := f.broadcastInDim(sin, hs, []int{nd - 2, nd - 1})
	var rot value
	if op.Traditional {
		pairs := f.reshape(f.sliceAxis(x, nd-1, 0, op.Dims), append(append([]int(nil), hs...), 2)...)
		x0 := f.reshape(f.sliceAxis(pairs, nd, 0, 1), hs...)
		x1 := f.reshape(f.sliceAxis(pairs, nd, 1, 2), hs...)
		y0 := f.sub(f.mul(x0, cb), f.mul(x1, sb))
		y1 := f.add(f.mul(x0, sb), f.mul(x1, cb))
		col := append(append([]int(nil), hs...), 1)
		inter := f.concat(nd, f.reshape(y0, col...), f.reshape(y1, col...))
		rot = f.reshape(inter, append(append([]int(nil), x.shape()[:nd-1]...), op.Dims)...)
	} else {
		a := f.sliceAxis(x, nd-1, 0, half)
		b := f.sliceAxis(x, nd-1, half, op.Dims)
		ya := f.sub(f.mul(a, cb), f.mul(b, sb))
		yb := f.add(f.mul(a, sb), f.mul(b, cb))
		rot = f.concat(nd-1, ya, yb)
	}
	if op.Dims < d {
		rot = f.concat(nd-1, rot, f.sliceAxis(x, nd-1, op.Dims, d))
	}
	return f.convert(rot, n.DType)
}

// attnLogits gives the scores q·kᵀ·scale of q (B, Hq, Lq, D) and k (B, Hkv, Lk, D) with every
// mask applied (-Inf where a key is hidden), shape (B, Hq, Lq, Lk), in ct. The matrix operands
// keep their dtype (bfloat16 products accumulate in float32).
func (l *lowerer) attnLogits(scale float64, mask prim.AttentionMask, q, k value, m *value, ct prim.DType) value {
	f := l.f
	b, hq, lq, d := q.shape()[0], q.shape()[1], q.shape()[2], q.shape()[3]
	hkv, lk := k.shape()[1], k.shape()[2]
	g := hq / hkv
	qg := f.reshape(q, b, hkv, g*lq, d)
	s := f.dotGeneral(qg, k, []int{0, 1}, []int{0, 1}, []int{3}, []int{3}, ct, !l.opts.TF32)
	full := []int{b, hq, lq, lk}
	s = f.mulS(f.reshape(s, full...), scale)
	negInf := f.full(ct, full, math.Inf(-1))
	if m != nil {
		mv := *m
		if mv.dtype() == prim.Bool {
			s = f.selectV(f.broadcastTo(mv, full), s, negInf)
		} else {
			s = f.add(s, f.broadcastTo(f.convert(mv, ct), full))
		}
	}
	if mask.Causal || mask.Window > 0 || mask.Chunk > 0 {
		// Query row i sits at position pos = Lk - Lq + i.
		pos := f.addS(f.iota(prim.Int32, []int{lq, lk}, 0), float64(lk-lq))
		j := f.iota(prim.Int32, []int{lq, lk}, 1)
		ok := f.full(prim.Bool, []int{lq, lk}, 1)
		if mask.Causal {
			ok = f.and(ok, f.compare(j, pos, "LE"))
		}
		if w := mask.Window; w > 0 {
			ok = f.and(ok, f.compare(j, f.subS(pos, float64(w)), "GT"))
		}
		if c := mask.Chunk; c > 0 {
			// start = floor(pos / c)·c; keys in [start, start + c).
			cc := f.fullLike(pos, float64(c))
			qt := f.div(pos, cc)
			fix := f.and(f.compareS(f.binary("stablehlo.remainder", pos, cc), 0, "NE"), f.compareS(pos, 0, "LT"))
			qt = f.selectV(fix, f.subS(qt, 1), qt)
			start := f.mul(qt, cc)
			ok = f.and(ok, f.and(f.compare(j, start, "GE"), f.compare(j, f.add(start, cc), "LT")))
		}
		s = f.selectV(f.broadcastInDim(ok, full, []int{2, 3}), s, negInf)
	}
	return s
}

// attnInputs reads q, k, v (converted to the matrix dtype mm) and the optional mask of an
// attention node.
func (l *lowerer) attnInputs(n *prim.Node, hasMask bool, mm prim.DType) (q, k, v value, m *value) {
	f := l.f
	q, k, v = f.convert(l.in(n, 0), mm), f.convert(l.in(n, 1), mm), f.convert(l.in(n, 2), mm)
	if hasMask {
		mv := l.in(n, 3)
		m = &mv
	}
	return q, k, v, m
}

// matType is the dtype of attention's matrix operands: half types stay, the rest compute in ct.
func matType(dt, ct prim.DType) prim.DType {
	if dt == prim.Float16 || dt == prim.BFloat16 {
		return dt
	}
	return ct
}

// attnForward gives the attention output (B, Hq, Lq, Dv) and the row log-sum-exps (B, Hq, Lq, 1)
// in ct: zeros and -Inf for a row that sees no key.
func (l *lowerer) attnForward(scale float64, mask prim.AttentionMask, q, k, v value, m *value, ct prim.DType) (o, lse value) {
	f := l.f
	s := l.attnLogits(scale, mask, q, k, m, ct)
	b, hq, lq, lk := s.shape()[0], s.shape()[1], s.shape()[2], s.shape()[3]
	hkv, dv := v.shape()[1], v.shape()[3]
	g := hq / hkv
	mx := l.reduceOf(s, prim.ReduceMax, []int{3})
	mx = f.selectV(f.compareS(mx, math.Inf(-1), "EQ"), f.fullLike(mx, 0), mx)
	p := f.exp(f.sub(s, f.broadcastTo(mx, s.shape())))
	rs := l.reduceOf(p, prim.ReduceSum, []int{3})
	pg := f.convert(f.reshape(p, b, hkv, g*lq, lk), v.dtype())
	o = f.dotGeneral(pg, v, []int{0, 1}, []int{0, 1}, []int{3}, []int{2}, ct, !l.opts.TF32)
	o = f.reshape(o, b, hq, lq, dv)
	safe := f.selectV(f.compareS(rs, 0, "EQ"), f.fullLike(rs, 1), rs)
	o = f.div(o, f.broadcastTo(safe, o.shape()))
	return o, f.add(mx, f.log(rs))
}

func (l *lowerer) attention(op prim.ScaledDotProductAttention, n *prim.Node) value {
	ct := statType(n.DType)
	q, k, v, m := l.attnInputs(n, op.HasMask, matType(l.in(n, 0).dtype(), ct))
	o, _ := l.attnForward(op.Scale, op.Mask, q, k, v, m, ct)
	return l.f.convert(o, n.DType)
}

// attentionLSE packs the attention output and the row log-sum-exps, flattened, in n's dtype.
func (l *lowerer) attentionLSE(op prim.ScaledDotProductAttentionLSE, n *prim.Node) value {
	f := l.f
	ct := n.DType
	q, k, v, m := l.attnInputs(n, op.HasMask, matType(l.in(n, 0).dtype(), ct))
	o, lse := l.attnForward(op.Scale, op.Mask, q, k, v, m, ct)
	return f.concat(0, f.reshape(o, o.t.size()), f.reshape(lse, lse.t.size()))
}

// attentionGrad packs dq, dk and dv. Its inputs are q, k, v, [mask], then (when present) the
// packed ScaledDotProductAttentionLSE output, then the cotangent of that packed output or of the
// attention output alone. With P = exp(s - lse) recomputed: dV = Pᵀ·dO, dP = dO·Vᵀ,
// dS = P·(dP - delta)·scale with delta = rowsum(dO·O) - dlse, dQ = dS·K, dK = dSᵀ·Q.
//
// With recompute the packed forward input is ignored and recomputed in HLO: its log-sum-exps
// may come from cuDNN, whose statistics this lowering does not rely on.
func (l *lowerer) attentionGrad(op prim.ScaledDotProductAttentionGrad, n *prim.Node, recompute bool) value {
	f := l.f
	ct := n.DType
	nin := 3
	if op.HasMask {
		nin = 4
	}
	q, k, v, m := l.attnInputs(n, op.HasMask, matType(l.in(n, 0).dtype(), ct))
	b, hq, lq, d := q.shape()[0], q.shape()[1], q.shape()[2], q.shape()[3]
	hkv, dv := k.shape()[1], v.shape()[3]
	g := hq / hkv
	no, rows := b*hq*lq*dv, b*hq*lq
	oShape, rShape := []int{b, hq, lq, dv}, []int{b, hq, lq, 1}
	var o, lse value
	if len(n.Inputs) == nin+2 && !recompute {
		fwd := f.convert(l.in(n, nin), ct)
		o = f.reshape(f.sliceAxis(fwd, 0, 0, no), oShape...)
		lse = f.reshape(f.sliceAxis(fwd, 0, no, no+rows), rShape...)
	} else {
		o, lse = l.attnForward(op.Scale, op.Mask, q, k, v, m, ct)
	}
	cot := f.convert(l.in(n, len(n.Inputs)-1), ct)
	var dout value
	var dlse *value
	if cot.rank() == 1 {
		dout = f.reshape(f.sliceAxis(cot, 0, 0, no), oShape...)
		if cot.t.size() > no {
			dl := f.reshape(f.sliceAxis(cot, 0, no, no+rows), rShape...)
			dlse = &dl
		}
	} else {
		dout = f.reshape(cot, oShape...)
	}
	s := l.attnLogits(op.Scale, op.Mask, q, k, m, ct)
	lb := f.broadcastTo(lse, s.shape())
	p := f.selectV(f.compareS(lb, math.Inf(-1), "EQ"), f.fullLike(s, 0), f.exp(f.sub(s, lb)))
	delta := l.reduceOf(f.mul(dout, o), prim.ReduceSum, []int{3})
	if dlse != nil {
		delta = f.sub(delta, *dlse)
	}
	lk := s.shape()[3]
	mm := q.dtype()
	p = f.reshape(p, b, hkv, g*lq, lk)
	delta = f.reshape(delta, b, hkv, g*lq, 1)
	do := f.convert(f.reshape(dout, b, hkv, g*lq, dv), mm)
	precise := !l.opts.TF32
	dV := f.dotGeneral(f.convert(p, mm), do, []int{0, 1}, []int{0, 1}, []int{2}, []int{2}, ct, precise)
	dP := f.dotGeneral(do, v, []int{0, 1}, []int{0, 1}, []int{3}, []int{3}, ct, precise)
	dS := f.mulS(f.mul(p, f.sub(dP, f.broadcastTo(delta, dP.shape()))), op.Scale)
	dsm := f.convert(dS, mm)
	qg := f.reshape(q, b, hkv, g*lq, d)
	dQ := f.dotGeneral(dsm, k, []int{0, 1}, []int{0, 1}, []int{3}, []int{2}, ct, precise)
	dK := f.dotGeneral(dsm, qg, []int{0, 1}, []int{0, 1}, []int{2}, []int{2}, ct, precise)
	return f.concat(0, f.reshape(dQ, dQ.t.size()), f.reshape(dK, dK.t.size()), f.reshape(dV, dV.t.size()))
}

// logSumExpRows is log Σ exp over the last axis of x (N, V), kept as (N, 1): ±Inf when the
// maximum is infinite. It reads x once: the reduction carries each row's running maximum m and
// its scaled sum s = Σ exp(x - m), and merging (m1, s1) with (m2, s2) rescales the smaller side
// by exp(min - max), one exponential an element (a max pass then an exp-sum pass read the
// logits of a 50K vocabulary twice: in one H100 run the bf16 GPT-2-small step took 42.6 ms
// with one pass and 45.8 with two, though runs on different machines differ by several percent).
//
// A long row is reduced in two stages, over chunks of lseChunk(V) columns and then over the
// chunks' (m, s) pairs: left to itself XLA splits a 50,304-wide row into 128 pieces of 393,
// whose odd length defeats vectorized loads (1.2 ms a GPT-2-small step on an H100, half the
// memory bandwidth; 0.97 ms in chunks of 384).
func (l *lowerer) logSumExpRows(x value) value {
	f := l.f
	dt := x.dtype()
	n, v := x.shape()[0], x.shape()[1]
	merge := func(r *fn, a, b []value) []value {
		hi, lo := r.max(a[0], b[0]), r.min(a[0], b[0])
		// Equal maxima (both -Inf included, where lo - hi is NaN) scale by 1.
		e := r.selectV(r.compare(lo, hi, "EQ"), r.scalar(dt, 1), r.exp(r.sub(lo, hi)))
		aBig := r.compare(a[0], b[0], "GE")
		big, small := r.selectV(aBig, a[1], b[1]), r.selectV(aBig, b[1], a[1])
		return []value{hi, r.add(big, r.mul(small, e))}
	}
	inits := []value{f.scalar(dt, math.Inf(-1)), f.scalar(dt, 0)}
	var ms []value
	if c := lseChunk(v); c > 0 {
		xc := f.reshape(x, n, v/c, c)
		part := f.reduceMulti([]value{xc, f.fullLike(xc, 1)}, inits, []int{2}, merge)
		ms = f.reduceMulti(part, inits, []int{1}, merge)
	} else {
		ms = f.reduceMulti([]value{x, f.fullLike(x, 1)}, inits, []int{1}, merge)
	}
	// An all -Inf row gives -Inf + log V = -Inf; a +Inf maximum gives +Inf; NaN stays NaN.
	return f.reshape(f.add(ms[0], f.log(ms[1])), n, 1)
}

// lseChunk is the chunk width of logSumExpRows's first stage for rows of v columns: the widest
// divisor of v in [128, 1024] that is a multiple of 8, or 0 (one stage) for rows of at most
// 4096 columns or without such a divisor.
func lseChunk(v int) int {
	if v <= 4096 {
		return 0
	}
	for c := 1024; c >= 128; c -= 8 {
		if v%c == 0 {
			return c
		}
	}
	return 0
}

// targetLogits picks x[i, t[i]] for each row of x (N, V) with one gather; rows whose target is
// outside [0, V) give 0 (the caller masks negative targets).
func (l *lowerer) targetLogits(x, t value) value {
	f := l.f
	n, v := x.shape()[0], x.shape()[1]
	t32 := f.convert(t, prim.Int32)
	tc := f.max(f.min(t32, f.full(prim.Int32, []int{n}, float64(v-1))), f.full(prim.Int32, []int{n}, 0))
	idx := f.concat(1, f.reshape(f.iota(prim.Int32, []int{n}, 0), n, 1), f.reshape(tc, n, 1))
	g := f.gather(x, idx, nil, []int{0, 1}, []int{0, 1}, 1, []int{1, 1})
	in := f.and(f.compareS(t32, 0, "GE"), f.compareS(t32, float64(v), "LT"))
	return f.selectV(in, g, f.fullLike(g, 0))
}

// targetMask gives the one-hot (N, V) of the targets and the (N) rows whose target is valid.
func (l *lowerer) targetMask(t value, nv []int) (onehot, valid value) {
	f := l.f
	t32 := f.convert(t, prim.Int32)
	onehot = f.compare(f.iota(prim.Int32, nv, 1), f.broadcastInDim(t32, nv, []int{0}), "EQ")
	valid = f.compareS(t32, 0, "GE")
	if t.dtype() == prim.Uint8 || t.dtype() == prim.Uint32 {
		valid = f.full(prim.Bool, t.shape(), 1)
	}
	return onehot, valid
}

// crossEntropy is logsumexp(row) - row[target] per row; rows with negative targets give 0.
func (l *lowerer) crossEntropy(n *prim.Node) value {
	f := l.f
	ct := n.DType
	x := f.convert(l.in(n, 0), ct)
	t := l.in(n, 1)
	_, valid := l.targetMask(t, x.shape())
	lse := f.reshape(l.logSumExpRows(x), n.Shape...)
	xt := l.targetLogits(x, t)
	return f.selectV(valid, f.sub(lse, xt), f.full(ct, n.Shape, 0))
}

// crossEntropyGrad is (softmax(row) - onehot(target))·g; rows with negative targets give 0.
func (l *lowerer) crossEntropyGrad(n *prim.Node) value {
	f := l.f
	ct := statType(n.DType)
	x := f.convert(l.in(n, 0), ct)
	g := f.convert(l.in(n, 2), ct)
	onehot, valid := l.targetMask(l.in(n, 1), x.shape())
	lse := l.logSumExpRows(x)
	gb := f.broadcastInDim(g, x.shape(), []int{0})
	y := f.mul(f.exp(f.sub(x, f.broadcastTo(lse, x.shape()))), gb)
	y = f.sub(y, f.selectV(onehot, gb, f.fullLike(x, 0)))
	y = f.selectV(f.broadcastInDim(valid, x.shape(), []int{0}), y, f.fullLike(x, 0))
	return f.convert(y, n.DType)
}
