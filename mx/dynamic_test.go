package mx

import (
	"slices"
	"testing"
)

// refClamp clamps start indices the way DynamicSlice documents: into [0, dim - window].
func refClamp(start, shape, window []int) []int {
	out := make([]int, len(start))
	for i, s := range start {
		out[i] = min(max(s, 0), shape[i]-window[i])
	}
	return out
}

// refDynamicSlice reads the window element by element.
func refDynamicSlice(x []float64, shape, start, sizes []int) []float64 {
	s := refClamp(start, shape, sizes)
	out := make([]float64, windowSize(sizes))
	for f := range out {
		mi := unravel(f, sizes)
		src := 0
		for d := range shape {
			src = src*shape[d] + s[d] + mi[d]
		}
		out[f] = x[src]
	}
	return out
}

// refDynamicUpdateSlice writes the window element by element into a copy of x.
func refDynamicUpdateSlice(x []float64, shape []int, u []float64, ushape, start []int) []float64 {
	s := refClamp(start, shape, ushape)
	out := slices.Clone(x)
	for f, v := range u {
		mi := unravel(f, ushape)
		dst := 0
		for d := range shape {
			dst = dst*shape[d] + s[d] + mi[d]
		}
		out[dst] = v
	}
	return out
}

func windowSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func TestDynamicSliceMatchesReference(t *testing.T) {
	rng := newRNG(31)
	shape := []int{3, 5, 4}
	x := randn(rng, shape...)
	xv := x.Float64s()
	cases := []struct{ start, sizes []int }{
		{[]int{0, 0, 0}, []int{1, 2, 3}},
		{[]int{2, 3, 1}, []int{1, 2, 3}},
		{[]int{1, 4, 0}, []int{2, 3, 4}},      // clamped to 1, 2, 0
		{[]int{-3, -1, 7}, []int{3, 1, 2}},    // clamped to 0, 0, 2
		{[]int{5, 100, -100}, []int{0, 5, 1}}, // empty window
		{[]int{0, 2, 1}, []int{3, 5, 4}},      // the whole array
	}
	for _, c := range cases {
		want := refDynamicSlice(xv, shape, c.start, c.sizes)
		for _, dt := range []DType{Int32, Int64, Uint32} {
			if dt == Uint32 && slices.Min(c.start) < 0 {
				continue
			}
			start := AsType(FromSlice(c.start, 3), dt)
			got := DynamicSlice(x, start, c.sizes)
			assertShape(t, "DynamicSlice", got, c.sizes...)
			assertClose(t, "DynamicSlice "+dt.String(), got.Float64s(), want, 0, 0)
		}
		start := FromSlice(c.start, 3)
		xb := AsType(x, BFloat16)
		assertClose(t, "DynamicSlice bf16", DynamicSlice(xb, start, c.sizes).Float64s(),
			refDynamicSlice(xb.Float64s(), shape, c.start, c.sizes), 0, 0)
		xi := AsType(MulScalar(x, 10), Int32)
		assertClose(t, "DynamicSlice int32", DynamicSlice(xi, start, c.sizes).Float64s(),
			refDynamicSlice(xi.Float64s(), shape, c.start, c.sizes), 0, 0)
		if windowSize(c.sizes) > 0 {
			checkGrad(t, "DynamicSlice", func(a ...*Array) *Array { return DynamicSlice(a[0], start, c.sizes) }, x)
		}
	}
	// A window of a transposed (non-contiguous) input.
	xt := Transpose(x, 2, 0, 1)
	assertClose(t, "DynamicSlice of transpose", DynamicSlice(xt, FromSlice([]int32{1, 2, 1}, 3), []int{2, 1, 3}).Float64s(),
		refDynamicSlice(xt.Float64s(), []int{4, 3, 5}, []int{1, 2, 1}, []int{2, 1, 3}), 0, 0)
}

func TestDynamicUpdateSliceMatchesReference(t *testing.T) {
	rng := newRNG(32)
	shape := []int{2, 6, 3}
	x := randn(rng, shape...)
	xv := x.Float64s()
	cases := []struct{ start, ushape []int }{
		{[]int{0, 0, 0}, []int{1, 2, 3}},
		{[]int{1, 5, 0}, []int{1, 1, 3}},   // the last row
		{[]int{0, 5, 2}, []int{2, 3, 2}},   // clamped to 0, 3, 1
		{[]int{-1, -9, 9}, []int{2, 1, 1}}, // clamped to 0, 0, 2
		{[]int{0, 0, 0}, []int{2, 6, 3}},   // the whole array
	}
	for _, c := range cases {
		u := randn(rng, c.ushape...)
		want := refDynamicUpdateSlice(xv, shape, u.Float64s(), c.ushape, c.start)
		for _, dt := range []DType{Int32, Int64} {
			start := AsType(FromSlice(c.start, 3), dt)
			got := DynamicUpdateSlice(x, u, start)
			assertShape(t, "DynamicUpdateSlice", got, shape...)
			assertClose(t, "DynamicUpdateSlice "+dt.String(), got.Float64s(), want, 0, 0)
		}
		start := FromSlice(c.start, 3)
		// The update is converted to the array's dtype.
		xb, ub := AsType(x, BFloat16), AsType(u, Float32)
		assertClose(t, "DynamicUpdateSlice bf16", DynamicUpdateSlice(xb, ub, start).Float64s(),
			refDynamicUpdateSlice(xb.Float64s(), shape, AsType(ub, BFloat16).Float64s(), c.ushape, c.start), 0, 0)
		checkGrad(t, "DynamicUpdateSlice", func(a ...*Array) *Array { return DynamicUpdateSlice(a[0], a[1], start) }, x, u)
	}
	// An empty update leaves the array as it is.
	if got := DynamicUpdateSlice(x, Zeros([]int{0, 2, 3}, Float64), FromSlice([]int32{0, 1, 0}, 3)); got != x {
		t.Fatal("DynamicUpdateSlice with an empty update built a new array")
	}
}

func TestDynamicSliceAxis(t *testing.T) {
	rng := newRNG(33)
	x := randn(rng, 2, 3, 7, 4)
	xv := x.Float64s()
	for _, pos := range []int{0, 3, 5, 6, 9, -2} {
		p := Scalar(float64(pos), Int32)
		assertClose(t, "DynamicSliceAxis", DynamicSliceAxis(x, 2, p, 2).Float64s(),
			refDynamicSlice(xv, x.Shape(), []int{0, 0, pos, 0}, []int{2, 3, 2, 4}), 0, 0)
		u := randn(rng, 2, 3, 1, 4)
		assertClose(t, "DynamicUpdateSliceAxis", DynamicUpdateSliceAxis(x, u, -2, p).Float64s(),
			refDynamicUpdateSlice(xv, x.Shape(), u.Float64s(), u.Shape(), []int{0, 0, pos, 0}), 0, 0)
		checkGrad(t, "DynamicUpdateSliceAxis", func(a ...*Array) *Array { return DynamicUpdateSliceAxis(a[0], a[1], 2, p) }, x, u)
		checkGrad(t, "DynamicSliceAxis", func(a ...*Array) *Array { return DynamicSliceAxis(a[0], 2, p, 3) }, x)
	}
}

// TestDynamicUpdateSliceCompilesOnce checks the point of the primitive: a compiled function that
// writes at a run-time position is traced once for every position.
func TestDynamicUpdateSliceCompilesOnce(t *testing.T) {
	rng := newRNG(34)
	buf := AsType(randn(rng, 1, 2, 8, 3), Float32)
	step := Compile(func(a ...*Array) []*Array {
		c := DynamicUpdateSliceAxis(a[0], a[1], 2, a[2])
		return []*Array{c, DynamicSliceAxis(c, 2, a[2], 1)}
	})
	want := buf.Float64s()
	for pos := range 8 {
		row := AsType(randn(rng, 1, 2, 1, 3), Float32)
		out := step.Call(buf, row, Scalar(float64(pos), Int32))
		want = refDynamicUpdateSlice(want, buf.Shape(), row.Float64s(), row.Shape(), []int{0, 0, pos, 0})
		assertClose(t, "compiled update", out[0].Float64s(), want, 0, 0)
		assertClose(t, "compiled read back", out[1].Float64s(), row.Float64s(), 0, 0)
		buf = out[0]
	}
	if n := step.Traces(); n != 1 {
		t.Fatalf("traced %d times for 8 positions, want 1", n)
	}
}

func TestDynamicSliceErrors(t *testing.T) {
	x := Zeros([]int{3, 4}, Float32)
	s := FromSlice([]int32{0, 1}, 2)
	mustPanic(t, func() { DynamicSlice(x, FromSlice([]float32{0, 1}, 2), []int{1, 1}) }, "mx.DynamicSlice", "integers", "float32")
	mustPanic(t, func() { DynamicSlice(x, FromSlice([]int32{0, 1, 2}, 3), []int{1, 1}) }, "mx.DynamicSlice", "vector of 2", "[3]")
	mustPanic(t, func() { DynamicSlice(x, s, []int{1}) }, "mx.DynamicSlice", "sizes [1]", "[3 4]")
	mustPanic(t, func() { DynamicSlice(x, s, []int{1, 5}) }, "mx.DynamicSlice", "size 5 of axis 1", "[0, 4]")
	mustPanic(t, func() { DynamicUpdateSlice(x, Zeros([]int{4}, Float32), s) }, "mx.DynamicUpdateSlice", "[4]", "[3 4]", "rank")
	mustPanic(t, func() { DynamicUpdateSlice(x, Zeros([]int{1, 5}, Float32), s) }, "mx.DynamicUpdateSlice", "[1 5]", "axis 1")
	mustPanic(t, func() { DynamicUpdateSlice(x, Zeros([]int{1, 1}, Float32), Reshape(s, 1, 2)) }, "mx.DynamicUpdateSlice", "[1 2]")
	mustPanic(t, func() { DynamicSliceAxis(x, 1, s, 1) }, "mx.DynamicSliceAxis", "integer scalar", "[2]")
	mustPanic(t, func() { DynamicUpdateSliceAxis(x, Zeros([]int{3, 1}, Float32), 1, Scalar(0.5, Float32)) }, "mx.DynamicUpdateSliceAxis", "integer scalar")
	mustPanic(t, func() { DynamicUpdateSliceAxis(x, Zeros([]int{2, 1}, Float32), 1, Scalar(0, Int32)) }, "mx.DynamicUpdateSliceAxis", "except along axis 1")
}
