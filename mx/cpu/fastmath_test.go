package cpu

import (
	"math"
	"testing"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// sweep is a dense set of float32 inputs: every 4099th bit pattern of each sign (normal,
// subnormal, huge), a fine uniform grid over [-20, 20], and the special values.
func sweep() []float32 {
	var xs []float32
	for b := uint64(0); b < 0x7f800000; b += 4099 {
		v := math.Float32frombits(uint32(b))
		xs = append(xs, v, -v)
	}
	for i := -400000; i <= 400000; i++ {
		xs = append(xs, float32(i)/20000)
	}
	inf := float32(math.Inf(1))
	xs = append(xs, 0, float32(math.Copysign(0, -1)), inf, -inf, float32(math.NaN()),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		0x1p-126, -0x1p-126, 88.72283, 88.72284, -87.33654, -103.97, -103.98, 0.004, -0.004, 9.1,
		0.5, -0.5, 14.28, -14.28, 14.29, -14.29, 10.1*math.Sqrt2, -10.1*math.Sqrt2, 1, -1)
	return xs
}

// ulpsOff is |got - want| in units of the float32 spacing at want (2^-149 for subnormals).
// Matching NaNs and equal infinities are 0; a NaN or infinity mismatch is +Inf.
func ulpsOff(got float32, want float64) float64 {
	g := float64(got)
	switch {
	case math.IsNaN(want) || math.IsNaN(g):
		if math.IsNaN(want) && math.IsNaN(g) {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(want, 0) || math.Abs(want) > math.MaxFloat32:
		if float64(float32(want)) == g {
			return 0 // overflows to the same infinity
		}
		return math.Inf(1)
	}
	_, e := math.Frexp(want)
	ulp := math.Ldexp(1, max(e-24, -149))
	return math.Abs(g-want) / ulp
}

func sigmoidRef(x float64) float64 { return sigmoid(x) }

func TestFastFloat32MathAgainstFloat64(t *testing.T) {
	phi := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	pdf := func(x float64) float64 { return math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi) }
	u := func(x float64) float64 { return geluK0 * (x + geluK1*x*x*x) }
	du := func(x float64) float64 { return geluK0 * (1 + 3*geluK1*x*x) }
	cases := []struct {
		kind prim.UnaryKind
		ref  func(float64) float64
		// scale, if set, bounds the size of the terms that cancel in the result: the error may
		// also be up to 1e-9·scale absolutely (near the zeros of the derivatives).
		scale func(float64) float64
	}{
		{prim.Exp, math.Exp, nil},
		{prim.Log, math.Log, nil},
		{prim.Tanh, math.Tanh, nil},
		{prim.Sigmoid, sigmoidRef, nil},
		{prim.SiLU, func(x float64) float64 { return x * sigmoid(x) }, nil},
		{prim.Erf, math.Erf, nil},
		{prim.GELU, func(x float64) float64 { return x * phi(x) }, nil},
		{prim.GELUTanh, func(x float64) float64 { return x * sigmoid(2*u(x)) }, nil},
		{prim.SiLUGrad, func(x float64) float64 {
			if math.IsInf(x, 0) {
				return gradAtInf(x)
			}
			return sigmoid(x) + x*sigmoid(x)*sigmoid(-x)
		}, func(x float64) float64 { return 1 + math.Abs(x*sigmoid(x)*sigmoid(-x)) }},
		{prim.GELUGrad, func(x float64) float64 {
			if math.IsInf(x, 0) {
				return gradAtInf(x)
			}
			return phi(x) + x*pdf(x)
		}, func(x float64) float64 { return 1 }},
		{prim.GELUTanhGrad, func(x float64) float64 {
			if math.IsInf(x, 0) {
				return gradAtInf(x)
			}
			return sigmoid(2*u(x)) + 2*x*du(x)*sigmoid(2*u(x))*sigmoid(-2*u(x))
		}, func(x float64) float64 { return 1 }},
	}
	xs := sweep()
	out := make([]float32, len(xs))
	// The Go functions, and the assembly versions where there are any.
	haveAsm := mathAsm
	defer func() { mathAsm = haveAsm }()
	for _, asm := range []bool{false, true} {
		if asm && !haveAsm {
			continue
		}
		mathAsm = asm
		for _, c := range cases {
			checkUnaryAgainst(t, c.kind, c.ref, c.scale, xs, out, asm)
		}
	}
}

// checkUnaryAgainst runs the kind over xs and checks every result against ref: within 1 ulp,
// or, where scale is set, within 1e-9·scale(x) absolutely.
func checkUnaryAgainst(t *testing.T, kind prim.UnaryKind, ref, scale func(float64) float64, xs, out []float32, asm bool) {
	t.Helper()
	unaryF32(kind, out, xs)
	worst, worstX := 0.0, float32(0)
	for i, x := range xs {
		want := ref(float64(x))
		e := ulpsOff(out[i], want)
		if scale != nil && e > 1 && math.Abs(float64(out[i])-want) <= 1e-9*scale(float64(x)) {
			continue
		}
		if e > worst {
			worst, worstX = e, x
		}
	}
	t.Logf("%s (assembly %v): worst %.3g ulp at %g", kind, asm, worst, worstX)
	if worst > 1 {
		t.Errorf("%s(%g) = %g is %.3g ulp from %g (assembly %v)", kind, worstX, unaryOne(kind, worstX), worst, ref(float64(worstX)), asm)
	}
}

func unaryOne(k prim.UnaryKind, x float32) float32 {
	o := []float32{0}
	unaryF32(k, o, []float32{x})
	return o[0]
}
