package random

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/prim"
)

// checkFloat panics (naming op) unless dt is a floating-point type.
func checkFloat(op string, dt mx.DType) {
	if !dt.IsFloat() {
		panic(fmt.Sprintf("random.%s: dtype %s is not a float type", op, dt))
	}
}

// significandBits is the number of explicit significand bits of a float dtype.
func significandBits(dt mx.DType) int {
	switch dt {
	case mx.Float64:
		return 52
	case mx.Float16:
		return 10
	case mx.BFloat16:
		return 7
	}
	return 23
}

// unit draws k·2⁻ᵐ (or (k+½)·2⁻ᵐ if open) in dt, for m = significandBits(dt) random bits k: a
// uniform in [0, 1), or in (0, 1) when open. Every value is exact in dt. For open, m+1 bits must
// fit the significand, which holds for float32 and float64 (the types it is used with).
func unit(key *mx.Array, shape []int, dt mx.DType, open bool) *mx.Array {
	m := significandBits(dt)
	var k *mx.Array
	if dt == mx.Float64 {
		// 26 bits from each of two words: k = hi·2²⁶ + lo < 2⁵², exact in float64.
		k1, k2 := split2(key)
		six := mx.Scalar(6, mx.Uint32)
		hi := mx.AsType(mx.ShiftRight(mx.RandomBits(k1, shape), six), mx.Float64)
		lo := mx.AsType(mx.ShiftRight(mx.RandomBits(k2, shape), six), mx.Float64)
		k = mx.Add(mx.MulScalar(hi, 1<<26), lo)
	} else {
		k = mx.AsType(mx.ShiftRight(mx.RandomBits(key, shape), mx.Scalar(float64(32-m), mx.Uint32)), dt)
	}
	if open {
		k = mx.AddScalar(k, 0.5)
	}
	return mx.MulScalar(k, math.Ldexp(1, -m))
}

// computeType is the dtype in which transcendental transforms of uniforms are done for dt.
func computeType(dt mx.DType) mx.DType {
	if dt == mx.Float64 {
		return mx.Float64
	}
	return mx.Float32
}

// roundTo rounds v to the nearest value of dt.
func roundTo(v float64, dt mx.DType) float64 {
	switch dt {
	case mx.Float32:
		return float64(float32(v))
	case mx.BFloat16:
		return float64(prim.BF16ToFloat32(prim.BF16FromFloat32(float32(v))))
	case mx.Float16:
		return float64(prim.F16ToFloat32(prim.F16FromFloat32(float32(v))))
	}
	return v
}

// prevValue is the largest value of dt below r (r a value of dt, not -Inf or NaN).
func prevValue(r float64, dt mx.DType) float64 {
	switch dt {
	case mx.Float32:
		return float64(math.Nextafter32(float32(r), float32(math.Inf(-1))))
	case mx.BFloat16, mx.Float16:
		to, from := prim.BF16FromFloat32, prim.BF16ToFloat32
		if dt == mx.Float16 {
			to, from = prim.F16FromFloat32, prim.F16ToFloat32
		}
		h := to(float32(r))
		switch {
		case r == 0:
			h = 0x8001 // the negative value of least magnitude
		case r > 0:
			h--
		default:
			h++
		}
		return float64(from(h))
	}
	return math.Nextafter(r, math.Inf(-1))
}

// floorIn is the largest value of dt that is <= v, or < v if strict.
func floorIn(v float64, dt mx.DType, strict bool) float64 {
	r := roundTo(v, dt)
	if r > v || (strict && r == v) {
		r = prevValue(r, dt)
	}
	return r
}

// ceilIn is the smallest value of dt that is >= v.
func ceilIn(v float64, dt mx.DType) float64 { return -floorIn(-v, dt, false) }

// Uniform draws floats uniformly from [low, high) (nil key: the default key). The result never
// reaches high, even where rounding to dt would.
func Uniform(key *mx.Array, low, high float64, shape []int, dtype mx.DType) *mx.Array {
	checkFloat("Uniform", dtype)
	if !(low < high) || math.IsInf(low, 0) || math.IsInf(high, 0) {
		panic(fmt.Sprintf("random.Uniform: need finite low < high, got [%g, %g)", low, high))
	}
	return uniform(resolve("Uniform", key), low, high, checkShape("Uniform", shape), dtype)
}

func uniform(key *mx.Array, low, high float64, shape []int, dt mx.DType) *mx.Array {
	u := unit(key, shape, dt, false)
	if low == 0 && high == 1 {
		return u
	}
	ct := computeType(dt)
	r := mx.AsType(mx.AddScalar(mx.MulScalar(mx.AsType(u, ct), high-low), low), dt)
	return mx.ClipScalar(r, ceilIn(low, dt), floorIn(high, dt, true))
}

// Normal draws normal floats with the given mean and standard deviation (nil key: the default
// key), as √2·erfinv(v) for v uniform in (-1, 1). Half types are computed in float32.
func Normal(key *mx.Array, shape []int, dtype mx.DType, mean, std float64) *mx.Array {
	checkFloat("Normal", dtype)
	key = resolve("Normal", key)
	shape = checkShape("Normal", shape)
	ct := computeType(dtype)
	// 2u-1 for u = (k+½)·2⁻ᵐ is (2k+1-2ᵐ)·2⁻ᵐ: exact, symmetric, never ±1.
	v := mx.SubScalar(mx.MulScalar(unit(key, shape, ct, true), 2), 1)
	z := mx.MulScalar(mx.ErfInv(v), math.Sqrt2)
	if std != 1 {
		z = mx.MulScalar(z, std)
	}
	if mean != 0 {
		z = mx.AddScalar(z, mean)
	}
	return mx.AsType(z, dtype)
}

// TruncatedNormal draws standard normal floats conditioned on lying in [lower, upper] (nil key:
// the default key), by inverting the normal CDF on a uniform draw between the CDF's values at
// the bounds. It computes in float64 for accuracy in the tails and clamps the result to the
// bounds, rounded inward to dtype. Bounds may be infinite.
func TruncatedNormal(key *mx.Array, lower, upper float64, shape []int, dtype mx.DType) *mx.Array {
	checkFloat("TruncatedNormal", dtype)
	if !(lower < upper) {
		panic(fmt.Sprintf("random.TruncatedNormal: need lower < upper, got [%g, %g]", lower, upper))
	}
	key = resolve("TruncatedNormal", key)
	shape = checkShape("TruncatedNormal", shape)
	a, b := math.Erf(lower/math.Sqrt2), math.Erf(upper/math.Sqrt2)
	u := unit(key, shape, mx.Float64, true) // (0, 1)
	v := mx.AddScalar(mx.MulScalar(u, b-a), a)
	z := mx.AsType(mx.MulScalar(mx.ErfInv(v), math.Sqrt2), dtype)
	return mx.ClipScalar(z, ceilIn(lower, dtype), floorIn(upper, dtype, false))
}

// Gumbel draws from the standard Gumbel distribution, -log(-log(u)) for u uniform in (0, 1)
// (nil key: the default key). Half types are computed in float32.
func Gumbel(key *mx.Array, shape []int, dtype mx.DType) *mx.Array {
	checkFloat("Gumbel", dtype)
	key = resolve("Gumbel", key)
	shape = checkShape("Gumbel", shape)
	return mx.AsType(gumbel(key, shape, computeType(dtype)), dtype)
}

func gumbel(key *mx.Array, shape []int, dt mx.DType) *mx.Array {
	return mx.Neg(mx.Log(mx.Neg(mx.Log(unit(key, shape, dt, true)))))
}

// Bernoulli draws booleans that are true with probability p (nil key: the default key): a word
// of the stream is compared with p·2³², so p has 32-bit resolution.
func Bernoulli(key *mx.Array, p float64, shape []int) *mx.Array {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("random.Bernoulli: probability %g is not in [0, 1]", p))
	}
	key = resolve("Bernoulli", key)
	shape = checkShape("Bernoulli", shape)
	t := math.Round(p * (1 << 32))
	if t >= 1<<32 {
		return mx.Full(shape, 1, mx.Bool)
	}
	return mx.Less(mx.RandomBits(key, shape), mx.Scalar(t, mx.Uint32))
}

// BernoulliArray draws booleans that are true with probabilities p, broadcast to shape (nil
// shape: p's shape; nil key: the default key).
func BernoulliArray(key *mx.Array, p *mx.Array, shape []int) *mx.Array {
	key = resolve("BernoulliArray", key)
	if shape == nil {
		shape = p.Shape()
	}
	shape = checkShape("BernoulliArray", shape)
	if !broadcastsTo(p.Shape(), shape) {
		panic(fmt.Sprintf("random.BernoulliArray: probabilities of shape %v do not broadcast to %v", p.Shape(), shape))
	}
	dt := mx.Float32
	if p.DType() == mx.Float64 {
		dt = mx.Float64
	}
	return mx.Less(unit(key, shape, dt, false), mx.BroadcastTo(mx.AsType(p, dt), shape...))
}

// broadcastsTo reports whether an array of shape from broadcasts to shape to (NumPy rules).
func broadcastsTo(from, to []int) bool {
	if len(from) > len(to) {
		return false
	}
	off := len(to) - len(from)
	for i, d := range from {
		if d != 1 && d != to[off+i] {
			return false
		}
	}
	return true
}
