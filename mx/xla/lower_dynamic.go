package xla

import "github.com/lmxlab/lmxlab/mx/prim"

// Lowerings of DynamicSlice and DynamicUpdateSlice to stablehlo.dynamic_slice and
// stablehlo.dynamic_update_slice. Both clamp their start indices so the window fits, which is
// exactly mx's semantics, so the lowering only splits the start vector into the scalar operands
// the StableHLO ops take.

// startScalars splits an integer start vector into rank-0 values of one integer type (int32 or
// int64; unsigned starts widen to int64 so that large values clamp instead of wrapping).
func (l *lowerer) startScalars(start value) []value {
	f := l.f
	it := start.dtype()
	if it != prim.Int32 && it != prim.Int64 {
		it = prim.Int64
	}
	s := f.convert(start, it)
	out := make([]value, start.shape()[0])
	for i := range out {
		out[i] = f.reshape(f.slice(s, []int{i}, []int{i + 1}, []int{1}))
	}
	return out
}

func (l *lowerer) dynamicSlice(op prim.DynamicSlice, n *prim.Node) value {
	x := l.in(n, 0)
	return l.f.dynamicSliceAt(x, l.startScalars(l.in(n, 1)), op.Sizes)
}

func (l *lowerer) dynamicUpdateSlice(n *prim.Node) value {
	x, u := l.in(n, 0), l.in(n, 1)
	return l.f.dynamicUpdateSliceAt(x, u, l.startScalars(l.in(n, 2)))
}

// checkStarts fails unless there is one rank-0 integer start per dimension of x, all of one type.
func checkStarts(op string, x value, starts []value) {
	if len(starts) != x.rank() {
		failf("%s of %v with %d start indices", op, x.t, len(starts))
	}
	for _, s := range starts {
		if s.rank() != 0 || !s.dtype().IsInteger() || s.dtype() != starts[0].dtype() {
			failf("%s of %v: start index of type %v (want rank-0 integers of one type)", op, x.t, s.t)
		}
	}
}

// dynamicSliceAt reads the window of the given sizes at run-time starts (clamped by XLA).
func (f *fn) dynamicSliceAt(x value, starts []value, sizes []int) value {
	checkStarts("dynamic_slice", x, starts)
	if len(sizes) != x.rank() {
		failf("dynamic_slice of %v: sizes %v", x.t, sizes)
	}
	for i, s := range sizes {
		if s < 0 || s > x.shape()[i] {
			failf("dynamic_slice of %v: sizes %v", x.t, sizes)
		}
	}
	ops := append([]value{x}, starts...)
	return f.emit1("stablehlo.dynamic_slice", ops, "slice_sizes = "+i64Array(sizes), tt(x.dtype(), sizes...))
}

// dynamicUpdateSliceAt writes upd into x at run-time starts (clamped by XLA).
func (f *fn) dynamicUpdateSliceAt(x, upd value, starts []value) value {
	checkStarts("dynamic_update_slice", x, starts)
	if x.rank() != upd.rank() || x.dtype() != upd.dtype() {
		failf("dynamic_update_slice of %v into %v", upd.t, x.t)
	}
	for i, d := range upd.shape() {
		if d > x.shape()[i] {
			failf("dynamic_update_slice of %v into %v", upd.t, x.t)
		}
	}
	ops := append([]value{x, upd}, starts...)
	return f.emit1("stablehlo.dynamic_update_slice", ops, "", x.t)
}
