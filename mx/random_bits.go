package mx

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// RandomBits draws uint32 words of the given shape from the Threefry-2x32 (20 rounds) counter
// stream keyed by key, a uint32 array of shape [2]. Element i of the row-major result depends
// only on the key and on i (it is word i%2 of the encryption of counter i/2), so the same key
// always gives the same words and a larger shape extends a smaller one. Package mx/random builds
// keys, splitting and distributions on top of it.
func RandomBits(key *Array, shape []int) *Array {
	if key.dtype != Uint32 || !slices.Equal(key.shape, []int{2}) {
		panic(fmt.Sprintf("mx.RandomBits: key must be uint32 of shape [2], got %s%v", key.dtype, key.shape))
	}
	shape = checkShape("RandomBits", shape)
	return newArray(prim.RandomBits{}, shape, Uint32, key)
}

func init() {
	defVJP(func(_ prim.RandomBits, _, _ *Array) []*Array { return nil })
}
