package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmxlab/lmxlab/mx/prim"
)

func BenchmarkUnaryF32(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(rng.NormFloat64() * 2)
	}
	out := make([]float32, len(src))
	for _, k := range []prim.UnaryKind{prim.Exp, prim.Log, prim.Tanh, prim.Sigmoid, prim.SiLU, prim.Erf, prim.GELU, prim.GELUTanh, prim.SiLUGrad, prim.GELUGrad, prim.GELUTanhGrad} {
		b.Run(k.String(), func(b *testing.B) {
			for b.Loop() {
				unaryF32(k, out, src)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/elem")
		})
	}
	b.Run("math.Erf-GELU", func(b *testing.B) {
		for b.Loop() {
			for i, v := range src {
				x := float64(v)
				out[i] = float32(0.5 * x * (1 + math.Erf(x/math.Sqrt2)))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/elem")
	})
	b.Run("math.Exp", func(b *testing.B) {
		for b.Loop() {
			for i, v := range src {
				out[i] = float32(math.Exp(float64(v)))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(src)), "ns/elem")
	})
}
