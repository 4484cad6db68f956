package safetensors

import "math"

// This file converts single values between float32 and the narrow float
// formats of the format: bfloat16, IEEE half precision (F16) and the two
// FP8 formats. Narrowing rounds to nearest, ties to even, as hardware and
// PyTorch do; widening is exact.

// BF16FromFloat32 returns the bfloat16 bits nearest to f, ties to even.
// Values beyond the largest bfloat16 round to infinity; NaN stays NaN
// (quiet, with its sign).
func BF16FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		// NaN: truncating could clear every payload bit and make an
		// infinity, so set the quiet bit.
		return uint16(b>>16) | 0x0040
	}
	// bfloat16 is the top half of a float32. Adding 0x7fff rounds the low
	// half up when it exceeds one half; adding the kept half's lowest bit
	// as well breaks an exact half toward the even result. A carry out of
	// the mantissa correctly bumps the exponent (up to infinity).
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// Float32FromBF16 returns the float32 value of bfloat16 bits h (exact).
func Float32FromBF16(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// F16FromFloat32 returns the IEEE half-precision bits nearest to f, ties
// to even. Values of magnitude 65520 and above round to infinity; values
// below 2^-25 round to a signed zero; NaN stays NaN (quiet, with its sign).
func F16FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // infinity or NaN
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	}
	e := exp - 127 + 15 // the biased half-precision exponent
	switch {
	case e >= 0x1f:
		return sign | 0x7c00
	case e <= 0:
		// A half-precision subnormal (or zero): its unit is 2^-24, so the
		// float32 significand m·2^(exp-150) is m >> (14-e) units.
		if e < -10 {
			return sign // below 2^-25, half the smallest subnormal
		}
		return sign | uint16(shiftRoundEven(mant|0x800000, uint(14-e)))
	default:
		// Drop 13 of the 23 mantissa bits. A carry out of the mantissa
		// bumps the exponent, up to infinity at 0x7c00, as it should.
		return sign | uint16(shiftRoundEven(uint32(e)<<23|mant, 13))
	}
}

// shiftRoundEven returns x >> s rounded to nearest, ties to even (s >= 1).
func shiftRoundEven(x uint32, s uint) uint32 {
	q := x >> s
	rem := x & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || rem == half && q&1 == 1 {
		q++
	}
	return q
}

// Float32FromF16 returns the float32 value of half-precision bits h
// (exact).
func Float32FromF16(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		// Zero or subnormal: mant·2^-24, exact in float32.
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(v) | sign)
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
}

// Float32FromF8E4M3 returns the float32 value of an F8_E4M3 byte (the
// "FN" variant of torch.float8_e4m3fn: bias 7, no infinities, 0x7f and
// 0xff are NaN, largest finite value 448).
func Float32FromF8E4M3(b uint8) float32 {
	neg := b&0x80 != 0
	exp := int(b>>3) & 0xf
	mant := float32(b & 7)
	var v float32
	switch {
	case exp == 0xf && mant == 7:
		v = float32(math.NaN())
	case exp == 0:
		v = mant * (1.0 / 512) // subnormal: mant/8 · 2^-6
	default:
		v = (1 + mant/8) * float32(math.Ldexp(1, exp-7))
	}
	if neg {
		v = -v
	}
	return v
}

// Float32FromF8E5M2 returns the float32 value of an F8_E5M2 byte
// (torch.float8_e5m2: IEEE-like, bias 15, with infinities and NaN).
func Float32FromF8E5M2(b uint8) float32 {
	// E5M2 is the top byte of an IEEE half.
	return Float32FromF16(uint16(b) << 8)
}
