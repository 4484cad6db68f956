package mx

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// refArgSort gives, for every lane along axis, the stable ascending permutation (NaNs last), as a
// flat array of x's shape. desc sorts descending instead (NaNs first), still stable.
func refArgSort(x []float64, shape []int, axis int, desc bool) []int {
	out := make([]int, len(x))
	n := shape[axis]
	for f := range x {
		mi := unravel(f, shape)
		if mi[axis] != 0 {
			continue
		}
		lane := make([]int, n) // flat positions of the lane
		for j := range lane {
			mi[axis] = j
			p := 0
			for d, v := range mi {
				p = p*shape[d] + v
			}
			lane[j] = p
		}
		less := func(a, b float64) bool {
			if math.IsNaN(a) {
				return false
			}
			return math.IsNaN(b) || a < b
		}
		perm := seqInts(n)
		sort.SliceStable(perm, func(i, j int) bool {
			a, b := x[lane[perm[i]]], x[lane[perm[j]]]
			if desc {
				return less(b, a)
			}
			return less(a, b)
		})
		for j := range lane {
			out[lane[j]] = perm[j]
		}
	}
	return out
}

// takeLanes gathers x along axis at the lane-relative indices idx (x's shape except along axis).
func takeLanes(x []float64, shape []int, axis int, idx []int, ishape []int) []float64 {
	out := make([]float64, len(idx))
	for f, j := range idx {
		mi := unravel(f, ishape)
		mi[axis] = j
		p := 0
		for d, v := range mi {
			p = p*shape[d] + v
		}
		out[f] = x[p]
	}
	return out
}

// tiesAndNaNs makes values with many ties, some NaNs, and both zeros.
func tiesAndNaNs(seed uint64, n int) []float64 {
	rng := newRNG(seed)
	v := make([]float64, n)
	for i := range v {
		switch rng.IntN(12) {
		case 0:
			v[i] = math.NaN()
		case 1:
			v[i] = math.Copysign(0, -1)
		case 2:
			v[i] = math.Inf(1 - 2*rng.IntN(2))
		default:
			v[i] = float64(rng.IntN(9) - 4)
		}
	}
	return v
}

func TestSortArgSort(t *testing.T) {
	for _, shape := range [][]int{{7}, {3, 5}, {2, 40, 3}, {2, 1, 70}, {0, 3}, {4, 0}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		xv := tiesAndNaNs(uint64(n), n)
		x := FromSlice(xv, shape...)
		for axis := -len(shape); axis < len(shape); axis++ {
			ax := normAxis("test", axis, len(shape))
			perm := refArgSort(xv, shape, ax, false)
			wantVals := takeLanes(xv, shape, ax, perm, shape)
			if got := ArgSort(x, axis); !slices.Equal(got.Ints(), perm) || got.DType() != Int32 {
				t.Fatalf("ArgSort %v axis %d = %v (%s), want %v", shape, axis, got.Ints(), got.DType(), perm)
			}
			assertClose(t, "Sort", Sort(x, axis).Float64s(), wantVals, 0, 0)
			// Other dtypes: the permutation of the converted values.
			for _, dt := range []DType{Float32, BFloat16, Float16, Int32, Int64} {
				xc := AsType(x, dt)
				if dt.IsInteger() {
					xc = AsType(FromSlice(clean(xv), shape...), dt)
				}
				cv := xc.Float64s()
				p := refArgSort(cv, shape, ax, false)
				if got := ArgSort(xc, axis).Ints(); !slices.Equal(got, p) {
					t.Fatalf("ArgSort %s %v axis %d = %v, want %v", dt, shape, axis, got, p)
				}
				assertClose(t, "Sort "+dt.String(), Sort(xc, axis).Float64s(), takeLanes(cv, shape, ax, p, shape), 0, 0)
			}
		}
	}
	// Many rows, sorted in parallel.
	wv := tiesAndNaNs(7, 600*40)
	w := FromSlice(wv, 600, 40)
	if got := ArgSort(AsType(w, Float32), 1).Ints(); !slices.Equal(got, refArgSort(wv, []int{600, 40}, 1, false)) {
		t.Fatal("ArgSort of many rows differs from the reference")
	}
	// Unsigned and bool.
	u := FromSlice([]uint32{5, 1, 4294967295, 0, 1}, 5)
	if got := ArgSort(u, 0).Ints(); !slices.Equal(got, []int{3, 1, 4, 0, 2}) {
		t.Fatalf("ArgSort uint32 = %v", got)
	}
	b := FromSlice([]bool{true, false, true, false}, 4)
	if got := ArgSort(b, 0).Ints(); !slices.Equal(got, []int{1, 3, 0, 2}) {
		t.Fatalf("ArgSort bool = %v", got)
	}
	u8 := FromSlice([]uint8{200, 3, 3, 0}, 2, 2)
	assertClose(t, "Sort uint8", Sort(u8, 0).Float64s(), []float64{3, 0, 200, 3}, 0, 0)
	// -0 and +0 tie: the stable order keeps them as they came.
	z := FromSlice([]float32{0, float32(math.Copysign(0, -1)), -1}, 3)
	if got := Sort(z, 0).Float32s(); !math.Signbit(float64(got[2])) || math.Signbit(float64(got[1])) {
		t.Fatalf("Sort of zeros = %v, want [-1 0 -0]", got)
	}
	mustPanic(t, func() { Sort(Scalar(1, Float32), 0) }, "mx.Sort", "axis 0")
	mustPanic(t, func() { ArgSort(z, 1) }, "mx.ArgSort", "axis 1")
}

// clean replaces NaNs and infinities so values convert to integers exactly.
func clean(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out[i] = x
		} else {
			out[i] = 7
		}
	}
	return out
}

func TestSortGrad(t *testing.T) {
	rng := newRNG(31)
	x := randn(rng, 3, 4, 5)
	for _, axis := range []int{0, 1, -1} {
		checkGrad(t, "Sort", func(a ...*Array) *Array { return Sort(a[0], axis) }, x)
	}
	// ArgSort gives no gradient to its input.
	_, g := ValueAndGrad(func(a ...*Array) *Array {
		return Sum(Mul(a[0], AsType(ArgSort(a[0], 1), Float64)), nil, false)
	})(x)
	idx := AsType(ArgSort(x, 1), Float64).Float64s()
	assertClose(t, "ArgSort grad", g[0].Float64s(), idx, 0, 0)
}

func TestTopK(t *testing.T) {
	shape := []int{3, 50, 4}
	xv := tiesAndNaNs(41, 3*50*4)
	x := FromSlice(xv, shape...)
	for axis := -3; axis < 3; axis++ {
		ax := normAxis("test", axis, 3)
		desc := refArgSort(xv, shape, ax, true)
		for _, k := range []int{0, 1, 3, shape[ax]} {
			vals, idx := TopK(x, k, axis)
			ishape := slices.Clone(shape)
			ishape[ax] = k
			// Reference: the first k of the descending stable permutation of every lane.
			want := make([]int, 0, prim.ShapeSize(ishape))
			for f := 0; f < prim.ShapeSize(ishape); f++ {
				mi := unravel(f, ishape)
				p := 0
				for d, v := range mi {
					p = p*shape[d] + v
				}
				want = append(want, desc[p])
			}
			assertShape(t, "TopK values", vals, ishape...)
			if idx.DType() != Int32 || !slices.Equal(idx.Ints(), want) {
				t.Fatalf("TopK k=%d axis %d indices %v, want %v", k, axis, idx.Ints(), want)
			}
			assertClose(t, "TopK values", vals.Float64s(), takeLanes(xv, shape, ax, want, ishape), 0, 0)
		}
	}
	// float32 and bf16 values agree with their indices.
	for _, dt := range []DType{Float32, BFloat16} {
		xc := AsType(x, dt)
		vals, idx := TopK(xc, 5, 1)
		assertClose(t, "TopK "+dt.String(), vals.Float64s(), TakeAlongAxis(xc, idx, 1).Float64s(), 0, 0)
	}
	rng := newRNG(42)
	y := randn(rng, 4, 6)
	checkGrad(t, "TopK", func(a ...*Array) *Array { v, _ := TopK(a[0], 3, 1); return v }, y)
	checkGrad(t, "TopK axis 0", func(a ...*Array) *Array { v, _ := TopK(a[0], 2, 0); return v }, y)
	mustPanic(t, func() { TopK(y, 7, 1) }, "mx.TopK", "k = 7", "[4 6]")
	mustPanic(t, func() { TopK(y, -1, 0) }, "mx.TopK", "k = -1")
}
