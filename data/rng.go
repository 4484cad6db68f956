package data

import (
	"math/bits"
	"math/rand/v2"
)

// pcgStream2 is the second PCG seed word; it fixes the stream so that equal seeds give equal
// draws and different sources with the same seed still agree with each other.
const pcgStream2 = 0x6c6d786c61622d64 // "lmxlab-d"

// newPCG returns the PCG generator for a user seed.
func newPCG(seed int64) *rand.PCG { return rand.NewPCG(uint64(seed), pcgStream2) }

// boundedDraw returns a uniform integer in [0, n) from r, by Lemire's multiply-and-reject method.
// It is defined here rather than taken from rand.Rand so that the sequence for a seed is fixed by
// this package, whatever the Go version. n must be positive.
func boundedDraw(r *rand.PCG, n uint64) uint64 {
	for {
		hi, lo := bits.Mul64(r.Uint64(), n)
		if lo >= n || lo >= (-n)%n {
			return hi
		}
	}
}

// shuffle permutes idx in place (Fisher–Yates) with draws from r.
func shuffle(r *rand.PCG, idx []int) {
	for i := len(idx) - 1; i > 0; i-- {
		j := int(boundedDraw(r, uint64(i+1)))
		idx[i], idx[j] = idx[j], idx[i]
	}
}
