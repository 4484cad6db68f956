package mx

import (
	"github.com/lmxlab/lmxlab/internal/testenv"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Shared test helpers: random inputs, closeness checks, and the finite-difference gradient check
// that every differentiable primitive's VJP is tested with.

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// randn makes a float64 array of standard normal values.
func randn(rng *rand.Rand, shape ...int) *Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return FromSlice(v, shape...)
}

// randu makes a float64 array uniform in [lo, hi).
func randu(rng *rand.Rand, lo, hi float64, shape ...int) *Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return FromSlice(v, shape...)
}

// assertClose fails if got and want differ by more than atol + rtol*|want| anywhere.
func assertClose(t *testing.T, what string, got, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.IsInf(w, 0) && g == w {
			continue
		}
		if math.Abs(g-w) > atol+rtol*math.Abs(w) || math.IsNaN(g) != math.IsNaN(w) {
			t.Fatalf("%s: element %d = %v, want %v (atol %g rtol %g)", what, i, g, w, atol, rtol)
		}
	}
}

// assertShape fails if a's shape differs from want.
func assertShape(t *testing.T, what string, a *Array, want ...int) {
	t.Helper()
	if !slices.Equal(a.Shape(), want) {
		t.Fatalf("%s: shape %v, want %v", what, a.Shape(), want)
	}
}

// checkGrad compares the VJP of f at args (all float64) with central finite differences of the
// scalar sum(f(args) * w) for a fixed random weighting w. Integer arguments are left alone.
func checkGrad(t *testing.T, what string, f func(args ...*Array) *Array, args ...*Array) {
	t.Helper()
	rng := newRNG(99)
	out := f(args...)
	w := randn(rng, out.Shape()...)
	scalar := func(xs ...*Array) *Array { return Sum(Mul(f(xs...), w), nil, false) }
	var argnums []int
	for i, a := range args {
		if a.DType() == Float64 {
			argnums = append(argnums, i)
		}
	}
	_, grads := ValueAndGrad(scalar, argnums...)(args...)
	Eval(grads...)
	const eps = 1e-6
	for gi, ai := range argnums {
		x := args[ai].Float64s()
		got := grads[gi].Float64s()
		if !slices.Equal(grads[gi].Shape(), args[ai].Shape()) {
			t.Fatalf("%s: gradient %d has shape %v, argument %v", what, ai, grads[gi].Shape(), args[ai].Shape())
		}
		for j := range x {
			eval := func(v float64) float64 {
				xp := append([]float64(nil), x...)
				xp[j] = v
				xs := append([]*Array(nil), args...)
				xs[ai] = FromSlice(xp, args[ai].Shape()...)
				return scalar(xs...).Item()
			}
			num := (eval(x[j]+eps) - eval(x[j]-eps)) / (2 * eps)
			if math.Abs(num-got[j]) > 1e-5+1e-4*math.Abs(num) {
				t.Fatalf("%s: d/darg%d[%d] = %.8g by VJP, %.8g by finite differences", what, ai, j, got[j], num)
			}
		}
	}
}

// mustPanic checks that f panics with a message naming every fragment.
var mustPanic = testenv.MustPanic

// refBroadcast reads x (shape xs, row-major) at the multi-index idx of a broadcast output.
func refIndex(xs []int, idx []int) int {
	off := len(idx) - len(xs)
	flat := 0
	for i, d := range xs {
		j := idx[off+i]
		if d == 1 {
			j = 0
		}
		flat = flat*d + j
	}
	return flat
}

// unravel turns a flat row-major index into a multi-index.
func unravel(flat int, shape []int) []int {
	idx := make([]int, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		idx[i] = flat % shape[i]
		flat /= shape[i]
	}
	return idx
}
