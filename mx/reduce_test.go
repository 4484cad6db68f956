package mx

import (
	"math"
	"slices"
	"testing"
)

// refReduce reduces x (shape) over axes with f starting from init, keeping dims.
func refReduce(x []float64, shape, axes []int, init float64, f func(acc, v float64) float64) []float64 {
	outShape := append([]int(nil), shape...)
	for _, a := range axes {
		outShape[a] = 1
	}
	n := 1
	for _, d := range outShape {
		n *= d
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = init
	}
	for i, v := range x {
		idx := unravel(i, shape)
		for _, a := range axes {
			idx[a] = 0
		}
		o := 0
		for d, j := range idx {
			o = o*outShape[d] + j
		}
		out[o] = f(out[o], v)
	}
	return out
}

func TestReductionsMatchReference(t *testing.T) {
	rng := newRNG(5)
	shape := []int{3, 4, 5}
	x := randn(rng, shape...)
	xv := x.Float64s()
	axesList := [][]int{{0}, {1}, {2}, {-1}, {0, 2}, {0, 1}, {1, 2}, {0, 1, 2}}
	for _, axes := range axesList {
		ax := normAxes("test", axes, 3)
		sum := refReduce(xv, shape, ax, 0, func(a, v float64) float64 { return a + v })
		assertClose(t, "Sum", Sum(x, axes, true).Float64s(), sum, 1e-12, 1e-12)
		assertClose(t, "Sum f32", Sum(AsType(x, Float32), axes, false).Float64s(), sum, 1e-5, 1e-5)
		assertClose(t, "Max", Max(x, axes, false).Float64s(), refReduce(xv, shape, ax, math.Inf(-1), math.Max), 0, 0)
		assertClose(t, "Min", Min(x, axes, false).Float64s(), refReduce(xv, shape, ax, math.Inf(1), math.Min), 0, 0)
		assertClose(t, "Prod", Prod(x, axes, false).Float64s(), refReduce(xv, shape, ax, 1, func(a, v float64) float64 { return a * v }), 1e-12, 1e-12)
		cnt := float64(reducedCount("t", x, axes))
		mean := make([]float64, len(sum))
		for i := range sum {
			mean[i] = sum[i] / cnt
		}
		assertClose(t, "Mean", Mean(x, axes, false).Float64s(), mean, 1e-12, 1e-12)
		lse := refReduce(xv, shape, ax, 0, func(a, v float64) float64 { return a + math.Exp(v) })
		for i := range lse {
			lse[i] = math.Log(lse[i])
		}
		assertClose(t, "LogSumExp", LogSumExp(x, axes, false).Float64s(), lse, 1e-12, 1e-12)
		for _, f := range []struct {
			name string
			fn   func(*Array, []int, bool) *Array
		}{{"Sum", Sum}, {"Max", Max}, {"Min", Min}, {"Prod", Prod}, {"Mean", Mean}, {"LogSumExp", LogSumExp}} {
			checkGrad(t, f.name, func(a ...*Array) *Array { return f.fn(a[0], axes, false) }, x)
		}
		checkGrad(t, "Var", func(a ...*Array) *Array { return Var(a[0], axes, false, 1) }, x)
	}
	if got := Sum(x, nil, false); got.NDim() != 0 {
		t.Fatalf("full sum has shape %v", got.Shape())
	}
	// zero-size
	z := Zeros([]int{2, 0, 3}, Float32)
	assertClose(t, "Sum empty", Sum(z, []int{1}, false).Float64s(), []float64{0, 0, 0, 0, 0, 0}, 0, 0)
	assertShape(t, "Sum empty", Sum(z, []int{0}, false), 0, 3)
	// Prod gradient with a zero is exact.
	p := FromSlice([]float64{2, 0, 3, 4}, 4)
	_, g := ValueAndGrad(func(a ...*Array) *Array { return Prod(a[0], nil, false) })(p)
	assertClose(t, "Prod grad at zero", g[0].Float64s(), []float64{0, 24, 0, 0}, 0, 0)
	// Var with ddof and integers
	assertClose(t, "Var", Var(FromSlice([]int32{1, 2, 3, 4}, 4), nil, false, 0).Float64s(), []float64{1.25}, 1e-6, 0)
	// LogSumExp of all -inf is -inf, not NaN
	ninf := FromSlice([]float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, 2)
	if v := LogSumExp(ninf, nil, false).Item(); !math.IsInf(v, -1) {
		t.Fatalf("LogSumExp(-inf) = %v", v)
	}
}

func TestArgMaxMinFirstOnTies(t *testing.T) {
	x := FromSlice([]float32{1, 3, 3, 0, 5, 5, -1, 0}, 2, 4)
	if got := ArgMax(x, 1, false).Ints(); got[0] != 1 || got[1] != 0 {
		t.Fatalf("ArgMax = %v", got)
	}
	if got := ArgMin(x, -1, false).Ints(); got[0] != 3 || got[1] != 2 {
		t.Fatalf("ArgMin = %v", got)
	}
	if got := ArgMax(x, 0, true); !slices.Equal(got.Shape(), []int{1, 4}) || got.Ints()[0] != 1 {
		t.Fatalf("ArgMax axis 0 = %v", got)
	}
}

func TestScans(t *testing.T) {
	rng := newRNG(6)
	x := randn(rng, 3, 5)
	xv := x.Float64s()
	for _, rev := range []bool{false, true} {
		for _, excl := range []bool{false, true} {
			want := make([]float64, 15)
			for r := 0; r < 3; r++ {
				acc := 0.0
				for j := 0; j < 5; j++ {
					i := j
					if rev {
						i = 4 - j
					}
					if excl {
						want[r*5+i] = acc
						acc += xv[r*5+i]
					} else {
						acc += xv[r*5+i]
						want[r*5+i] = acc
					}
				}
			}
			assertClose(t, "Cumsum", Cumsum(x, 1, rev, excl).Float64s(), want, 1e-12, 1e-12)
			checkGrad(t, "Cumsum", func(a ...*Array) *Array { return Cumsum(a[0], 0, rev, excl) }, x)
			checkGrad(t, "CumProd", func(a ...*Array) *Array { return CumProd(a[0], 1, rev, excl) }, x)
		}
	}
	checkGrad(t, "CumMax", func(a ...*Array) *Array { return CumMax(a[0], 1, false) }, x)
	assertClose(t, "CumMax", CumMax(FromSlice([]float32{1, 3, 2, 5}, 4), 0, false).Float64s(), []float64{1, 3, 3, 5}, 0, 0)
}

func TestMatmulMatchesReference(t *testing.T) {
	rng := newRNG(7)
	cases := [][2][]int{
		{{3, 4}, {4, 5}}, {{2, 3, 4}, {4, 5}}, {{2, 1, 3, 4}, {3, 4, 2}}, {{4}, {4, 3}}, {{3, 4}, {4}},
		{{1, 7}, {7, 1}}, {{0, 3}, {3, 2}}, {{2, 0}, {0, 3}}, {{17, 33}, {33, 65}},
	}
	for _, c := range cases {
		a, b := randn(rng, c[0]...), randn(rng, c[1]...)
		out := Matmul(a, b)
		// reference via broadcast multiply and sum over the contracted axis
		a2, b2 := a, b
		if a.NDim() == 1 {
			a2 = Reshape(a, 1, -1)
		}
		if b.NDim() == 1 {
			b2 = Reshape(b, -1, 1)
		}
		ref := Sum(Mul(ExpandDims(a2, -1), ExpandDims(b2, -3)), []int{-2}, false)
		if a.NDim() == 1 {
			ref = Squeeze(ref, -2)
		}
		if b.NDim() == 1 {
			ref = Squeeze(ref, -1)
		}
		assertShape(t, "Matmul", out, ref.Shape()...)
		assertClose(t, "Matmul f64", out.Float64s(), ref.Float64s(), 1e-10, 1e-10)
		assertClose(t, "Matmul f32", Matmul(AsType(a, Float32), AsType(b, Float32)).Float64s(), ref.Float64s(), 1e-4, 1e-4)
		if out.Size() > 0 && out.Size() < 100 {
			checkGrad(t, "Matmul", func(x ...*Array) *Array { return Matmul(x[0], x[1]) }, a, b)
		}
	}
	// transposed operands
	a, b := randn(rng, 5, 3), randn(rng, 4, 5)
	got := Matmul(Transpose(a), Transpose(b)).Float64s()
	want := Transpose(Matmul(b, a)).Float64s()
	assertClose(t, "Matmul transposed", got, want, 1e-10, 1e-10)
}

func TestMatmulTransposedFlags(t *testing.T) {
	rng := newRNG(10)
	a, b := randn(rng, 2, 3, 4), randn(rng, 5, 4)
	assertClose(t, "MatmulT", MatmulT(a, b).Float64s(), Matmul(a, Transpose(b)).Float64s(), 1e-12, 1e-12)
	checkGrad(t, "MatmulT", func(x ...*Array) *Array { return MatmulT(x[0], x[1]) }, a, b)
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			x, y := randn(rng, 2, 3, 4), randn(rng, 4, 5)
			if ta {
				x = randn(rng, 2, 4, 3)
			}
			if tb {
				y = randn(rng, 5, 4)
			}
			f := func(v ...*Array) *Array { return matmul("t", v[0], v[1], ta, tb) }
			p, q := x, y
			if ta {
				p = SwapAxes(x, -1, -2)
			}
			if tb {
				q = SwapAxes(y, -1, -2)
			}
			assertClose(t, "flags", f(x, y).Float64s(), Matmul(p, q).Float64s(), 1e-12, 1e-12)
			checkGrad(t, "flags", f, x, y)
		}
	}
}
