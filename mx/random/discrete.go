package random

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx"
)

// intRange is the range of values of an integer dtype.
func intRange(dt mx.DType) (lo, hi int64) {
	switch dt {
	case mx.Uint8:
		return 0, math.MaxUint8
	case mx.Uint32:
		return 0, math.MaxUint32
	case mx.Int32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// Randint draws integers uniformly from [low, high) as dtype (an integer type; nil key: the
// default key). Each value is low + r mod (high-low) for a 63-bit random r, so the bias towards
// small remainders is below (high-low)/2⁶³.
func Randint(key *mx.Array, low, high int, shape []int, dtype mx.DType) *mx.Array {
	if !dtype.IsInteger() {
		panic(fmt.Sprintf("random.Randint: dtype %s is not an integer type", dtype))
	}
	span := uint64(high) - uint64(low)
	if low >= high || span > math.MaxInt64 {
		panic(fmt.Sprintf("random.Randint: need low < high with high-low < 2^63, got [%d, %d)", low, high))
	}
	if lo, hi := intRange(dtype); int64(low) < lo || int64(high-1) > hi {
		panic(fmt.Sprintf("random.Randint: [%d, %d) does not fit %s", low, high, dtype))
	}
	key = resolve("Randint", key)
	shape = checkShape("Randint", shape)
	r := mx.Remainder(bits63(key, shape), mx.FromSlice([]int64{int64(span)}))
	if low != 0 {
		r = mx.Add(r, mx.FromSlice([]int64{int64(low)}))
	}
	return mx.AsType(r, dtype)
}

// Categorical draws category indices (int32) with probabilities softmax(logits) along axis, by
// the Gumbel-max trick: argmax(logits + Gumbel noise). Without numSamples the result has the
// shape of logits without axis; with numSamples n it has that shape followed by n independent
// draws. Logits of -Inf are never drawn. A nil key means the default key.
func Categorical(key *mx.Array, logits *mx.Array, axis int, numSamples ...int) *mx.Array {
	if len(numSamples) > 1 {
		panic(fmt.Sprintf("random.Categorical: at most one sample count, got %v", numSamples))
	}
	nd := logits.NDim()
	if axis < -nd || axis >= nd {
		panic(fmt.Sprintf("random.Categorical: axis %d out of range for logits of shape %v", axis, logits.Shape()))
	}
	if axis < 0 {
		axis += nd
	}
	key = resolve("Categorical", key)
	ct := mx.Float32
	if logits.DType() == mx.Float64 {
		ct = mx.Float64
	}
	x := mx.AsType(logits, ct)
	if len(numSamples) == 0 {
		return mx.ArgMax(mx.Add(x, gumbel(key, logits.Shape(), ct)), axis, false)
	}
	n := numSamples[0]
	if n < 0 {
		panic(fmt.Sprintf("random.Categorical: negative sample count %d", n))
	}
	// (..., V) -> (..., 1, V) against noise (..., n, V).
	x = mx.ExpandDims(mx.MoveAxis(x, axis, -1), -2)
	shape := x.Shape()
	shape[len(shape)-2] = n
	return mx.ArgMax(mx.Add(x, gumbel(key, shape, ct)), -1, false)
}

// Permutation returns a uniformly random permutation of 0, ..., n-1 as int32 (nil key: the
// default key): the stable argsort of n random 63-bit integers, which tie with probability
// below n²/2⁶⁴.
func Permutation(key *mx.Array, n int) *mx.Array {
	if n < 0 || n > math.MaxInt32 {
		panic(fmt.Sprintf("random.Permutation: size %d out of range", n))
	}
	key = resolve("Permutation", key)
	return mx.ArgSort(bits63(key, []int{n}), 0)
}
