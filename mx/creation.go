package mx

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// FromSlice makes an array from a Go slice and a shape. The slice's element type sets the dtype:
// []float32, []float64, []int32, []int64, []uint8, []uint32, []bool, or []int (stored as int32
// when every value fits, else int64). Use FromBits for bfloat16 and float16 bit patterns.
func FromSlice(data any, shape ...int) *Array {
	shape = checkShape("FromSlice", shape)
	var dt DType
	switch d := data.(type) {
	case []float32:
		dt = Float32
	case []float64:
		dt = Float64
	case []int32:
		dt = Int32
	case []int64:
		dt = Int64
	case []uint8:
		dt = Uint8
	case []uint32:
		dt = Uint32
	case []bool:
		dt = Bool
	case []int:
		small := true
		for _, v := range d {
			if v != int(int32(v)) {
				small = false
				break
			}
		}
		if small {
			out := make([]int32, len(d))
			for i, v := range d {
				out[i] = int32(v)
			}
			data, dt = out, Int32
		} else {
			out := make([]int64, len(d))
			for i, v := range d {
				out[i] = int64(v)
			}
			data, dt = out, Int64
		}
	default:
		panic(fmt.Sprintf("mx.FromSlice: unsupported slice type %T", data))
	}
	if n := sliceLen(data); n != prim.ShapeSize(shape) {
		panic(fmt.Sprintf("mx.FromSlice: %d values do not fill shape %v", n, shape))
	}
	return fromHost(nil, dt, shape, data)
}

// FromBits makes a bfloat16 or float16 array from raw 16-bit patterns.
func FromBits(bits []uint16, dtype DType, shape ...int) *Array {
	if dtype != BFloat16 && dtype != Float16 {
		panic(fmt.Sprintf("mx.FromBits: dtype %s is not a 16-bit float", dtype))
	}
	shape = checkShape("FromBits", shape)
	if len(bits) != prim.ShapeSize(shape) {
		panic(fmt.Sprintf("mx.FromBits: %d values do not fill shape %v", len(bits), shape))
	}
	return fromHost(nil, dtype, shape, bits)
}

func sliceLen(data any) int {
	switch d := data.(type) {
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []int32:
		return len(d)
	case []int64:
		return len(d)
	case []uint8:
		return len(d)
	case []uint32:
		return len(d)
	case []bool:
		return len(d)
	case []uint16:
		return len(d)
	}
	return -1
}

// Scalar makes a 0-d array of the given dtype.
func Scalar(v float64, dtype DType) *Array { return Full(nil, v, dtype) }

// Full makes an array of the given shape filled with v.
func Full(shape []int, v float64, dtype DType) *Array {
	return newArray(prim.Full{Value: v}, checkShape("Full", shape), dtype)
}

// Zeros makes an array of zeros.
func Zeros(shape []int, dtype DType) *Array { return Full(shape, 0, dtype) }

// Ones makes an array of ones.
func Ones(shape []int, dtype DType) *Array { return Full(shape, 1, dtype) }

// ZerosLike makes zeros of a's shape and dtype.
func ZerosLike(a *Array) *Array { return Full(a.shape, 0, a.dtype) }

// OnesLike makes ones of a's shape and dtype.
func OnesLike(a *Array) *Array { return Full(a.shape, 1, a.dtype) }

// FullLike makes an array of a's shape and dtype filled with v.
func FullLike(a *Array, v float64) *Array { return Full(a.shape, v, a.dtype) }

// Arange makes [start, start+step, ...) up to stop (exclusive), like numpy.arange.
func Arange(start, stop, step float64, dtype DType) *Array {
	if step == 0 {
		panic("mx.Arange: step is zero")
	}
	n := int(math.Ceil((stop - start) / step))
	if n < 0 {
		n = 0
	}
	return newArray(prim.Arange{Start: start, Step: step}, []int{n}, dtype)
}

// Eye makes an n×m identity-like matrix with ones on diagonal k.
func Eye(n, m, k int, dtype DType) *Array {
	rows := Reshape(Arange(0, float64(n), 1, Int32), n, 1)
	cols := Arange(0, float64(m), 1, Int32)
	return AsType(Equal(AddScalar(rows, float64(k)), cols), dtype)
}

// Tri makes an n×m matrix with ones at and below diagonal k.
func Tri(n, m, k int, dtype DType) *Array {
	rows := Reshape(Arange(0, float64(n), 1, Int32), n, 1)
	cols := Arange(0, float64(m), 1, Int32)
	return AsType(GreaterEqual(AddScalar(rows, float64(k)), cols), dtype)
}
