// Package random draws random numbers for mx arrays, in the style of mlx.core.random and
// jax.random: every draw is a pure function of a key, a uint32 array of shape [2].
//
// A key names a stream of bits (mx.RandomBits, Threefry-2x32 with 20 rounds): the same key always
// gives the same numbers, on any machine and whatever the parallelism. To get independent
// streams, Split a key into new keys and use each of those once; never draw twice from the same
// key unless the repetition is wanted, and do not keep using a key after splitting it.
//
//	key := random.Key(42)
//	keys := random.Split(key, 2)
//	w := random.Normal(random.At(keys, 0), []int{512, 512}, mx.Float32, 0, 0.02)
//	drop := random.Bernoulli(random.At(keys, 1), 0.9, []int{512})
//
// Every function that takes a key also accepts nil, which means "use the package's default key":
// the default key is split, one half replaces it and the other serves the draw. The default key
// starts as Key(0), so a program that never calls Seed is still reproducible; Seed resets it.
//
// Inside mx.Compile, keys must be passed explicitly as arguments of the compiled function. A nil
// key there is resolved once, while tracing, into a constant that the compiled program then
// replays: every call would return the same numbers.
//
// Floats are made from the top bits of the words, like MLX and JAX: a uniform in [0, 1) is
// k·2⁻ᵐ for the top m bits k of a word, where m is the significand width of the dtype (23 for
// float32, 7 for bfloat16, 10 for float16; float64 takes 52 bits from two words), so 1.0 is never
// produced and every value is exact.
package random

import (
	"fmt"
	"sync"

	"github.com/lmxlab/lmxlab/mx"
)

// Key makes a key from a seed: the high and low 32-bit halves of seed.
func Key(seed uint64) *mx.Array {
	return mx.FromSlice([]uint32{uint32(seed >> 32), uint32(seed)}, 2)
}

// defaultKey is the key that nil resolves to.
var defaultKey struct {
	sync.Mutex
	key *mx.Array
}

// Seed resets the default key to Key(seed).
func Seed(seed uint64) {
	defaultKey.Lock()
	defer defaultKey.Unlock()
	defaultKey.key = Key(seed)
}

// nextKey advances the default key and returns a fresh subkey (both realized, so the chain of
// default keys never grows into a graph).
func nextKey() *mx.Array {
	defaultKey.Lock()
	defer defaultKey.Unlock()
	if defaultKey.key == nil {
		defaultKey.key = Key(0)
	}
	keys := mx.RandomBits(defaultKey.key, []int{2, 2})
	next, sub := At(keys, 0), At(keys, 1)
	mx.Eval(next, sub)
	defaultKey.key = next
	return sub
}

// resolve returns key, or a fresh subkey of the default key when key is nil, and checks it.
func resolve(op string, key *mx.Array) *mx.Array {
	if key == nil {
		return nextKey()
	}
	if key.DType() != mx.Uint32 || key.NDim() != 1 || key.Dim(0) != 2 {
		panic(fmt.Sprintf("random.%s: key must be uint32 of shape [2], got %s%v", op, key.DType(), key.Shape()))
	}
	return key
}

// checkShape panics (naming op) on a negative dimension and returns a copy of shape.
func checkShape(op string, shape []int) []int {
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("random.%s: negative dimension in shape %v", op, shape))
		}
	}
	return append([]int{}, shape...)
}

// Bits draws uint32 words of the given shape from key's stream (nil: the default key).
func Bits(key *mx.Array, shape []int) *mx.Array {
	return mx.RandomBits(resolve("Bits", key), checkShape("Bits", shape))
}

// Split derives n new keys from key (nil: the default key), returned as an [n, 2] array; take
// them apart with At. The new keys are the first 2n words of key's stream, which makes their
// streams statistically independent of one another; key itself should not be drawn from again,
// since its draws would begin with those same words.
func Split(key *mx.Array, n int) *mx.Array {
	if n < 0 {
		panic(fmt.Sprintf("random.Split: negative count %d", n))
	}
	return mx.RandomBits(resolve("Split", key), []int{n, 2})
}

// At returns key i of an [n, 2] array of keys such as Split makes (negative i counts from the
// end).
func At(keys *mx.Array, i int) *mx.Array {
	if keys.DType() != mx.Uint32 || keys.NDim() != 2 || keys.Dim(1) != 2 {
		panic(fmt.Sprintf("random.At: keys must be uint32 of shape [n 2], got %s%v", keys.DType(), keys.Shape()))
	}
	n := keys.Dim(0)
	if i < -n || i >= n {
		panic(fmt.Sprintf("random.At: index %d out of range for %d keys", i, n))
	}
	if i < 0 {
		i += n
	}
	idx := mx.FromSlice([]int32{int32(i)}, 1, 1)
	return mx.Reshape(mx.TakeAlongAxis(keys, idx, 0), 2)
}

// split2 splits key into two keys.
func split2(key *mx.Array) (*mx.Array, *mx.Array) {
	keys := mx.RandomBits(key, []int{2, 2})
	return At(keys, 0), At(keys, 1)
}

// bits63 draws non-negative int64 values with 63 random bits each (from two words).
func bits63(key *mx.Array, shape []int) *mx.Array {
	k1, k2 := split2(key)
	hi := mx.AsType(mx.ShiftRight(mx.RandomBits(k1, shape), mx.Scalar(1, mx.Uint32)), mx.Int64)
	lo := mx.AsType(mx.RandomBits(k2, shape), mx.Int64)
	return mx.BitwiseOr(mx.ShiftLeft(hi, mx.Scalar(32, mx.Int64)), lo)
}
