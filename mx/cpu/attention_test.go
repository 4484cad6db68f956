package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The float32 row helpers of the attention kernels (assembly where available) against float64
// references, over lengths that cover the eight-lane body and every tail, and special values.
func TestAttentionRowHelpers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float32{0, -0.5, 1e-8, -87.3, -87.34, -88, -100, 88.7, 88.72, 89, 200,
		float32(math.Inf(-1)), float32(math.Inf(1))}
	close32 := func(what string, got float32, want float64) {
		t.Helper()
		if math.IsNaN(want) != math.IsNaN(float64(got)) ||
			!math.IsNaN(want) && math.Abs(float64(got)-want) > 1e-37+3e-7*math.Abs(want) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
	// expWant is e^x as the helpers define it: 0 below -87.33654 (no subnormals), +Inf on overflow.
	expWant := func(x float32) float64 {
		if x < -87.33654 {
			return 0
		}
		return float64(float32(math.Exp(float64(x)))) // +Inf past float32
	}
	for n := 0; n <= 35; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 30)
			if rng.IntN(3) == 0 {
				x[i] = special[rng.IntN(len(special))]
			}
		}
		// expShiftSum with m = 0 and with a shift.
		for _, m := range []float32{0, 3.5} {
			s := append([]float32(nil), x...)
			sum := expShiftSum32(s, m)
			wantSum := 0.0
			for i, v := range x {
				w := expWant(v - m)
				close32("exp", s[i], w)
				wantSum += float64(s[i])
			}
			close32("exp sum", sum, float64(float32(wantSum)))
		}
		// probGrad.
		s, dp := append([]float32(nil), x...), make([]float32, n+1)
		for i := range dp {
			dp[i] = float32(rng.NormFloat64())
		}
		dp0 := append([]float32(nil), dp...)
		probGrad32(s, dp, 1.25, -0.5)
		for i, v := range x {
			p := expWant(v - 1.25)
			close32("prob", s[i], p)
			close32("score gradient", dp[i], float64(s[i])*(float64(dp0[i])+0.5))
		}
		if dp[n] != dp0[n] {
			t.Fatalf("probGrad wrote past the row")
		}
		// rowMax, with and without a NaN.
		want := math.Inf(-1)
		for _, v := range x {
			want = math.Max(want, float64(v))
		}
		close32("max", rowMax32(x), want)
		if n > 0 {
			x[rng.IntN(n)] = float32(math.NaN())
			close32("max with NaN", rowMax32(x), math.NaN())
			s := append([]float32(nil), x...)
			if sum := expShiftSum32(s, 0); !math.IsNaN(float64(sum)) {
				t.Fatalf("exp sum with a NaN = %v", sum)
			}
		}
	}
}
