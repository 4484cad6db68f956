package cpu

import (
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Scaled dot-product attention, flash style: each task owns one block of query rows of one
// (batch, head) and sweeps the keys in blocks with an online softmax (a running maximum and sum
// per row), so the (Lq, Lk) score matrix is never built. The causal, sliding-window and chunked
// masks give every query row an interval of visible keys; key blocks outside every row's
// interval are skipped. Arithmetic is in float32 (float64 for float64 inputs).
//
// The backward pass recomputes probabilities tile by tile (as flash-attention 2 does): a first
// pass over (batch, head, query block) reruns the forward pass for the row statistics
// (log-sum-exp and D_i = dO_i·O_i) and accumulates dq; a second pass over (batch, KV head, key
// block) accumulates dk and dv over every query head of the group. Each gradient element is
// summed by one task in a fixed order, so results are deterministic.

func init() {
	defKernel(func(op prim.ScaledDotProductAttention, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return attentionKernel(newAttnProblem[float64](op.Scale, op.Mask, op.HasMask, in), n)
		}
		return attentionKernel(newAttnProblem[float32](op.Scale, op.Mask, op.HasMask, in), n)
	})
	defKernel(func(op prim.ScaledDotProductAttentionGrad, n *prim.Node, in []operand) *Buffer {
		dout := in[len(in)-1]
		if n.DType == prim.Float64 {
			p := newAttnProblem[float64](op.Scale, op.Mask, op.HasMask, in[:len(in)-1])
			return &Buffer{attentionGradKernel(p, asT[float64](dout.Buffer, dout.dtype))}
		}
		p := newAttnProblem[float32](op.Scale, op.Mask, op.HasMask, in[:len(in)-1])
		return &Buffer{attentionGradKernel(p, asT[float32](dout.Buffer, dout.dtype))}
	})
}

// Tile sizes: query rows per task and keys per block.
const (
	attnBlockQ = 32
	attnBlockK = 64
)

// attnProblem holds the operands of one attention call in the compute type T.
type attnProblem[T float] struct {
	b, hq, hkv, lq, lk, d, dv, group int
	scale                            T
	mask                             prim.AttentionMask
	q, k, v                          []T
	addMask                          []T    // additive mask, or
	keepMask                         []bool // boolean mask (true = keep)
	ms                               []int  // mask strides over (B, Hq, Lq, Lk); 0 = broadcast
}

// newAttnProblem reads q, k, v and the optional (4-d) mask.
func newAttnProblem[T float](scale float64, mask prim.AttentionMask, hasMask bool, in []operand) *attnProblem[T] {
	q, k, v := in[0], in[1], in[2]
	p := &attnProblem[T]{
		b: q.shape[0], hq: q.shape[1], hkv: k.shape[1], lq: q.shape[2], lk: k.shape[2],
		d: q.shape[3], dv: v.shape[3], scale: T(scale), mask: mask,
		q: asT[T](q.Buffer, q.dtype), k: asT[T](k.Buffer, k.dtype), v: asT[T](v.Buffer, v.dtype),
	}
	p.group = 1
	if p.hkv > 0 {
		p.group = max(p.hq/p.hkv, 1)
	}
	if hasMask {
		m := in[3]
		p.ms = prim.BroadcastStrides(m.shape, []int{p.b, p.hq, p.lq, p.lk})
		if b, ok := m.data.([]bool); ok {
			p.keepMask = b
		} else {
			p.addMask = asT[T](m.Buffer, m.dtype)
		}
	}
	return p
}

// keyRange is the interval [lo, hi) of keys that query row i may see under the causal,
// window and chunk masks (lo == hi when none).
func (p *attnProblem[T]) keyRange(i int) (lo, hi int) {
	pos := p.lk - p.lq + i
	lo, hi = 0, p.lk
	if p.mask.Causal {
		hi = min(hi, pos+1)
	}
	if w := p.mask.Window; w > 0 {
		lo = max(lo, pos-w+1)
	}
	if c := p.mask.Chunk; c > 0 {
		start := pos / c * c
		if pos < 0 && pos%c != 0 {
			start -= c // floor division
		}
		lo, hi = max(lo, start), min(hi, start+c)
	}
	return lo, max(hi, lo)
}

// scores writes scale·q_i·k_j (plus the explicit mask) for keys [a, e) into s and returns the
// largest (NaN if any is NaN). kb is the offset of the KV head in k; mo that of row i in the mask.
func (p *attnProblem[T]) scores(s, qi []T, kb, a, e, mo int) T {
	d := p.d
	m := T(math.Inf(-1))
	s = s[:e-a]
	for j := a; j < e; j++ {
		v := vecDot(qi, p.k[kb+j*d:kb+j*d+d]) * p.scale
		switch {
		case p.addMask != nil:
			v += p.addMask[mo+j*p.ms[3]]
		case p.keepMask != nil && !p.keepMask[mo+j*p.ms[3]]:
			v = T(math.Inf(-1))
		}
		s[j-a] = v
		if v > m || v != v { // a NaN score wins, so it reaches the output
			m = v
		}
	}
	return m
}

// maskOffset is the offset of row (b, h, i) in the explicit mask.
func (p *attnProblem[T]) maskOffset(b, h, i int) int {
	if p.ms == nil {
		return 0
	}
	return b*p.ms[0] + h*p.ms[1] + i*p.ms[2]
}

// attnScratch is one task's working memory.
type attnScratch[T float] struct {
	s, o, m, l, lse []T
	lo, hi          []int
}

func newAttnScratch[T float](dv int) *attnScratch[T] {
	return &attnScratch[T]{
		s: make([]T, attnBlockK), o: make([]T, attnBlockQ*dv), m: make([]T, attnBlockQ),
		l: make([]T, attnBlockQ), lse: make([]T, attnBlockQ),
		lo: make([]int, attnBlockQ), hi: make([]int, attnBlockQ),
	}
}

// rowRanges fills sc.lo/hi for rows [i0, i1) and returns the union [blo, bhi) of their ranges.
func (p *attnProblem[T]) rowRanges(i0, i1 int, sc *attnScratch[T]) (blo, bhi int) {
	blo, bhi = p.lk, 0
	for ii := 0; ii < i1-i0; ii++ {
		lo, hi := p.keyRange(i0 + ii)
		sc.lo[ii], sc.hi[ii] = lo, hi
		if lo < hi {
			blo, bhi = min(blo, lo), max(bhi, hi)
		}
	}
	return blo, bhi
}

// forwardRows computes the outputs of query rows [i0, i1) of head (b, h) into o (rows × dv)
// and each row's log-sum-exp into lse (+Inf for a row that sees no key; its output is zero).
func (p *attnProblem[T]) forwardRows(b, h, i0, i1 int, o, lse []T, sc *attnScratch[T]) {
	nq, d, dv := i1-i0, p.d, p.dv
	kvh := h / p.group
	kb, vb := (b*p.hkv+kvh)*p.lk*d, (b*p.hkv+kvh)*p.lk*dv
	qb := (b*p.hq + h) * p.lq * d
	m, l := sc.m[:nq], sc.l[:nq]
	for ii := range m {
		m[ii], l[ii] = T(math.Inf(-1)), 0
	}
	clear(o[:nq*dv])
	blo, bhi := p.rowRanges(i0, i1, sc)
	for j0 := blo; j0 < bhi; j0 += attnBlockK {
		j1 := min(j0+attnBlockK, bhi)
		for ii := 0; ii < nq; ii++ {
			a, e := max(sc.lo[ii], j0), min(sc.hi[ii], j1)
			if a >= e {
				continue
			}
			i := i0 + ii
			rm := p.scores(sc.s, p.q[qb+i*d:qb+i*d+d], kb, a, e, p.maskOffset(b, h, i))
			if math.IsInf(float64(rm), -1) {
				continue // every key of this block is masked for this row
			}
			oi := o[ii*dv : ii*dv+dv]
			if rm > m[ii] {
				if l[ii] != 0 {
					corr := expT(m[ii] - rm)
					l[ii] *= corr
					for c := range oi {
						oi[c] *= corr
					}
				}
				m[ii] = rm
			}
			mi := m[ii]
			var sum T
			ps := sc.s[:e-a]
			for jj, sv := range ps {
				ps[jj] = expT(sv - mi)
				sum += ps[jj]
			}
			l[ii] += sum
			axpyRows(oi, ps, p.v, vb+a*dv, dv)
		}
	}
	for ii := 0; ii < nq; ii++ {
		oi := o[ii*dv : ii*dv+dv]
		if l[ii] != 0 { // NaN included
			inv := 1 / l[ii]
			for c := range oi {
				oi[c] *= inv
			}
			lse[ii] = m[ii] + T(math.Log(float64(l[ii])))
		} else {
			clear(oi)
			lse[ii] = T(math.Inf(1))
		}
	}
}

// tiles is the number of query blocks per head.
func (p *attnProblem[T]) tiles() int { return (p.lq + attnBlockQ - 1) / attnBlockQ }

// tile maps a task number to (b, h, i0, i1).
func (p *attnProblem[T]) tile(t int) (b, h, i0, i1 int) {
	nt := p.tiles()
	bh, qt := t/nt, t%nt
	return bh / p.hq, bh % p.hq, qt * attnBlockQ, min((qt+1)*attnBlockQ, p.lq)
}

// tileCost is a rough cost of one query block for parallelFor.
func (p *attnProblem[T]) tileCost() int { return attnBlockQ * max(p.lk, 1) * (p.d + p.dv + 8) }

func attentionKernel[T float](p *attnProblem[T], n *prim.Node) *Buffer {
	dst, out := newRowWriter[T](n.DType, n.Size())
	parallelFor(p.b*p.hq*p.tiles(), p.tileCost(), func(lo, hi int) {
		sc := newAttnScratch[T](p.dv)
		for t := lo; t < hi; t++ {
			b, h, i0, i1 := p.tile(t)
			off := ((b*p.hq+h)*p.lq + i0) * p.dv
			o := dst.row(off, (i1-i0)*p.dv, sc.o)
			p.forwardRows(b, h, i0, i1, o, sc.lse, sc)
			dst.flush(off, o)
		}
	})
	return out
}

// attentionGradKernel returns dq, dk and dv packed, for the output cotangent dout.
func attentionGradKernel[T float](p *attnProblem[T], dout []T) []T {
	nq, nk, nv := len(p.q), len(p.k), len(p.v)
	out := make([]T, nq+nk+nv)
	dq, dk, dv := out[:nq], out[nq:nq+nk], out[nq+nk:]
	rows := p.b * p.hq * p.lq
	lse, delta := make([]T, rows), make([]T, rows)
	d := p.d
	// Pass 1: row statistics and dq, per (b, h, query block).
	parallelFor(p.b*p.hq*p.tiles(), 3*p.tileCost(), func(lo, hi int) {
		sc := newAttnScratch[T](p.dv)
		for t := lo; t < hi; t++ {
			b, h, i0, i1 := p.tile(t)
			r0 := (b*p.hq+h)*p.lq + i0
			p.forwardRows(b, h, i0, i1, sc.o, lse[r0:], sc)
			for ii := 0; ii < i1-i0; ii++ {
				r := r0 + ii
				delta[r] = vecDot(dout[r*p.dv:r*p.dv+p.dv], sc.o[ii*p.dv:ii*p.dv+p.dv])
			}
			blo, bhi := p.rowRanges(i0, i1, sc)
			kvh := h / p.group
			kb, vb := (b*p.hkv+kvh)*p.lk*d, (b*p.hkv+kvh)*p.lk*p.dv
			for j0 := blo; j0 < bhi; j0 += attnBlockK {
				j1 := min(j0+attnBlockK, bhi)
				for ii := 0; ii < i1-i0; ii++ {
					a, e := max(sc.lo[ii], j0), min(sc.hi[ii], j1)
					if a >= e {
						continue
					}
					i, r := i0+ii, r0+ii
					p.scores(sc.s, p.q[r*d:r*d+d], kb, a, e, p.maskOffset(b, h, i))
					doi, ds := dout[r*p.dv:r*p.dv+p.dv], sc.s[:e-a]
					for jj, sv := range ds {
						pj := expT(sv - lse[r])
						if pj != 0 {
							j := a + jj
							pj *= (vecDot(doi, p.v[vb+j*p.dv:vb+j*p.dv+p.dv]) - delta[r]) * p.scale
						}
						ds[jj] = pj
					}
					axpyRows(dq[r*d:r*d+d], ds, p.k, kb+a*d, d)
				}
			}
		}
	})
	// Pass 2: dk and dv, per (b, KV head, key block), summing over the group's query heads. The
	// probabilities and score gradients of a query block are stored transposed, so that each key
	// row accumulates a run of query rows at once.
	nkb := (p.lk + attnBlockK - 1) / attnBlockK
	parallelFor(p.b*p.hkv*nkb, 2*attnBlockK*max(p.lq, 1)*p.group*(d+p.dv+8), func(lo, hi int) {
		s := make([]T, attnBlockK)
		pt, dst := make([]T, attnBlockK*attnBlockQ), make([]T, attnBlockK*attnBlockQ)
		for t := lo; t < hi; t++ {
			bk, kt := t/nkb, t%nkb
			b, kvh := bk/p.hkv, bk%p.hkv
			j0, j1 := kt*attnBlockK, min((kt+1)*attnBlockK, p.lk)
			nk := j1 - j0
			kb, vb := (b*p.hkv+kvh)*p.lk*d, (b*p.hkv+kvh)*p.lk*p.dv
			for h := kvh * p.group; h < (kvh+1)*p.group; h++ {
				for i0 := 0; i0 < p.lq; i0 += attnBlockQ {
					nq := min(attnBlockQ, p.lq-i0)
					r0 := (b*p.hq+h)*p.lq + i0
					seen := false
					for ii := 0; ii < nq; ii++ {
						lo, hi := p.keyRange(i0 + ii)
						a, e := max(lo, j0), min(hi, j1)
						if a >= e {
							continue
						}
						if !seen {
							clear(pt[:nk*attnBlockQ])
							clear(dst[:nk*attnBlockQ])
							seen = true
						}
						r := r0 + ii
						doi := dout[r*p.dv : r*p.dv+p.dv]
						p.scores(s, p.q[r*d:r*d+d], kb, a, e, p.maskOffset(b, h, i0+ii))
						for jj, sv := range s[:e-a] {
							pj := expT(sv - lse[r])
							if pj == 0 {
								continue
							}
							j := a + jj
							dp := vecDot(doi, p.v[vb+j*p.dv:vb+j*p.dv+p.dv])
							pt[(j-j0)*attnBlockQ+ii] = pj
							dst[(j-j0)*attnBlockQ+ii] = pj * (dp - delta[r]) * p.scale
						}
					}
					if !seen {
						continue
					}
					for jj := 0; jj < nk; jj++ {
						j := j0 + jj
						axpyRows(dv[vb+j*p.dv:vb+j*p.dv+p.dv], pt[jj*attnBlockQ:jj*attnBlockQ+nq], dout, r0*p.dv, p.dv)
						axpyRows(dk[kb+j*d:kb+j*d+d], dst[jj*attnBlockQ:jj*attnBlockQ+nq], p.q, r0*d, d)
					}
				}
			}
		}
	})
	return out
}

// vecDot is Σ a_i·b_i with four interleaved accumulators (b at least as long as a).
func vecDot[T float](a, b []T) T {
	b = b[:len(a)]
	var s0, s1, s2, s3 T
	for len(a) >= 4 && len(b) >= 4 {
		s0 += a[0] * b[0]
		s1 += a[1] * b[1]
		s2 += a[2] * b[2]
		s3 += a[3] * b[3]
		a, b = a[4:], b[4:]
	}
	for i, v := range a {
		s0 += v * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// vecAxpy is y += a·x (x at least as long as y).
func vecAxpy[T float](y []T, a T, x []T) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// axpyRows is y += Σ_j coef[j]·src[off+j·stride : off+j·stride+len(y)], four rows at a time (one
// pass over y per four rows); groups of zero coefficients are skipped.
func axpyRows[T float](y, coef, src []T, off, stride int) {
	n := len(y)
	j := 0
	for ; j+4 <= len(coef); j += 4 {
		c0, c1, c2, c3 := coef[j], coef[j+1], coef[j+2], coef[j+3]
		if c0 == 0 && c1 == 0 && c2 == 0 && c3 == 0 {
			continue
		}
		o := off + j*stride
		x0, x1 := src[o:o+n], src[o+stride:o+stride+n]
		x2, x3 := src[o+2*stride:o+2*stride+n], src[o+3*stride:o+3*stride+n]
		for i := range y {
			y[i] += c0*x0[i] + c1*x1[i] + c2*x2[i] + c3*x3[i]
		}
	}
	for ; j < len(coef); j++ {
		if coef[j] != 0 {
			vecAxpy(y, coef[j], src[off+j*stride:off+j*stride+n])
		}
	}
}
