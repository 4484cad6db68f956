package cpu

import (
	"math"
	"runtime"

	"github.com/lmxlab/lmxlab/mx/cpu/gemm"
	"github.com/lmxlab/lmxlab/mx/prim"
)

// Scaled dot-product attention on tiles, flash style, with the packed GEMM doing the products.
//
// Forward: each task owns one block of query rows of one (batch, head) and sweeps the keys in
// tiles: S = scale·Q_blk·K_tileᵀ (one GEMM), the explicit mask is applied to the part of each row
// that the causal, window and chunk masks leave visible (the rest of the tile is zero), an online
// softmax keeps each row's running maximum and sum, and O_blk += P·V_tile (one GEMM). Tiles that
// no row of the block sees are skipped, and each tile is clipped to the rows and keys that some
// row sees. The (Lq, Lk) score matrix is never built. ScaledDotProductAttentionLSE also keeps
// each row's log-sum-exp.
//
// Backward (flash-attention 2 from the saved output and log-sum-exps, nothing recomputed but the
// scores): for a tile (query block i, key block j), P = exp(S - lse), dP = dO_i·V_jᵀ,
// dS = P∘(dP - D) with D = rowsum(dO∘O) - dlse, and dV_j += Pᵀ·dO_i, dK_j += scale·dSᵀ·Q_i,
// dQ_i += scale·dS·K_j, all five products by GEMM. When there are enough (batch, KV head) pairs
// to busy every core, one task per pair walks key blocks, then the group's heads, then query
// blocks, and owns every gradient row of its pair; otherwise a first pass per (batch, head,
// query block) accumulates dq over the key blocks and a second per (batch, KV head, key block)
// accumulates dk and dv over the group's heads and query blocks, recomputing the tiles. The tile
// grid, the arithmetic of a tile and the order in which tiles add into each gradient row are
// the same either way, so the results are bitwise identical whichever plan and core count.
//
// Arithmetic is in float32 (float64 for float64 inputs; half types are widened and the output
// rounded). The GEMM calls are kept below the size at which the gemm package starts helper
// goroutines, since the tasks themselves already run on every core.

func init() {
	defKernel(func(op prim.ScaledDotProductAttention, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			w, out := newRowWriter[float64](n.DType, n.Size())
			newAttnProblem[float64](op.Scale, op.Mask, op.HasMask, in).forward(w, nil)
			return out
		}
		w, out := newRowWriter[float32](n.DType, n.Size())
		newAttnProblem[float32](op.Scale, op.Mask, op.HasMask, in).forward(w, nil)
		return out
	})
	defKernel(func(op prim.ScaledDotProductAttentionLSE, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return attentionLSEKernel(newAttnProblem[float64](op.Scale, op.Mask, op.HasMask, in))
		}
		return attentionLSEKernel(newAttnProblem[float32](op.Scale, op.Mask, op.HasMask, in))
	})
	defKernel(func(op prim.ScaledDotProductAttentionGrad, n *prim.Node, in []operand) *Buffer {
		nin := 3
		if op.HasMask {
			nin = 4
		}
		fwd, cot := in[nin], in[nin+1]
		if n.DType == prim.Float64 {
			p := newAttnProblem[float64](op.Scale, op.Mask, op.HasMask, in[:nin])
			return &Buffer{p.grad(asT[float64](fwd.Buffer, fwd.dtype), asT[float64](cot.Buffer, cot.dtype))}
		}
		p := newAttnProblem[float32](op.Scale, op.Mask, op.HasMask, in[:nin])
		return &Buffer{p.grad(asT[float32](fwd.Buffer, fwd.dtype), asT[float32](cot.Buffer, cot.dtype))}
	})
}

// attnBlockK is the number of keys per tile. The number of query rows per tile is chosen per
// problem (see newAttnProblem).
const attnBlockK = 64

// gemmSerialWork is the number of multiply-adds (m·n·k) below which a gemm call runs on the
// calling goroutine: the gemm package adds a worker per 2^17 multiply-adds (minWorkPerWorker).
const gemmSerialWork = 1 << 18

// attnProblem holds the operands of one attention call in the compute type T.
type attnProblem[T float] struct {
	b, hq, hkv, lq, lk, d, dv, group int
	bq, bk                           int // query rows and keys per tile
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
	// Tiles of 64×64, fewer query rows (a multiple of the GEMM's 6-row micro-tile) for wide heads,
	// so that every product of a tile stays under gemmSerialWork.
	p.bk = attnBlockK
	p.bq = 64
	if lim := (gemmSerialWork - 1) / (p.bk * max(p.d, p.dv, 1)); lim < p.bq {
		p.bq = max(lim/6*6, min(lim, 6), 1)
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

// rowRanges fills lo/hi with the key ranges of rows [i0, i1) and returns the union [blo, bhi)
// of the non-empty ones (blo >= bhi when every row is empty).
func (p *attnProblem[T]) rowRanges(i0, i1 int, lo, hi []int) (blo, bhi int) {
	blo, bhi = p.lk, 0
	for ii := range i1 - i0 {
		a, e := p.keyRange(i0 + ii)
		lo[ii], hi[ii] = a, e
		if a < e {
			blo, bhi = min(blo, a), max(bhi, e)
		}
	}
	return blo, bhi
}

// clip narrows the tile of rows [0, nq) (key ranges lo/hi) and keys [j0, j1) to the rows
// [ia, ib) and keys [ja, jb) that some row sees; ia >= ib when none does. The structural masks
// give ranges whose ends never decrease with the row, so the rows that meet the tile are
// contiguous.
func clipTile(lo, hi []int, j0, j1 int) (ia, ib, ja, jb int) {
	ia, ib, ja, jb = len(lo), 0, j1, j0
	for ii := range lo {
		a, e := max(lo[ii], j0), min(hi[ii], j1)
		if a < e {
			ia, ib = min(ia, ii), ii+1
			ja, jb = min(ja, a), max(jb, e)
		}
	}
	return ia, ib, ja, jb
}

// maskOffset is the offset of row (b, h, i) in the explicit mask.
func (p *attnProblem[T]) maskOffset(b, h, i int) int {
	if p.ms == nil {
		return 0
	}
	return b*p.ms[0] + h*p.ms[1] + i*p.ms[2]
}

// applyMask adds the explicit mask of keys [a, a+len(s)) to the scores s of the row whose mask
// offset is mo (a false boolean gives -Inf).
func (p *attnProblem[T]) applyMask(s []T, mo, a int) {
	switch {
	case p.addMask != nil:
		if p.ms[3] == 0 {
			m := p.addMask[mo]
			for j := range s {
				s[j] += m
			}
			return
		}
		m := p.addMask[mo+a : mo+a+len(s)]
		for j := range s {
			s[j] += m[j]
		}
	case p.keepMask != nil:
		ninf := T(math.Inf(-1))
		if p.ms[3] == 0 {
			if !p.keepMask[mo] {
				for j := range s {
					s[j] = ninf
				}
			}
			return
		}
		m := p.keepMask[mo+a : mo+a+len(s)]
		for j := range s {
			if !m[j] {
				s[j] = ninf
			}
		}
	}
}

// attnScratch is one task's working memory.
type attnScratch[T float] struct {
	s, ds     []T // bq×bk tiles: scores or probabilities, and their gradients
	o         []T // bq×dv output rows, for half outputs
	m, l, lse []T // per row: running maximum and sum, log-sum-exp
	lo, hi    []int
}

func (p *attnProblem[T]) newScratch(grad bool) *attnScratch[T] {
	sc := &attnScratch[T]{
		s: make([]T, p.bq*p.bk), o: make([]T, p.bq*p.dv),
		m: make([]T, p.bq), l: make([]T, p.bq), lse: make([]T, p.bq),
		lo: make([]int, p.bq), hi: make([]int, p.bq),
	}
	if grad {
		sc.ds = make([]T, p.bq*p.bk)
	}
	return sc
}

// qBlocks is the number of query blocks per head.
func (p *attnProblem[T]) qBlocks() int { return (p.lq + p.bq - 1) / p.bq }

// kBlocks is the number of key blocks per KV head.
func (p *attnProblem[T]) kBlocks() int { return (p.lk + p.bk - 1) / p.bk }

// tileCost is a rough cost of one tile for parallelFor.
func (p *attnProblem[T]) tileCost() int { return p.bq * p.bk * (p.d + p.dv + 16) }

// attentionLSEKernel is the ScaledDotProductAttentionLSE kernel: output, then log-sum-exps.
func attentionLSEKernel[T float](p *attnProblem[T]) *Buffer {
	no := p.b * p.hq * p.lq * p.dv
	out := make([]T, no+p.b*p.hq*p.lq)
	p.forward(rowWriter[T]{direct: out[:no]}, out[no:])
	return &Buffer{out}
}

// forward writes the attention output through dst and, if lse is not nil, each row's
// log-sum-exp into it.
func (p *attnProblem[T]) forward(dst rowWriter[T], lse []T) {
	nqb := p.qBlocks()
	parallelFor(p.b*p.hq*nqb, p.tileCost()*max(p.kBlocks(), 1), func(lo, hi int) {
		sc := p.newScratch(false)
		for t := lo; t < hi; t++ {
			bh, i0 := t/nqb, t%nqb*p.bq
			i1 := min(i0+p.bq, p.lq)
			off := (bh*p.lq + i0) * p.dv
			o := dst.row(off, (i1-i0)*p.dv, sc.o)
			l := sc.lse[:i1-i0]
			if lse != nil {
				l = lse[bh*p.lq+i0 : bh*p.lq+i1]
			}
			p.forwardBlock(bh/p.hq, bh%p.hq, i0, i1, o, l, sc)
			dst.flush(off, o)
		}
	})
}

// forwardBlock computes the outputs of query rows [i0, i1) of head (b, h) into o (rows × dv)
// and their log-sum-exps into lse (-Inf for a row that sees no key; its output is zero).
func (p *attnProblem[T]) forwardBlock(b, h, i0, i1 int, o, lse []T, sc *attnScratch[T]) {
	nq, d, dv := i1-i0, p.d, p.dv
	kvh := h / p.group
	kb, vb := (b*p.hkv+kvh)*p.lk*d, (b*p.hkv+kvh)*p.lk*dv
	qb := ((b*p.hq+h)*p.lq + i0) * d
	ninf := T(math.Inf(-1))
	m, l := sc.m[:nq], sc.l[:nq]
	for ii := range m {
		m[ii], l[ii] = ninf, 0
	}
	clear(o)
	lo, hi := sc.lo[:nq], sc.hi[:nq]
	blo, bhi := p.rowRanges(i0, i1, lo, hi)
	for t0 := blo; t0 < bhi; t0 += p.bk {
		ia, ib, j0, j1 := clipTile(lo, hi, t0, min(t0+p.bk, bhi))
		if ia >= ib {
			continue
		}
		mq, nk := ib-ia, j1-j0
		s := sc.s[:mq*nk]
		attnGemm(false, true, mq, nk, d, p.scale, p.q[qb+ia*d:], d, p.k[kb+j0*d:], d, 0, s, nk)
		for ii := ia; ii < ib; ii++ {
			row := s[(ii-ia)*nk : (ii-ia+1)*nk]
			a, e := max(lo[ii], j0), min(hi[ii], j1)
			if a >= e {
				clear(row)
				continue
			}
			clear(row[:a-j0])
			clear(row[e-j0:])
			vis := row[a-j0 : e-j0]
			p.applyMask(vis, p.maskOffset(b, h, i0+ii), a)
			rm := rowMax(vis)
			if rm == ninf { // every visible key of this tile is masked for this row
				clear(vis)
				continue
			}
			if rm > m[ii] {
				if l[ii] != 0 {
					corr := expT(m[ii] - rm)
					l[ii] *= corr
					scaleVec(o[ii*dv:ii*dv+dv], corr)
				}
				m[ii] = rm
			}
			l[ii] += expShiftSum(vis, m[ii])
		}
		attnGemm(false, false, mq, dv, nk, 1, s, nk, p.v[vb+j0*dv:], dv, 1, o[ia*dv:], dv)
	}
	for ii := range nq {
		oi := o[ii*dv : ii*dv+dv]
		if l[ii] != 0 { // NaN included
			scaleVec(oi, 1/l[ii])
			lse[ii] = m[ii] + T(math.Log(float64(l[ii])))
		} else {
			clear(oi)
			lse[ii] = ninf
		}
	}
}

// grad returns dq, dk and dv packed, from the packed forward result fwd (output, then
// log-sum-exps) and the cotangent cot (of the output, optionally followed by that of the
// log-sum-exps).
func (p *attnProblem[T]) grad(fwd, cot []T) []T {
	rows := p.b * p.hq * p.lq
	no := rows * p.dv
	o, lse := fwd[:no], fwd[no:no+rows]
	dout := cot[:no]
	var dlse []T
	if len(cot) > no {
		dlse = cot[no : no+rows]
	}
	// delta_r = dO_r·O_r - dlse_r: the row term of dS = P∘(dP - delta).
	delta := make([]T, rows)
	parallelFor(rows, p.dv+1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			delta[r] = vecDot(dout[r*p.dv:r*p.dv+p.dv], o[r*p.dv:r*p.dv+p.dv])
			if dlse != nil {
				delta[r] -= dlse[r]
			}
		}
	})
	nq, nk, nv := len(p.q), len(p.k), len(p.v)
	out := make([]T, nq+nk+nv)
	g := attnGrads[T]{lse: lse, delta: delta, dout: dout, dq: out[:nq], dk: out[nq : nq+nk], dv: out[nq+nk:]}
	nqb, nkb := p.qBlocks(), p.kBlocks()
	pairs := p.b * p.hkv
	tile := 5 * p.tileCost()
	// One task per (batch, KV head) does 5 products per tile; the two-pass plan 7, in smaller
	// tasks. Take the first unless it leaves too many cores idle.
	w := runtime.GOMAXPROCS(0)
	if 5*((pairs+w-1)/w)*w <= 7*pairs {
		parallelFor(pairs, tile*p.group*nqb*nkb, func(lo, hi int) {
			sc := p.newScratch(true)
			for t := lo; t < hi; t++ {
				b, kvh := t/p.hkv, t%p.hkv
				for kt := range nkb {
					for h := kvh * p.group; h < (kvh+1)*p.group; h++ {
						for qt := range nqb {
							p.gradTile(b, h, qt, kt, &g, sc, true, true)
						}
					}
				}
			}
		})
		return out
	}
	// Pass 1: dq, per (batch, head, query block).
	parallelFor(p.b*p.hq*nqb, tile*nkb, func(lo, hi int) {
		sc := p.newScratch(true)
		for t := lo; t < hi; t++ {
			bh, qt := t/nqb, t%nqb
			for kt := range nkb {
				p.gradTile(bh/p.hq, bh%p.hq, qt, kt, &g, sc, true, false)
			}
		}
	})
	// Pass 2: dk and dv, per (batch, KV head, key block).
	parallelFor(pairs*nkb, tile*p.group*nqb, func(lo, hi int) {
		sc := p.newScratch(true)
		for t := lo; t < hi; t++ {
			bk, kt := t/nkb, t%nkb
			b, kvh := bk/p.hkv, bk%p.hkv
			for h := kvh * p.group; h < (kvh+1)*p.group; h++ {
				for qt := range nqb {
					p.gradTile(b, h, qt, kt, &g, sc, false, true)
				}
			}
		}
	})
	return out
}

// attnGrads holds the backward pass's row statistics, cotangent and gradient buffers.
type attnGrads[T float] struct {
	lse, delta, dout []T
	dq, dk, dv       []T
}

// gradTile processes the tile (query block qt of head (b, h), key block kt): with wantQ it adds
// the tile's contribution to dq, with wantKV those to dk and dv.
func (p *attnProblem[T]) gradTile(b, h, qt, kt int, g *attnGrads[T], sc *attnScratch[T], wantQ, wantKV bool) {
	i0, t0 := qt*p.bq, kt*p.bk
	i1, t1 := min(i0+p.bq, p.lq), min(t0+p.bk, p.lk)
	d, dv := p.d, p.dv
	lo, hi := sc.lo[:i1-i0], sc.hi[:i1-i0]
	p.rowRanges(i0, i1, lo, hi)
	ia, ib, j0, j1 := clipTile(lo, hi, t0, t1)
	if ia >= ib {
		return
	}
	mq, nk := ib-ia, j1-j0
	kvh := h / p.group
	r0 := (b*p.hq+h)*p.lq + i0 + ia // first row
	kr := (b*p.hkv+kvh)*p.lk + j0   // first key
	s, ds := sc.s[:mq*nk], sc.ds[:mq*nk]
	attnGemm(false, true, mq, nk, d, p.scale, p.q[r0*d:], d, p.k[kr*d:], d, 0, s, nk)
	attnGemm(false, true, mq, nk, dv, 1, g.dout[r0*dv:], dv, p.v[kr*dv:], dv, 0, ds, nk)
	ninf := T(math.Inf(-1))
	for ii := range mq {
		r := r0 + ii
		srow, drow := s[ii*nk:(ii+1)*nk], ds[ii*nk:(ii+1)*nk]
		a, e := max(lo[ia+ii], j0), min(hi[ia+ii], j1)
		if a >= e || g.lse[r] == ninf {
			clear(srow)
			clear(drow)
			continue
		}
		clear(srow[:a-j0])
		clear(srow[e-j0:])
		clear(drow[:a-j0])
		clear(drow[e-j0:])
		sv := srow[a-j0 : e-j0]
		p.applyMask(sv, p.maskOffset(b, h, i0+ia+ii), a)
		probGrad(sv, drow[a-j0:e-j0], g.lse[r], g.delta[r])
	}
	if wantKV {
		attnGemm(true, false, nk, dv, mq, 1, s, nk, g.dout[r0*dv:], dv, 1, g.dv[kr*dv:], dv)
		attnGemm(true, false, nk, d, mq, p.scale, ds, nk, p.q[r0*d:], d, 1, g.dk[kr*d:], d)
	}
	if wantQ {
		attnGemm(false, false, mq, d, nk, p.scale, ds, nk, p.k[kr*d:], d, 1, g.dq[r0*d:], d)
	}
}

// attnGemm is C = alpha·op(A)·op(B) + beta·C (see gemm.Sgemm) in T, cut into calls along the rows
// of C that each stay on the calling goroutine. Row strides are raised to at least 1, as gemm
// requires, for matrices with no columns.
func attnGemm[T float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	lda, ldb, ldc = max(lda, 1), max(ldb, 1), max(ldc, 1)
	if m > 6 && m*n*k >= gemmSerialWork {
		rows := max((gemmSerialWork-1)/(n*k)/6*6, 6)
		for i := 0; i < m; i += rows {
			ao := i * lda
			if transA {
				ao = i
			}
			attnGemm(transA, transB, min(rows, m-i), n, k, alpha, a[ao:], lda, b, ldb, beta, c[i*ldc:], ldc)
		}
		return
	}
	switch a := any(a).(type) {
	case []float32:
		gemm.Sgemm(transA, transB, m, n, k, any(alpha).(float32), a, lda, any(b).([]float32), ldb, any(beta).(float32), any(c).([]float32), ldc)
	case []float64:
		gemm.Dgemm(transA, transB, m, n, k, any(alpha).(float64), a, lda, any(b).([]float64), ldb, any(beta).(float64), any(c).([]float64), ldc)
	}
}

// rowMax is the largest of s (-Inf if empty; NaN if any is NaN, so that it reaches the output).
func rowMax[T float](s []T) T {
	if s32, ok := any(s).([]float32); ok {
		return T(rowMax32(s32))
	}
	return rowMaxGo(s)
}

// expShiftSum replaces each s_j by exp(s_j - m) and returns their sum.
func expShiftSum[T float](s []T, m T) T {
	if s32, ok := any(s).([]float32); ok {
		return T(expShiftSum32(s32, float32(m)))
	}
	return expShiftSumGo(s, m)
}

// probGrad turns the scores s of a row into probabilities p = exp(s - lse) and the products
// dp of that row into score gradients p·(dp - delta).
func probGrad[T float](s, dp []T, lse, delta T) {
	if s32, ok := any(s).([]float32); ok {
		probGrad32(s32, any(dp).([]float32), float32(lse), float32(delta))
		return
	}
	probGradGo(s, dp, lse, delta)
}

func rowMaxGo[T float](s []T) T {
	m := T(math.Inf(-1))
	for _, v := range s {
		if v > m || v != v {
			m = v
		}
	}
	return m
}

func expShiftSumGo[T float](s []T, m T) T {
	var sum T
	for j, v := range s {
		e := expT(v - m)
		s[j] = e
		sum += e
	}
	return sum
}

func probGradGo[T float](s, dp []T, lse, delta T) {
	dp = dp[:len(s)]
	for j, v := range s {
		e := expT(v - lse)
		s[j] = e
		dp[j] = e * (dp[j] - delta)
	}
}

// scaleVec is x *= a.
func scaleVec[T float](x []T, a T) {
	for i := range x {
		x[i] *= a
	}
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
