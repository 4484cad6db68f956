package xla

import (
	"github.com/lmxlab/lmxlab/mx/prim"
)

// Lowerings of strided slices, gathers, scatters and sorts.

// slice lowers a strided slice; negative steps reverse the axis first.
func (l *lowerer) slice(op prim.Slice, n *prim.Node) value {
	f := l.f
	x := l.in(n, 0)
	r := x.rank()
	start, limit, steps := make([]int, r), make([]int, r), make([]int, r)
	var rev []int
	for i := 0; i < r; i++ {
		s, st, cnt, d := op.Start[i], op.Step[i], n.Shape[i], x.shape()[i]
		if st < 0 {
			rev = append(rev, i)
			s, st = d-1-s, -st
		}
		start[i], steps[i] = s, st
		limit[i] = s + (cnt-1)*st + 1
	}
	return f.slice(f.reverse(x, rev), start, limit, steps)
}

// sliceUpdate writes input 1 into the strided window of input 0. Unit steps use
// dynamic_update_slice; other steps spread the update with interior padding and select it.
func (l *lowerer) sliceUpdate(op prim.SliceUpdate, n *prim.Node) value {
	f := l.f
	x, u := l.in(n, 0), l.in(n, 1)
	if u.t.size() == 0 {
		return x
	}
	r := x.rank()
	var rev []int
	start, steps := make([]int, r), make([]int, r)
	unit := true
	for i := 0; i < r; i++ {
		s, st := op.Start[i], op.Step[i]
		if st < 0 {
			rev = append(rev, i)
			s, st = x.shape()[i]-1-s, -st
		}
		start[i], steps[i] = s, st
		unit = unit && (st == 1 || u.shape()[i] == 1)
	}
	// In the reversed frame the window runs forward and u keeps its order: element k of u lands
	// at start + k·|step| there.
	xr, ur := f.reverse(x, rev), u
	var out value
	if unit {
		out = f.dynamicUpdateSlice(xr, ur, start)
	} else {
		lo, hi, interior := make([]int, r), make([]int, r), make([]int, r)
		for i := 0; i < r; i++ {
			cnt := u.shape()[i]
			interior[i] = steps[i] - 1
			lo[i] = start[i]
			hi[i] = x.shape()[i] - (start[i] + (cnt-1)*steps[i] + 1)
		}
		spread := f.pad(ur, f.scalar(u.dtype(), 0), lo, hi, interior)
		mask := f.pad(f.full(prim.Bool, u.shape(), 1), f.scalar(prim.Bool, 0), lo, hi, interior)
		out = f.selectV(mask, spread, xr)
	}
	return f.reverse(out, rev)
}

// wrapIndices converts integer indices to int32 and maps negative ones into [0, size).
func (l *lowerer) wrapIndices(idx value, size int) value {
	f := l.f
	it := prim.Int32
	if idx.dtype() == prim.Int64 && size > 1<<31-1 {
		it = prim.Int64
	}
	i := f.convert(idx, it)
	if idx.dtype() == prim.Int32 || idx.dtype() == prim.Int64 {
		neg := f.compareS(i, 0, "LT")
		i = f.selectV(neg, f.addS(i, float64(size)), i)
	}
	return i
}

// take gathers along an axis: output = x[:axis] + idx.shape + x[axis+1:].
func (l *lowerer) take(op prim.Take, n *prim.Node) value {
	f := l.f
	x, idx := l.in(n, 0), l.in(n, 1)
	ax := op.Axis
	ir := idx.rank()
	i := l.wrapIndices(idx, x.shape()[ax])
	var offsetDims []int
	for d := 0; d < x.rank(); d++ {
		switch {
		case d < ax:
			offsetDims = append(offsetDims, d)
		case d > ax:
			offsetDims = append(offsetDims, d-1+ir)
		}
	}
	sizes := append([]int(nil), x.shape()...)
	sizes[ax] = 1
	return f.gather(x, i, offsetDims, []int{ax}, []int{ax}, ir, sizes)
}

// fullIndices builds, for indices idx along axis (idx has the operand's rank), the tuple of
// coordinates of every element: shape idx.shape + [rank], int32.
func (l *lowerer) fullIndices(idx value, axis, size int) value {
	f := l.f
	r := idx.rank()
	i := l.wrapIndices(idx, size)
	it := i.dtype()
	col := append(append([]int(nil), idx.shape()...), 1)
	parts := make([]value, r)
	for d := 0; d < r; d++ {
		if d == axis {
			parts[d] = f.reshape(i, col...)
		} else {
			parts[d] = f.reshape(f.iota(it, idx.shape(), d), col...)
		}
	}
	return f.concat(r, parts...)
}

// takeAlongAxis gathers one element per index; indices match x except along the axis.
func (l *lowerer) takeAlongAxis(op prim.TakeAlongAxis, n *prim.Node) value {
	f := l.f
	x, idx := l.in(n, 0), l.in(n, 1)
	r := x.rank()
	all := make([]int, r)
	ones := make([]int, r)
	for d := range all {
		all[d], ones[d] = d, 1
	}
	tuples := l.fullIndices(idx, op.Axis, x.shape()[op.Axis])
	return f.gather(x, tuples, nil, all, all, r, ones)
}

// putAlongAxis writes (or adds) values at indices along an axis of a copy of x.
func (l *lowerer) putAlongAxis(op prim.PutAlongAxis, n *prim.Node) value {
	f := l.f
	x, idx, vals := l.in(n, 0), l.in(n, 1), l.in(n, 2)
	r := x.rank()
	all := make([]int, r)
	for d := range all {
		all[d] = d
	}
	tuples := l.fullIndices(idx, op.Axis, x.shape()[op.Axis])
	if !op.Add {
		return f.scatter(x, tuples, vals, nil, all, all, r, nil)
	}
	ct := computeType(x.dtype())
	c := combineAdd
	if x.dtype() == prim.Bool {
		c = combineOr
	}
	out := f.scatter(f.convert(x, ct), tuples, f.convert(vals, ct), nil, all, all, r, c)
	return f.convert(out, x.dtype())
}

// indexAdd adds rows of updates into a copy of x at 1-D indices along an axis.
func (l *lowerer) indexAdd(op prim.IndexAdd, n *prim.Node) value {
	f := l.f
	x, idx, upd := l.in(n, 0), l.in(n, 1), l.in(n, 2)
	ax := op.Axis
	i := l.wrapIndices(idx, x.shape()[ax])
	var window []int
	for d := 0; d < upd.rank(); d++ {
		if d != ax {
			window = append(window, d)
		}
	}
	ct := computeType(x.dtype())
	c := combineAdd
	if x.dtype() == prim.Bool {
		c = combineOr
	}
	out := f.scatter(f.convert(x, ct), i, f.convert(upd, ct), window, []int{ax}, []int{ax}, 1, c)
	return f.convert(out, x.dtype())
}

// sort sorts along the last axis, stably with NaNs last (-0 and +0 equal), or gives the
// permutation.
func (l *lowerer) sort(n *prim.Node, arg bool) value {
	f := l.f
	x := l.in(n, 0)
	last := x.rank() - 1
	key := x
	if x.dtype() == prim.Bool {
		key = f.convert(x, prim.Uint8)
	}
	less := func(r *fn, a []value) value {
		lt := r.compare(a[0], a[1], "LT")
		if key.dtype().IsFloat() {
			// A number is below every NaN.
			lt = r.or(lt, r.and(r.not(r.isNaN(a[0])), r.isNaN(a[1])))
		}
		return lt
	}
	if !arg {
		out := f.sortBy([]value{key}, last, less)[0]
		return f.convert(out, x.dtype())
	}
	perm := f.iota(n.DType, x.shape(), last)
	return f.sortBy([]value{key, perm}, last, less)[1]
}
