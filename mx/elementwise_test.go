package mx

import (
	"math"
	"testing"

	"github.com/lmxlab/lmxlab/mx/prim"
)

func TestUnaryMatchesReference(t *testing.T) {
	rng := newRNG(1)
	cases := []struct {
		name   string
		f      func(*Array) *Array
		ref    func(float64) float64
		lo, hi float64
	}{
		{"Neg", Neg, func(x float64) float64 { return -x }, -3, 3},
		{"Abs", Abs, math.Abs, -3, 3},
		{"Exp", Exp, math.Exp, -3, 3},
		{"Log", Log, math.Log, 0.1, 3},
		{"Log1p", Log1p, math.Log1p, -0.5, 3},
		{"Expm1", Expm1, math.Expm1, -3, 3},
		{"Sqrt", Sqrt, math.Sqrt, 0.1, 3},
		{"Rsqrt", Rsqrt, func(x float64) float64 { return 1 / math.Sqrt(x) }, 0.1, 3},
		{"Square", Square, func(x float64) float64 { return x * x }, -3, 3},
		{"Sin", Sin, math.Sin, -3, 3},
		{"Cos", Cos, math.Cos, -3, 3},
		{"Tanh", Tanh, math.Tanh, -3, 3},
		{"Sigmoid", Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, -8, 8},
		{"Erf", Erf, math.Erf, -3, 3},
		{"ErfInv", ErfInv, math.Erfinv, -0.9, 0.9},
		{"Floor", Floor, math.Floor, -3, 3},
		{"Ceil", Ceil, math.Ceil, -3, 3},
		{"Reciprocal", Reciprocal, func(x float64) float64 { return 1 / x }, 0.5, 3},
		{"SiLU", SiLU, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, -5, 5},
		{"GELU", GELU, func(x float64) float64 { return x * 0.5 * (1 + math.Erf(x/math.Sqrt2)) }, -4, 4},
		{"GELUTanh", GELUTanh, func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}, -4, 4},
		{"Softplus", Softplus, func(x float64) float64 { return math.Log(1 + math.Exp(x)) }, -10, 10},
		{"ReLU", ReLU, func(x float64) float64 { return math.Max(x, 0) }, -3, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := randu(rng, c.lo, c.hi, 3, 0, 2)
			assertShape(t, "zero-size", c.f(x), 3, 0, 2)
			x = randu(rng, c.lo, c.hi, 4, 5)
			xv := x.Float64s()
			want := make([]float64, len(xv))
			for i, v := range xv {
				want[i] = c.ref(v)
			}
			assertClose(t, "float64", c.f(x).Float64s(), want, 1e-12, 1e-12)
			// float32 on a transposed (non-contiguous) input
			xt := Transpose(AsType(x, Float32))
			got := c.f(xt)
			if got.DType() != Float32 {
				t.Fatalf("dtype %s", got.DType())
			}
			wantT := Transpose(FromSlice(want, 4, 5)).Float64s()
			assertClose(t, "float32", got.Float64s(), wantT, 1e-5, 1e-5)
			// bfloat16 and float16 compute in float32 and round
			assertClose(t, "bfloat16", c.f(AsType(x, BFloat16)).Float64s(), c.f(AsType(AsType(x, BFloat16), Float32)).Float64s(), 0.02, 0.01)
			assertClose(t, "float16", c.f(AsType(x, Float16)).Float64s(), want, 0.02, 0.01)
		})
	}
}

func TestUnaryGradients(t *testing.T) {
	rng := newRNG(2)
	fs := map[string]func(*Array) *Array{"Neg": Neg, "Abs": Abs, "Exp": Exp, "Sin": Sin, "Cos": Cos,
		"Tanh": Tanh, "Sigmoid": Sigmoid, "Erf": Erf, "Square": Square, "SiLU": SiLU, "GELU": GELU,
		"GELUTanh": GELUTanh, "Softplus": Softplus, "ReLU": ReLU, "Expm1": Expm1}
	for name, f := range fs {
		x := randu(rng, -2, 2, 3, 4)
		checkGrad(t, name, func(a ...*Array) *Array { return f(a[0]) }, x)
	}
	pos := map[string]func(*Array) *Array{"Log": Log, "Log1p": Log1p, "Sqrt": Sqrt, "Rsqrt": Rsqrt,
		"Reciprocal": Reciprocal}
	for name, f := range pos {
		x := randu(rng, 0.5, 2, 3, 4)
		checkGrad(t, name, func(a ...*Array) *Array { return f(a[0]) }, x)
	}
	checkGrad(t, "ErfInv", func(a ...*Array) *Array { return ErfInv(a[0]) }, randu(rng, -0.8, 0.8, 5))
}

func TestBinaryBroadcastMatchesReference(t *testing.T) {
	rng := newRNG(3)
	ops := []struct {
		name string
		f    func(a, b *Array) *Array
		ref  func(a, b float64) float64
	}{
		{"Add", Add, func(a, b float64) float64 { return a + b }},
		{"Sub", Sub, func(a, b float64) float64 { return a - b }},
		{"Mul", Mul, func(a, b float64) float64 { return a * b }},
		{"Div", Div, func(a, b float64) float64 { return a / b }},
		{"Pow", Pow, math.Pow},
		{"Maximum", Maximum, math.Max},
		{"Minimum", Minimum, math.Min},
		{"Atan2", Atan2, math.Atan2},
		{"Remainder", Remainder, func(a, b float64) float64 { return a - b*math.Floor(a/b) }},
	}
	shapes := [][2][]int{
		{{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{1}, {5, 2}}, {{}, {3}},
		{{3, 0, 2}, {1, 2}}, {{6, 1}, {1, 7}},
	}
	for _, op := range ops {
		for _, s := range shapes {
			a, b := randu(rng, 0.5, 2, s[0]...), randu(rng, 0.5, 2, s[1]...)
			out := op.f(a, b)
			want := BroadcastShapes("test", s[0], s[1])
			assertShape(t, op.name, out, want...)
			av, bv := a.Float64s(), b.Float64s()
			ref := make([]float64, prim.ShapeSize(want))
			for i := range ref {
				idx := unravel(i, want)
				ref[i] = op.ref(av[refIndex(s[0], idx)], bv[refIndex(s[1], idx)])
			}
			assertClose(t, op.name, out.Float64s(), ref, 1e-12, 1e-12)
			assertClose(t, op.name+" f32", op.f(AsType(a, Float32), AsType(b, Float32)).Float64s(), ref, 1e-5, 1e-5)
			if len(s[0]) == 3 && s[0][0] == 2 {
				checkGrad(t, op.name, func(x ...*Array) *Array { return op.f(x[0], x[1]) }, a, b)
			}
		}
	}
}

func TestComparisonsAndLogic(t *testing.T) {
	a := FromSlice([]float32{1, 2, 3, float32(math.NaN())}, 4)
	b := FromSlice([]float32{2, 2, 2, 2}, 4)
	check := func(name string, got *Array, want []bool) {
		t.Helper()
		if got.DType() != Bool {
			t.Fatalf("%s dtype %s", name, got.DType())
		}
		g := got.Bools()
		for i := range want {
			if g[i] != want[i] {
				t.Fatalf("%s = %v, want %v", name, g, want)
			}
		}
	}
	check("Less", Less(a, b), []bool{true, false, false, false})
	check("LessEqual", LessEqual(a, b), []bool{true, true, false, false})
	check("Greater", Greater(a, b), []bool{false, false, true, false})
	check("GreaterEqual", GreaterEqual(a, b), []bool{false, true, true, false})
	check("Equal", Equal(a, b), []bool{false, true, false, false})
	check("NotEqual", NotEqual(a, b), []bool{true, false, true, true})
	p, q := FromSlice([]bool{true, true, false, false}, 4), FromSlice([]bool{true, false, true, false}, 4)
	check("LogicalAnd", LogicalAnd(p, q), []bool{true, false, false, false})
	check("LogicalOr", LogicalOr(p, q), []bool{true, true, true, false})
	check("LogicalNot", LogicalNot(p), []bool{false, false, true, true})
	i := FromSlice([]int32{-7, 7, 12, 5}, 4)
	j := FromSlice([]int32{2, -2, 10, 3}, 4)
	if got := Div(i, j).Ints(); got[0] != -4 || got[1] != -4 || got[2] != 1 || got[3] != 1 {
		t.Fatalf("integer floor division = %v", got)
	}
	if got := Remainder(i, j).Ints(); got[0] != 1 || got[1] != -1 || got[2] != 2 || got[3] != 2 {
		t.Fatalf("integer remainder = %v", got)
	}
	if got := BitwiseAnd(i, j).Ints(); got[2] != 8 {
		t.Fatalf("BitwiseAnd = %v", got)
	}
	if got := ShiftLeft(FromSlice([]uint32{1, 3}, 2), FromSlice([]uint32{4, 1}, 2)).Ints(); got[0] != 16 || got[1] != 6 {
		t.Fatalf("ShiftLeft = %v", got)
	}
}

func TestDTypePromotionAndAsType(t *testing.T) {
	cases := []struct{ a, b, want DType }{
		{Int32, Float32, Float32}, {BFloat16, Float16, Float32}, {Float32, Float64, Float64},
		{Int32, Int64, Int64}, {Bool, Int32, Int32}, {BFloat16, Int64, BFloat16}, {Uint8, Int32, Int32},
	}
	for _, c := range cases {
		if got := Add(Zeros([]int{2}, c.a), Zeros([]int{2}, c.b)).DType(); got != c.want {
			t.Errorf("%s + %s = %s, want %s", c.a, c.b, got, c.want)
		}
	}
	x := FromSlice([]float32{-1.7, 0, 2.5, 300}, 4)
	if got := AsType(x, Int32).Ints(); got[0] != -1 || got[2] != 2 || got[3] != 300 {
		t.Fatalf("float->int truncation: %v", got)
	}
	if got := AsType(x, Bool).Bools(); !got[0] || got[1] {
		t.Fatalf("float->bool: %v", got)
	}
	if got := AsType(x, Uint8).Ints(); got[3] != 44 {
		t.Fatalf("float->uint8 wraps: %v", got)
	}
	// bfloat16 rounds to nearest even: 1 + 2^-8 is halfway between 1 and 1+2^-7.
	h := AsType(FromSlice([]float32{1 + 1.0/256, 1 + 3.0/256}, 2), BFloat16).Float32s()
	if h[0] != 1 || h[1] != 1+4.0/256 {
		t.Fatalf("bfloat16 rounding: %v", h)
	}
}

func TestWhereClipScalar(t *testing.T) {
	rng := newRNG(4)
	c := Greater(randn(rng, 3, 1), Zeros(nil, Float64))
	x, y := randn(rng, 3, 4), randn(rng, 4)
	out := Where(c, x, y)
	cv, xv, yv := c.Bools(), x.Float64s(), y.Float64s()
	want := make([]float64, 12)
	for i := range want {
		if cv[i/4] {
			want[i] = xv[i]
		} else {
			want[i] = yv[i%4]
		}
	}
	assertClose(t, "Where", out.Float64s(), want, 0, 0)
	checkGrad(t, "Where", func(a ...*Array) *Array { return Where(c, a[0], a[1]) }, x, y)
	got := ClipScalar(FromSlice([]float64{-2, 0.5, 3}, 3), -1, 1).Float64s()
	assertClose(t, "Clip", got, []float64{-1, 0.5, 1}, 0, 0)
	got = MulScalar(FromSlice([]int32{1, 2}, 2), 3).Float64s()
	assertClose(t, "MulScalar", got, []float64{3, 6}, 0, 0)
}

func TestShapeErrorsNameOpAndShapes(t *testing.T) {
	a, b := Zeros([]int{2, 3}, Float32), Zeros([]int{4, 3}, Float32)
	mustPanic(t, func() { Add(a, b) }, "mx.Add", "[2 3]", "[4 3]")
	mustPanic(t, func() { Matmul(a, b) }, "mx.Matmul", "[2 3]", "[4 3]")
	mustPanic(t, func() { Reshape(a, 5) }, "mx.Reshape", "[2 3]", "[5]")
	mustPanic(t, func() { Sum(a, []int{2}, false) }, "mx.Sum", "axis 2")
	mustPanic(t, func() { Transpose(a, 0, 0) }, "mx.Transpose")
}

func TestStringPrintsLikeNumPy(t *testing.T) {
	got := FromSlice([]float32{1, 2.5, 3, 4}, 2, 2).String()
	want := "array([[  1, 2.5],\n       [  3,   4]], dtype=float32)"
	if got != want {
		t.Fatalf("String:\n%s\nwant\n%s", got, want)
	}
	if got := FromSlice([]int32{1, 2, 3}, 3).String(); got != "array([1, 2, 3], dtype=int32)" {
		t.Fatalf("String: %s", got)
	}
	if got := Scalar(2, Float32).String(); got != "array(2, dtype=float32)" {
		t.Fatalf("String: %s", got)
	}
}

func TestActivationDerivativeKinds(t *testing.T) {
	rng := newRNG(5)
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	u := func(x float64) float64 { return 0.7978845608028654 * (x + 0.044715*x*x*x) }
	du := func(x float64) float64 { return 0.7978845608028654 * (1 + 3*0.044715*x*x) }
	cases := []struct {
		kind prim.UnaryKind
		f    func(*Array) *Array // the activation whose derivative the kind is
		ref  func(float64) float64
	}{
		{prim.SiLUGrad, SiLU, func(x float64) float64 { return sig(x) * (1 + x*(1-sig(x))) }},
		{prim.GELUGrad, GELU, func(x float64) float64 {
			return 0.5*math.Erfc(-x/math.Sqrt2) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
		}},
		{prim.GELUTanhGrad, GELUTanh, func(x float64) float64 {
			s := sig(2 * u(x))
			return s + 2*x*du(x)*s*(1-s)
		}},
	}
	for _, c := range cases {
		x := randu(rng, -6, 6, 5, 7)
		xv := x.Float64s()
		want := make([]float64, len(xv))
		for i, v := range xv {
			want[i] = c.ref(v)
		}
		got := unary(c.kind, x)
		assertClose(t, c.kind.String()+" float64", got.Float64s(), want, 1e-12, 1e-12)
		assertClose(t, c.kind.String()+" float32", unary(c.kind, Transpose(AsType(x, Float32))).Float64s(),
			Transpose(FromSlice(want, 5, 7)).Float64s(), 1e-6, 1e-6)
		assertClose(t, c.kind.String()+" bfloat16", unary(c.kind, AsType(x, BFloat16)).Float64s(), want, 0.02, 0.01)
		assertShape(t, c.kind.String()+" zero-size", unary(c.kind, Zeros([]int{2, 0}, Float32)), 2, 0)
		// The kind is the derivative of its activation, so the activation's VJP is c·kind(x).
		_, g := ValueAndGrad(func(a ...*Array) *Array { return Sum(c.f(a[0]), nil, false) })(x)
		assertClose(t, c.kind.String()+" as VJP", g[0].Float64s(), want, 1e-12, 1e-12)
		// Its own VJP (the second derivative) against finite differences.
		checkGrad(t, c.kind.String(), func(a ...*Array) *Array { return unary(c.kind, a[0]) }, randu(rng, -3, 3, 3, 4))
		// Infinities: 1 at +Inf, 0 at -Inf, in float64 and float32.
		inf := FromSlice([]float64{math.Inf(1), math.Inf(-1)}, 2)
		assertClose(t, c.kind.String()+" at ±Inf", unary(c.kind, inf).Float64s(), []float64{1, 0}, 0, 0)
		assertClose(t, c.kind.String()+" at ±Inf f32", unary(c.kind, AsType(inf, Float32)).Float64s(), []float64{1, 0}, 0, 0)
	}
}
