// Package prim is the vocabulary shared by the mx array framework and its backends: data types, the
// primitive operations every backend implements, and the Program that carries a graph of primitives
// from mx to a backend.
//
// The flow is: mx builds lazy recipes from ops; Eval or Compile turns the recipes it needs into a
// Program (a topologically ordered list of Nodes, each a primitive Op applied to earlier Nodes); a
// Backend compiles the Program into an Executable and runs it on input Buffers. A backend never
// sees an *mx.Array, and mx never sees a kernel: this package is the seam between them.
//
// Every Op is a plain struct of parameters. Shapes and dtypes are inferred by mx and stored on
// the Node, so a backend only has to compute.
package prim

import (
	"fmt"
	"math"
)

// DType is an element type.
type DType uint8

// The element types. The order is the promotion order used by mx for binary ops of mixed types
// (a higher value wins), with the exception that any float beats any integer.
const (
	Bool DType = iota
	Uint8
	Uint32
	Int32
	Int64
	Float16
	BFloat16
	Float32
	Float64
)

var dtypeNames = [...]string{"bool", "uint8", "uint32", "int32", "int64", "float16", "bfloat16", "float32", "float64"}
var dtypeSizes = [...]int{1, 1, 4, 4, 8, 2, 2, 4, 8}

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", d)
}

// Size is the number of bytes of one element.
func (d DType) Size() int { return dtypeSizes[d] }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d >= Float16 }

// IsInteger reports whether d is an integer type (bool excluded).
func (d DType) IsInteger() bool { return d >= Uint8 && d <= Int64 }

// IsSigned reports whether d can hold negative values.
func (d DType) IsSigned() bool { return d == Int32 || d == Int64 || d.IsFloat() }

// ParseDType maps a name such as "float32", "bf16" or "int32" to a DType.
func ParseDType(s string) (DType, error) {
	switch s {
	case "bool":
		return Bool, nil
	case "uint8", "u8":
		return Uint8, nil
	case "uint32", "u32":
		return Uint32, nil
	case "int32", "i32":
		return Int32, nil
	case "int64", "i64":
		return Int64, nil
	case "float16", "f16", "fp16", "half":
		return Float16, nil
	case "bfloat16", "bf16":
		return BFloat16, nil
	case "float32", "f32", "fp32":
		return Float32, nil
	case "float64", "f64", "fp64":
		return Float64, nil
	}
	return 0, fmt.Errorf("prim: unknown dtype %q", s)
}

// BF16FromFloat32 rounds f to the nearest bfloat16 (ties to even) and returns its bits.
func BF16FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep it a quiet NaN
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// BF16ToFloat32 widens bfloat16 bits to float32 exactly.
func BF16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F16FromFloat32 rounds f to the nearest IEEE half (ties to even) and returns its bits.
func F16FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b >> 23) & 0xff)
	man := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp-127 > 15: // overflow
		return sign | 0x7c00
	case exp-127 >= -14: // normal half
		e := uint32(exp-127+15) << 10
		m := man >> 13
		v := e | m
		rest := man & 0x1fff
		if rest > 0x1000 || (rest == 0x1000 && v&1 == 1) {
			v++ // may carry into the exponent, which is the correct rounding
		}
		return sign | uint16(v)
	case exp-127 >= -25: // subnormal half
		man |= 0x800000
		shift := uint32(-14-(exp-127)) + 13
		v := man >> shift
		rest := man & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || (rest == half && v&1 == 1) {
			v++
		}
		return sign | uint16(v)
	default:
		return sign
	}
}

// F16ToFloat32 widens IEEE half bits to float32 exactly.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0:
		if man == 0 {
			return math.Float32frombits(sign)
		}
		f := float32(man) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}
