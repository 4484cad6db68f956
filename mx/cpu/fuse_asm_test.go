package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// TestArithLoopsMatchGo checks the assembly arithmetic loops (where there are any) against
// plain Go float32 arithmetic, bitwise, for every length up to 100 at unaligned offsets, on
// values with NaNs, infinities, zeros of both signs and subnormals. Where both operands are NaN
// only NaN-ness is compared (which operand's payload the result carries is not specified).
func TestArithLoopsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := func(n int) []float32 {
		v := randFloats(rng, n)
		for i := range v {
			if rng.IntN(10) == 0 {
				v[i] = math.Float32frombits(rng.Uint32()) // any bit pattern, subnormals included
			}
		}
		return v
	}
	ops := map[prim.BinaryKind]func(x, y float32) float32{
		prim.Add: func(x, y float32) float32 { return x + y },
		prim.Sub: func(x, y float32) float32 { return x - y },
		prim.Mul: func(x, y float32) float32 { return x * y },
		prim.Div: func(x, y float32) float32 { return x / y },
	}
	check := func(what string, k prim.BinaryKind, got []float32, x, y func(int) float32) {
		t.Helper()
		for i, g := range got {
			a, b := x(i), y(i)
			w := ops[k](a, b)
			if a != a && b != b {
				if g == g {
					t.Fatalf("%s %s len %d [%d]: %g, want NaN", what, k, len(got), i, g)
				}
				continue
			}
			if math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("%s %s len %d [%d]: %g %s %g = %g (%#x), want %g (%#x)", what, k, len(got), i, a, k, b, g, math.Float32bits(g), w, math.Float32bits(w))
			}
		}
	}
	for k := range ops {
		for n := 0; n <= 100; n++ {
			off := rng.IntN(8)
			x, y := vals(n + off)[off:], vals(n + off)[off:]
			o := make([]float32, n+off)[off:]
			s := vals(1)[0]
			binaryF32VV(k, o, x, y)
			check("VV", k, o, func(i int) float32 { return x[i] }, func(i int) float32 { return y[i] })
			binaryF32VS(k, o, x, s)
			check("VS", k, o, func(i int) float32 { return x[i] }, func(int) float32 { return s })
			binaryF32SV(k, o, s, y)
			check("SV", k, o, func(int) float32 { return s }, func(i int) float32 { return y[i] })
			// In place, as fused groups run when an argument's scratch slot is reused.
			copy(o, x)
			binaryF32VV(k, o, o, y)
			check("VV in place", k, o, func(i int) float32 { return x[i] }, func(i int) float32 { return y[i] })
		}
	}
	unary := map[prim.UnaryKind]func(x float32) float32{
		prim.Sqrt:   func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
		prim.Square: func(x float32) float32 { return x * x },
	}
	for k, f := range unary {
		for n := 0; n <= 100; n++ {
			off := rng.IntN(8)
			x := vals(n + off)[off:]
			o := make([]float32, n+off)[off:]
			unaryF32(k, o, x)
			for i, g := range o {
				if w := f(x[i]); math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("%s len %d [%d]: %s(%g) = %g (%#x), want %g (%#x)", k, n, i, k, x[i], g, math.Float32bits(g), w, math.Float32bits(w))
				}
			}
		}
	}
}
