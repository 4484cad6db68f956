package mx

import (
	"math"
	"testing"
)

// refCrossEntropy is -log softmax(row)[target] per row of x (rows × v), 0 for negative targets.
func refCrossEntropy(x []float64, v int, targets []int) []float64 {
	out := make([]float64, len(targets))
	for r, t := range targets {
		if t < 0 {
			continue
		}
		row := x[r*v : r*v+v]
		m := math.Inf(-1)
		for _, e := range row {
			m = math.Max(m, e)
		}
		s := 0.0
		for _, e := range row {
			s += math.Exp(e - m)
		}
		out[r] = m + math.Log(s) - row[t]
	}
	return out
}

func randTargets(n, v int, seed uint64) []int {
	rng := newRNG(seed)
	t := make([]int, n)
	for i := range t {
		t[i] = rng.IntN(v)
		if rng.Float64() < 0.2 {
			t[i] = -1
		}
	}
	return t
}

func TestCrossEntropyMatchesReference(t *testing.T) {
	rng := newRNG(40)
	for _, shape := range [][]int{{2, 3, 7}, {5, 1}, {4, 300}, {0, 6}, {9}} {
		v := shape[len(shape)-1]
		lead := shape[:len(shape)-1]
		n := 1
		for _, d := range lead {
			n *= d
		}
		x := MulScalar(randn(rng, shape...), 2)
		tg := randTargets(n, v, uint64(n))
		targets := FromSlice(tg, lead...)
		want := refCrossEntropy(x.Float64s(), v, tg)
		got := CrossEntropy(x, targets)
		assertShape(t, "CrossEntropy", got, lead...)
		assertClose(t, "CrossEntropy f64", got.Float64s(), want, 1e-12, 1e-12)
		got32 := CrossEntropy(AsType(x, Float32), AsType(targets, Int64))
		if got32.DType() != Float32 {
			t.Fatalf("CrossEntropy of float32 gave %s", got32.DType())
		}
		assertClose(t, "CrossEntropy f32", got32.Float64s(), want, 1e-5, 1e-5)
		xb := AsType(x, BFloat16)
		gotB := CrossEntropy(xb, targets)
		if gotB.DType() != Float32 {
			t.Fatalf("CrossEntropy of bfloat16 gave %s, want float32 losses", gotB.DType())
		}
		assertClose(t, "CrossEntropy bf16", gotB.Float64s(), refCrossEntropy(xb.Float64s(), v, tg), 1e-5, 1e-5)
		if x.Size() > 0 && x.Size() < 50 {
			checkGrad(t, "CrossEntropy", func(a ...*Array) *Array { return CrossEntropy(a[0], targets) }, x)
		}
	}
	// Gradients on a larger vocabulary, against log-softmax picked with TakeAlongAxis; ignored
	// rows get zero gradient. Float32 and bfloat16 logits get gradients of their own dtype.
	x := randn(rng, 6, 300)
	tg := []int{3, -1, 299, 0, -5, 17}
	targets := FromSlice(tg, 6)
	cot := randn(rng, 6)
	keep := FromSlice([]float64{1, 0, 1, 1, 0, 1}, 6)
	safe := Maximum(targets, ZerosLike(targets))
	composite := func(a ...*Array) []*Array {
		picked := Squeeze(TakeAlongAxis(LogSoftmax(a[0], -1), Reshape(safe, 6, 1), 1), 1)
		return []*Array{Mul(Neg(picked), keep)}
	}
	_, want := VJP(composite, []*Array{x}, []*Array{cot})
	for _, dt := range []DType{Float64, Float32, BFloat16} {
		loss := func(a ...*Array) []*Array { return []*Array{CrossEntropy(a[0], targets)} }
		_, got := VJP(loss, []*Array{AsType(x, dt)}, []*Array{AsType(cot, gradType(dt))})
		if got[0].DType() != dt {
			t.Fatalf("CrossEntropy gradient of %s logits has dtype %s", dt, got[0].DType())
		}
		tol := map[DType]float64{Float64: 1e-12, Float32: 1e-6, BFloat16: 1e-2}[dt]
		assertClose(t, "CrossEntropy gradient "+dt.String(), got[0].Float64s(), want[0].Float64s(), tol, tol)
	}
	// Non-contiguous logits, and large logits that would overflow a naive softmax.
	xt := MulScalar(Transpose(randn(rng, 5, 4)), 500)
	tt := FromSlice([]int{0, 4, 2, 1}, 4)
	assertClose(t, "CrossEntropy transposed", CrossEntropy(AsType(xt, Float32), tt).Float64s(),
		refCrossEntropy(xt.Float64s(), 5, []int{0, 4, 2, 1}), 1e-3, 1e-5)
}

func TestCrossEntropyErrors(t *testing.T) {
	rng := newRNG(41)
	x := randn(rng, 3, 4)
	mustPanic(t, func() { CrossEntropy(x, FromSlice([]int{1, 2}, 2)) }, "mx.CrossEntropy", "[2]", "[3 4]")
	mustPanic(t, func() { CrossEntropy(x, randn(rng, 3)) }, "mx.CrossEntropy", "integers", "float64")
	mustPanic(t, func() { CrossEntropy(Scalar(1, Float32), Scalar(0, Int32)) }, "mx.CrossEntropy", "[]")
	if checkedIndices(t) {
		mustPanic(t, func() { CrossEntropy(x, FromSlice([]int{1, 4, 0}, 3)).Float64s() }, "CrossEntropy", "target 4 out of range for 4 classes")
	}
}
