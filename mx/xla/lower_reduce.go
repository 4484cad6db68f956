package xla

import (
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Lowerings of reductions, scans, matrix products, convolutions, quantized products and random
// bits.

// identity is the neutral element of a reduction kind for dtype dt.
func identity(k prim.ReduceKind, dt prim.DType) float64 {
	switch k {
	case prim.ReduceProd:
		return 1
	case prim.ReduceMax:
		switch dt {
		case prim.Int32:
			return math.MinInt32
		case prim.Int64:
			return math.MinInt64
		case prim.Uint8, prim.Uint32:
			return 0
		}
		return math.Inf(-1)
	case prim.ReduceMin:
		switch dt {
		case prim.Int32:
			return math.MaxInt32
		case prim.Int64:
			return math.MaxInt64 // rounds to 2^63 in float64; see reduceInit
		case prim.Uint8:
			return 255
		case prim.Uint32:
			return math.MaxUint32
		}
		return math.Inf(1)
	}
	return 0
}

func combinerOf(k prim.ReduceKind) combiner {
	switch k {
	case prim.ReduceSum:
		return combineAdd
	case prim.ReduceProd:
		return combineMul
	case prim.ReduceMax:
		return combineMax
	case prim.ReduceMin:
		return combineMin
	}
	failf("reduction kind %d", k)
	return nil
}

// reduceOf reduces x (in its own dtype) with kind k over dims, keeping them as size 1.
func (l *lowerer) reduceOf(x value, k prim.ReduceKind, dims []int) value {
	f := l.f
	if k == prim.ReduceMin && x.dtype() == prim.Int64 {
		// MaxInt64 is not a float64: give the exact constant.
		r := f.reduceMulti([]value{x}, []value{f.scalarBits(prim.Int64, math.MaxInt64)}, dims,
			func(r *fn, a, b []value) []value { return []value{r.min(a[0], b[0])} })[0]
		return f.reshape(r, keepDims(x.shape(), dims)...)
	}
	return f.reduceKeep(x, identity(k, x.dtype()), dims, combinerOf(k))
}

func (l *lowerer) reduce(op prim.Reduce, n *prim.Node) value {
	f := l.f
	x := l.in(n, 0)
	if n.DType == prim.Bool {
		b := l.convertValue(x, prim.Bool)
		switch op.Kind {
		case prim.ReduceAll, prim.ReduceMin, prim.ReduceProd:
			return f.reduceKeep(b, 1, op.Axes, combineAnd)
		}
		return f.reduceKeep(b, 0, op.Axes, combineOr)
	}
	ct := computeType(x.dtype())
	return f.convert(l.reduceOf(f.convert(x, ct), op.Kind, op.Axes), n.DType)
}

// argReduce finds the first index of the max (min) along the axis; a NaN wins, the first one.
func (l *lowerer) argReduce(op prim.ArgReduce, n *prim.Node) value {
	f := l.f
	x := l.in(n, 0)
	if x.dtype() == prim.Bool {
		x = f.convert(x, prim.Int32)
	}
	isFloat := x.dtype().IsFloat()
	idx := f.iota(n.DType, x.shape(), op.Axis)
	worst := identity(prim.ReduceMax, x.dtype())
	dir := "GT"
	if op.Min {
		worst, dir = identity(prim.ReduceMin, x.dtype()), "LT"
	}
	var init value
	if op.Min && x.dtype() == prim.Int64 {
		init = f.scalarBits(prim.Int64, math.MaxInt64)
	} else {
		init = f.scalar(x.dtype(), worst)
	}
	bigIdx := f.scalar(n.DType, math.MaxInt32)
	out := f.reduceMulti([]value{x, idx}, []value{init, bigIdx}, []int{op.Axis}, func(r *fn, a, b []value) []value {
		av, ai, bv, bi := a[0], a[1], b[0], b[1]
		earlier := r.compare(ai, bi, "LT")
		// a wins if it is better, or equal and earlier; NaNs are best, the earliest of them.
		pick := r.or(r.compare(av, bv, dir), r.and(r.compare(av, bv, "EQ"), earlier))
		if isFloat {
			aNaN, bNaN := r.isNaN(av), r.isNaN(bv)
			pick = r.or(r.and(aNaN, r.or(r.not(bNaN), earlier)), r.and(r.not(bNaN), r.and(r.not(aNaN), pick)))
		}
		return []value{r.selectV(pick, av, bv), r.selectV(pick, ai, bi)}
	})
	return f.reshape(out[1], n.Shape...)
}

// softmax along the last axis, computed around the row maximum (0 for an all -inf row).
func (l *lowerer) softmax(op prim.Softmax, n *prim.Node) value {
	f := l.f
	x := l.in(n, 0)
	ct := computeType(x.dtype())
	xc := f.convert(x, ct)
	last := []int{x.rank() - 1}
	m := l.reduceOf(xc, prim.ReduceMax, last)
	m = f.selectV(f.compareS(m, math.Inf(-1), "EQ"), f.fullLike(m, 0), m)
	mb := f.broadcastTo(m, x.shape())
	e := f.exp(f.sub(xc, mb))
	s := l.reduceOf(e, prim.ReduceSum, last)
	var y value
	if op.Log {
		shift := f.add(m, f.log(s))
		y = f.sub(xc, f.broadcastTo(shift, x.shape()))
	} else {
		y = f.div(e, f.broadcastTo(s, x.shape()))
	}
	return f.convert(y, n.DType)
}

// scan is a cumulative reduction along the axis, as a reduce_window spanning the whole axis.
func (l *lowerer) scan(op prim.Scan, n *prim.Node) value {
	f := l.f
	x := l.in(n, 0)
	ct := computeType(x.dtype())
	xc := f.convert(x, ct)
	r := x.rank()
	ax := op.Axis
	size := x.shape()[ax]
	win, lo, hi := make([]int, r), make([]int, r), make([]int, r)
	for i := range win {
		win[i] = 1
	}
	win[ax] = size
	if op.Reverse {
		hi[ax] = size - 1
	} else {
		lo[ax] = size - 1
	}
	id := identity(op.Kind, ct)
	var y value
	if op.Kind == prim.ReduceMin && ct == prim.Int64 {
		failf("Scan: cumulative min of int64 is not supported on xla")
	}
	y = f.reduceWindow(xc, id, win, lo, hi, combinerOf(op.Kind))
	if op.Exclusive {
		// Shift by one, bringing in the identity.
		p := make([]int, r)
		q := make([]int, r)
		if op.Reverse {
			y = f.sliceAxis(y, ax, 1, size)
			q[ax] = 1
		} else {
			y = f.sliceAxis(y, ax, 0, size-1)
			p[ax] = 1
		}
		y = f.pad(y, f.scalar(ct, id), p, q, nil)
	}
	return f.convert(y, n.DType)
}

// matmul multiplies (..., M, K) by (..., K, N) with broadcast batch dimensions.
func (l *lowerer) matmul(op prim.Matmul, n *prim.Node) value {
	f := l.f
	a, b := l.in(n, 0), l.in(n, 1)
	ra, rb := a.rank(), b.rank()
	nd := len(n.Shape)
	batch := n.Shape[:nd-2]
	nb := len(batch)
	aK, bK := ra-1, rb-2
	if op.TransA {
		aK = ra - 2
	}
	if op.TransB {
		bK = rb - 1
	}
	precise := !l.opts.TF32
	// b without batch dimensions (or only size-1 ones): contract a directly, no batching.
	if rb == 2 || prim.ShapeSize(b.shape()[:rb-2]) == 1 && nb == ra-2 {
		b2 := f.reshape(b, b.shape()[rb-2:]...)
		if prim.ShapeSize(a.shape()[:ra-2]) == prim.ShapeSize(batch) && ra-2 == nb {
			bk := bK - (rb - 2)
			// a's free dims come out as (..., M) whether or not it is transposed.
			out := f.dotGeneral(a, b2, nil, nil, []int{aK}, []int{bk}, n.DType, precise)
			return f.reshape(out, n.Shape...)
		}
	}
	// General case: broadcast both batch shapes to the output's, then a batched product.
	ab := append(append([]int(nil), batch...), a.shape()[ra-2:]...)
	bb := append(append([]int(nil), batch...), b.shape()[rb-2:]...)
	a2 := f.broadcastTo(a, ab)
	b2 := f.broadcastTo(b, bb)
	bd := make([]int, nb)
	for i := range bd {
		bd[i] = i
	}
	aK, bK = nb+aK-(ra-2), nb+bK-(rb-2)
	return f.dotGeneral(a2, b2, bd, bd, []int{aK}, []int{bK}, n.DType, precise)
}

// conv1d is the channels-last convolution of x (N, L, Cin) with w (Cout, K, Cin/G).
func (l *lowerer) conv1d(op prim.Conv1d, n *prim.Node) value {
	f := l.f
	x, w := l.in(n, 0), l.in(n, 1)
	ct := computeType(n.DType)
	out := f.conv1d(f.convert(x, ct), f.convert(w, ct), "[b, 0, f]x[o, 0, i]->[b, 0, f]",
		op.Stride, op.Padding, op.Padding, 1, op.Dilation, op.Groups, 1, tt(ct, n.Shape...))
	return f.convert(out, n.DType)
}

// conv1dGradInput is the transposed convolution: the cotangent dilated by the stride and padded,
// convolved with the reversed kernel whose channel roles are swapped group by group.
func (l *lowerer) conv1dGradInput(op prim.Conv1dGradInput, n *prim.Node) value {
	f := l.f
	dy, w := l.in(n, 0), l.in(n, 1)
	ct := computeType(n.DType)
	dy, w = f.convert(dy, ct), f.convert(w, ct)
	g, s, p, d := op.Groups, op.Stride, op.Padding, op.Dilation
	cout, k, cg := w.shape()[0], w.shape()[1], w.shape()[2]
	nn, ln, cin := n.Shape[0], n.Shape[1], n.Shape[2]
	lout := dy.shape()[1]
	wr := f.reverse(w, []int{1})
	wr = f.reshape(wr, g, cout/g, k, cg)
	wr = f.transpose(wr, []int{1, 2, 0, 3})
	wr = f.reshape(wr, cout/g, k, cin)
	lo := d*(k-1) - p
	hi := ln + p - 1 - (lout-1)*s
	zero := f.scalar(ct, 0)
	lhs := f.pad(dy, zero, []int{0, lo, 0}, []int{0, hi, 0}, []int{0, s - 1, 0})
	out := f.conv1d(lhs, wr, "[b, 0, f]x[i, 0, o]->[b, 0, f]", 1, 0, 0, 1, d, g, 1, tt(ct, nn, ln, cin))
	return f.convert(out, n.DType)
}

// conv1dGradWeight correlates the padded input with the cotangent over the batch: the batch
// becomes the contracted feature dimension and the groups become batch groups.
func (l *lowerer) conv1dGradWeight(op prim.Conv1dGradWeight, n *prim.Node) value {
	f := l.f
	x, dy := l.in(n, 0), l.in(n, 1)
	ct := computeType(n.DType)
	x, dy = f.convert(x, ct), f.convert(dy, ct)
	g, s, p, d := op.Groups, op.Stride, op.Padding, op.Dilation
	cout, k, cg := n.Shape[0], n.Shape[1], n.Shape[2]
	ln, lout := x.shape()[1], dy.shape()[1]
	xp := f.pad(x, f.scalar(ct, 0), []int{0, p, 0}, []int{0, p, 0}, nil)
	kk := (ln+2*p-((lout-1)*s+1))/d + 1
	out := f.conv1d(xp, dy, "[f, 0, b]x[i, 0, o]->[f, 0, b]", d, 0, 0, 1, s, 1, g, tt(ct, cout, kk, cg))
	out = f.sliceAxis(out, 1, 0, k)
	return f.convert(out, n.DType)
}

// quantizedMatmul dequantizes the packed weight in float32 (float64 for float64 scales) and
// multiplies.
func (l *lowerer) quantizedMatmul(op prim.QuantizedMatmul, n *prim.Node) value {
	f := l.f
	x, wq, sc, bi := l.in(n, 0), l.in(n, 1), l.in(n, 2), l.in(n, 3)
	ct := prim.Float32
	if sc.dtype() == prim.Float64 {
		ct = prim.Float64
	}
	rows, words := wq.shape()[0], wq.shape()[1]
	per := 32 / op.Bits
	cols := words * per
	shifts := f.mulS(f.iota(prim.Uint32, []int{rows, words, per}, 2), float64(op.Bits))
	w3 := f.broadcastInDim(wq, []int{rows, words, per}, []int{0, 1})
	q := f.and(f.binary("stablehlo.shift_right_logical", w3, shifts), f.full(prim.Uint32, []int{rows, words, per}, float64(int(1)<<op.Bits-1)))
	groups := cols / op.GroupSize
	qf := f.reshape(f.convert(q, ct), rows, groups, op.GroupSize)
	s3 := f.broadcastInDim(f.convert(sc, ct), []int{rows, groups, op.GroupSize}, []int{0, 1})
	b3 := f.broadcastInDim(f.convert(bi, ct), []int{rows, groups, op.GroupSize}, []int{0, 1})
	w := f.reshape(f.add(f.mul(qf, s3), b3), rows, cols)
	xc := f.convert(x, ct)
	xk := x.rank() - 1
	wk := 1
	if !op.Transpose {
		wk = 0
	}
	out := f.dotGeneral(xc, w, nil, nil, []int{xk}, []int{wk}, ct, !l.opts.TF32)
	return f.convert(out, n.DType)
}

// randomBits is Threefry-2x32 with 20 rounds over the counters 0..P-1 (P = ceil(size/2)): pair p
// gives elements 2p and 2p+1, as in the cpu backend.
func (l *lowerer) randomBits(n *prim.Node) value {
	f := l.f
	key := l.in(n, 0)
	size := n.Size()
	p := (size + 1) / 2
	u := prim.Uint32
	k0 := f.broadcastTo(f.reshape(f.sliceAxis(key, 0, 0, 1)), []int{p})
	k1 := f.broadcastTo(f.reshape(f.sliceAxis(key, 0, 1, 2)), []int{p})
	k2 := f.xor(f.xor(k0, k1), f.full(u, []int{p}, 0x1BD11BDA))
	x0 := f.add(f.iota(u, []int{p}, 0), k0)
	x1 := k1 // the high counter word is 0
	rot := func(x value, r int) value {
		left := f.binary("stablehlo.shift_left", x, f.full(u, []int{p}, float64(r)))
		right := f.binary("stablehlo.shift_right_logical", x, f.full(u, []int{p}, float64(32-r)))
		return f.or(left, right)
	}
	quad := func(rs [4]int) {
		for _, r := range rs {
			x0 = f.add(x0, x1)
			x1 = f.xor(rot(x1, r), x0)
		}
	}
	r0, r1 := [4]int{13, 15, 26, 6}, [4]int{17, 29, 16, 24}
	ks := []value{k0, k1, k2}
	for i := 1; i <= 5; i++ {
		if i%2 == 1 {
			quad(r0)
		} else {
			quad(r1)
		}
		x0 = f.add(x0, ks[i%3])
		x1 = f.add(f.add(x1, ks[(i+1)%3]), f.full(u, []int{p}, float64(i)))
	}
	pairs := f.concat(1, f.reshape(x0, p, 1), f.reshape(x1, p, 1))
	flat := f.sliceAxis(f.reshape(pairs, 2*p), 0, 0, size)
	return f.reshape(flat, n.Shape...)
}
