package cpu

import (
	"fmt"
	"math/bits"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Random numbers: the Threefry-2x32 counter-based generator (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011) with 20 rounds, the variant JAX and MLX use.
//
// Element i of a RandomBits output is word i&1 of Threefry(key, counter) where the counter is the
// 64-bit pair index i>>1 split into its low and high 32-bit halves. Every element therefore
// depends only on the key and its own index — not on the output's shape or on how the work is
// split — so the kernel is parallel and bitwise deterministic, and a longer draw extends a
// shorter one with the same key.

func init() {
	defKernel(func(_ prim.RandomBits, n *prim.Node, in []operand) *Buffer {
		key, ok := in[0].data.([]uint32)
		if !ok || len(key) != 2 {
			panic(fmt.Sprintf("RandomBits: key must be uint32 of shape [2], got %s%v", in[0].dtype, in[0].shape))
		}
		out := make([]uint32, n.Size())
		randomBits(out, key[0], key[1])
		return &Buffer{out}
	})
}

// threefryRotations are the rotation constants R_32x2 of Threefry-2x32, applied cyclically.
var threefryRotations = [8]uint{13, 15, 26, 6, 17, 29, 16, 24}

// threefryParity is the key-schedule constant C240 of Threefry for 32-bit words.
const threefryParity = 0x1BD11BDA

// threefry2x32 encrypts the counter (c0, c1) under the key (k0, k1) with the given number of
// rounds (20 is the standard), injecting the extended key after every fourth round.
func threefry2x32(k0, k1, c0, c1 uint32, rounds int) (uint32, uint32) {
	ks := [3]uint32{k0, k1, threefryParity ^ k0 ^ k1}
	x0, x1 := c0+ks[0], c1+ks[1]
	for r := 0; r < rounds; r++ {
		x0 += x1
		x1 = bits.RotateLeft32(x1, int(threefryRotations[r&7]))
		x1 ^= x0
		if r&3 == 3 {
			s := uint32(r+1) / 4
			x0 += ks[s%3]
			x1 += ks[(s+1)%3] + s
		}
	}
	return x0, x1
}

// threefry20 is threefry2x32 with 20 rounds, unrolled into five blocks of four rounds so the
// rotation amounts are constants.
func threefry20(k0, k1, c0, c1 uint32) (uint32, uint32) {
	k2 := threefryParity ^ k0 ^ k1
	x0, x1 := c0+k0, c1+k1
	// Rounds 0-3, key injection 1.
	x0, x1 = quad0(x0, x1)
	x0 += k1
	x1 += k2 + 1
	// Rounds 4-7, key injection 2.
	x0, x1 = quad1(x0, x1)
	x0 += k2
	x1 += k0 + 2
	// Rounds 8-11, key injection 3.
	x0, x1 = quad0(x0, x1)
	x0 += k0
	x1 += k1 + 3
	// Rounds 12-15, key injection 4.
	x0, x1 = quad1(x0, x1)
	x0 += k1
	x1 += k2 + 4
	// Rounds 16-19, key injection 5.
	x0, x1 = quad0(x0, x1)
	x0 += k2
	x1 += k0 + 5
	return x0, x1
}

// quad0 is four rounds with the first half of the rotation constants.
func quad0(x0, x1 uint32) (uint32, uint32) {
	x0 += x1
	x1 = bits.RotateLeft32(x1, 13) ^ x0
	x0 += x1
	x1 = bits.RotateLeft32(x1, 15) ^ x0
	x0 += x1
	x1 = bits.RotateLeft32(x1, 26) ^ x0
	x0 += x1
	x1 = bits.RotateLeft32(x1, 6) ^ x0
	return x0, x1
}

// quad1 is four rounds with the second half of the rotation constants.
func quad1(x0, x1 uint32) (uint32, uint32) {
	x0 += x1
	x1 = bits.RotateLeft32(x1, 17) ^ x0
	x0 += x1
	x1 = bits.RotateLeft32(x1, 29) ^ x0
	x0 += x1
	x1 = bits.RotateLeft32(x1, 16) ^ x0
	x0 += x1
	x1 = bits.RotateLeft32(x1, 24) ^ x0
	return x0, x1
}

// randomBits fills out with the Threefry-2x32-20 stream keyed by (k0, k1): pair p (elements 2p
// and 2p+1) is the encryption of the counter (low32(p), high32(p)).
func randomBits(out []uint32, k0, k1 uint32) {
	pairs := (len(out) + 1) / 2
	parallelFor(pairs, 16, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			c := uint64(p)
			y0, y1 := threefry20(k0, k1, uint32(c), uint32(c>>32))
			out[2*p] = y0
			if 2*p+1 < len(out) {
				out[2*p+1] = y1
			}
		}
	})
}
