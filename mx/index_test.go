package mx

import (
	"slices"
	"testing"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// refTake gathers x (shape) along axis at the flat indices idx (already wrapped), giving the
// values of shape[:axis] + [len(idx)] + shape[axis+1:].
func refTake(x []float64, shape []int, axis int, idx []int) []float64 {
	idxs := make([][]int, len(shape))
	for i, d := range shape {
		idxs[i] = seqInts(d)
	}
	idxs[axis] = idx
	return refGather(x, shape, idxs)
}

func wrapAll(idx []int, n int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		if j < 0 {
			j += n
		}
		out[i] = j
	}
	return out
}

func TestTake(t *testing.T) {
	rng := newRNG(21)
	shape := []int{3, 4, 2}
	x := randn(rng, shape...)
	xv := x.Float64s()
	for _, c := range []struct {
		idx   []int
		shape []int
	}{
		{[]int{1}, []int{}},
		{[]int{0, 2, -1}, []int{3}},
		{[]int{1, 1, 0, -2, 0, 1}, []int{2, 3}},
		{[]int{}, []int{0}},
		{[]int{2, 0}, []int{2, 1}},
	} {
		for axis := -3; axis < 3; axis++ {
			ax := normAxis("test", axis, 3)
			if slices.Max(append([]int{0}, c.idx...)) >= shape[ax] || slices.Min(append([]int{0}, c.idx...)) < -shape[ax] {
				continue
			}
			idx := FromSlice(c.idx, c.shape...)
			got := Take(x, idx, axis)
			wantShape := slices.Concat(shape[:ax], c.shape, shape[ax+1:])
			assertShape(t, "Take", got, wantShape...)
			want := refTake(xv, shape, ax, wrapAll(c.idx, shape[ax]))
			assertClose(t, "Take", got.Float64s(), want, 0, 0)
			assertClose(t, "Take int64 indices", Take(x, AsType(idx, Int64), axis).Float64s(), want, 0, 0)
			xb := AsType(x, BFloat16)
			assertClose(t, "Take bf16", Take(xb, idx, axis).Float64s(), refTake(xb.Float64s(), shape, ax, wrapAll(c.idx, shape[ax])), 0, 0)
			checkGrad(t, "Take", func(a ...*Array) *Array { return Take(a[0], idx, axis) }, x)
		}
	}
	// A transposed table.
	xt := Transpose(x, 2, 0, 1)
	idx := FromSlice([]int32{1, 0, 1}, 3)
	assertClose(t, "Take of transpose", Take(xt, idx, 0).Float64s(), refTake(xt.Float64s(), []int{2, 3, 4}, 0, []int{1, 0, 1}), 0, 0)
	// Errors: float indices at build time, out of range inside Eval (on devices that check).
	mustPanic(t, func() { Take(x, FromSlice([]float32{1}, 1), 0) }, "mx.Take", "float32")
	if checkedIndices(t) {
		mustPanic(t, func() { Take(x, FromSlice([]int32{3}, 1), 0).Float64s() }, "Take", "index 3 out of range", "size 3")
		mustPanic(t, func() { Take(x, FromSlice([]int32{-5}, 1), 1).Float64s() }, "Take", "out of range")
	}
	mustPanic(t, func() { Take(Zeros([]int{0, 2}, Float32), FromSlice([]int32{0}, 1), 0) }, "mx.Take", "[0 2]")
}

func TestTakeEmbedding(t *testing.T) {
	// An embedding lookup big enough for the parallel path, and its gradient (IndexAdd on axis 0).
	rng := newRNG(22)
	const V, D, B, L = 50, 96, 8, 48
	table := AsType(randn(rng, V, D), Float32)
	tok := make([]int32, B*L)
	for i := range tok {
		tok[i] = int32(rng.IntN(V))
	}
	tokens := FromSlice(tok, B, L)
	got := Take(table, tokens, 0)
	assertShape(t, "embedding", got, B, L, D)
	tv := table.Float32s()
	gv := got.Float32s()
	for i, tk := range tok {
		if !slices.Equal(gv[i*D:(i+1)*D], tv[int(tk)*D:int(tk+1)*D]) {
			t.Fatalf("embedding row %d differs", i)
		}
	}
	// Gradient: rows accumulate in token order, exactly like a sequential float32 loop.
	c := AsType(randn(rng, B, L, D), Float32)
	_, vj := VJP(func(a ...*Array) []*Array { return []*Array{Take(a[0], tokens, 0)} }, []*Array{table}, []*Array{c})
	want := make([]float32, V*D)
	cv := c.Float32s()
	for i, tk := range tok {
		for d := 0; d < D; d++ {
			want[int(tk)*D+d] += cv[i*D+d]
		}
	}
	for run := 0; run < 2; run++ {
		g := vj[0]
		if run == 1 { // recompute from scratch: must be bitwise identical
			_, again := VJP(func(a ...*Array) []*Array { return []*Array{Take(a[0], tokens, 0)} }, []*Array{table}, []*Array{c})
			g = again[0]
		}
		if !DefaultDevice().Traits().OrderedScatter {
			// Atomic adds in any order: equal to the sequential sum up to rounding.
			assertClose(t, "embedding gradient", g.Float64s(), f32s(want), 1e-5, 1e-5)
			continue
		}
		if !slices.Equal(g.Float32s(), want) {
			t.Fatalf("embedding gradient (run %d) differs from the sequential sum", run)
		}
	}
}

func TestTakeScatterParallelAxes(t *testing.T) {
	// Shapes big enough for the parallel split, with work items crossing outer-index boundaries.
	rng := newRNG(24)
	shape := []int{64, 37, 3}
	x := randn(rng, shape...)
	xv := x.Float64s()
	for _, axis := range []int{1, 2} {
		n := shape[axis]
		idx := make([]int, 700)
		for i := range idx {
			idx[i] = rng.IntN(2*n) - n
		}
		ia := FromSlice(idx, len(idx))
		assertClose(t, "Take parallel", Take(x, ia, axis).Float64s(), refTake(xv, shape, axis, wrapAll(idx, n)), 0, 0)
		ushape := slices.Clone(shape)
		ushape[axis] = len(idx)
		u := randn(rng, ushape...)
		want := refScatterAdd(xv, shape, axis, wrapAll(idx, n), u.Float64s())
		assertClose(t, "ScatterAdd parallel", ScatterAdd(x, ia, u, axis).Float64s(), want, 1e-12, 1e-12)
	}
}

// refScatterAdd adds u (shape[:axis] + [len(idx)] + shape[axis+1:]) into a copy of x.
func refScatterAdd(x []float64, shape []int, axis int, idx []int, u []float64) []float64 {
	out := append([]float64(nil), x...)
	ushape := slices.Clone(shape)
	ushape[axis] = len(idx)
	for f, v := range u {
		mi := unravel(f, ushape)
		mi[axis] = idx[mi[axis]]
		dst := 0
		for d, j := range mi {
			dst = dst*shape[d] + j
		}
		out[dst] += v
	}
	return out
}

func TestScatterAdd(t *testing.T) {
	rng := newRNG(23)
	shape := []int{3, 4, 2}
	x := randn(rng, shape...)
	xv := x.Float64s()
	for _, idx := range [][]int{{1}, {0, 2, -1, 2, 0}, {}, {-1, -1, -1}} {
		for axis := -3; axis < 3; axis++ {
			ax := normAxis("test", axis, 3)
			if len(idx) > 0 && (slices.Max(idx) >= shape[ax] || slices.Min(idx) < -shape[ax]) {
				continue
			}
			ushape := slices.Clone(shape)
			ushape[ax] = len(idx)
			u := randn(rng, ushape...)
			ia := FromSlice(append([]int{}, idx...), len(idx))
			got := ScatterAdd(x, ia, u, axis)
			want := refScatterAdd(xv, shape, ax, wrapAll(idx, shape[ax]), u.Float64s())
			assertClose(t, "ScatterAdd", got.Float64s(), want, 1e-12, 1e-12)
			assertClose(t, "ScatterAdd f32", ScatterAdd(AsType(x, Float32), ia, u, axis).Float64s(), want, 1e-5, 1e-5)
			checkGrad(t, "ScatterAdd", func(a ...*Array) *Array { return ScatterAdd(a[0], ia, a[1], axis) }, x, u)
		}
	}
	// Broadcast updates, integer and bool arrays.
	got := ScatterAdd(Zeros([]int{3, 2}, Int32), FromSlice([]int32{2, 0, 2}, 3), Ones([]int{1}, Int32), 0)
	assertClose(t, "ScatterAdd int", got.Float64s(), []float64{1, 1, 0, 0, 2, 2}, 0, 0)
	gb := ScatterAdd(Zeros([]int{2, 3}, Bool), FromSlice([]int32{1}, 1), FromSlice([]bool{true, false}, 2, 1), 1)
	if !slices.Equal(gb.Bools(), []bool{false, true, false, false, false, false}) {
		t.Fatalf("ScatterAdd bool = %v", gb.Bools())
	}
	// bfloat16 accumulates in float32 and rounds once per element.
	base := []float32{1, 256}
	upd := []float32{0.5, 0.5, 0.5, 1}
	hb := ScatterAdd(AsType(FromSlice(base, 2), BFloat16), FromSlice([]int32{1, 1, 1, 0}, 4), AsType(FromSlice(upd, 4), BFloat16), 0)
	wantBits := []uint16{prim.BF16FromFloat32(1 + 1), prim.BF16FromFloat32(256 + 0.5 + 0.5 + 0.5)}
	if !slices.Equal(hb.Bits(), wantBits) {
		t.Fatalf("ScatterAdd bf16 bits %v, want %v", hb.Bits(), wantBits)
	}
	mustPanic(t, func() { ScatterAdd(x, FromSlice([]int32{0, 1}, 1, 2), randn(rng, 3, 2, 2), 1) }, "mx.ScatterAdd", "1-D", "[1 2]")
	mustPanic(t, func() { ScatterAdd(x, FromSlice([]int32{0, 1}, 2), randn(rng, 3, 3, 2), 1) }, "mx.ScatterAdd", "[3 3 2]", "[3 2 2]")
	if checkedIndices(t) {
		mustPanic(t, func() { ScatterAdd(x, FromSlice([]int32{4}, 1), randn(rng, 3, 1, 2), 1).Float64s() }, "IndexAdd", "index 4 out of range")
	}
}

// checkedIndices reports whether the default device fails a run on an out-of-range index
// (prim.Traits); on one that does not, the result for such an index is unspecified.
func checkedIndices(t *testing.T) bool {
	t.Helper()
	ok := DefaultDevice().Traits().CheckedIndices
	if !ok {
		t.Logf("device %s does not check indices: out-of-range cases not run", DefaultDevice())
	}
	return ok
}

// f32s widens a float32 slice.
func f32s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
