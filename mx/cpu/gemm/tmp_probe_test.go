package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchSizes {
		m, n, k := s[0], s[1], s[2]
		a := randSlice[float32](r, m*k)
		b := randSlice[float32](r, k*n)
		c := make([]float32, m*n)
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			var ts []float64
			for i := 0; i < 200; i++ {
				t0 := time.Now()
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				ts = append(ts, time.Since(t0).Seconds())
				if i > 20 && time.Duration(0) < 0 {
					break
				}
			}
			sort.Float64s(ts)
			f := 2 * float64(m*n*k) / 1e9
			fmt.Printf("%v procs=%d best %.1f med %.1f GFLOP/s\n", s, procs, f/ts[0], f/ts[len(ts)/2])
		}
	}
	runtime.GOMAXPROCS(2)
}
