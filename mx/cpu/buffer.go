package cpu

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// alloc makes a zeroed buffer of n elements of dtype.
func alloc(dt prim.DType, n int) *Buffer {
	switch dt {
	case prim.Bool:
		return &Buffer{make([]bool, n)}
	case prim.Uint8:
		return &Buffer{make([]uint8, n)}
	case prim.Uint32:
		return &Buffer{make([]uint32, n)}
	case prim.Int32:
		return &Buffer{make([]int32, n)}
	case prim.Int64:
		return &Buffer{make([]int64, n)}
	case prim.Float16, prim.BFloat16:
		return &Buffer{make([]uint16, n)}
	case prim.Float32:
		return &Buffer{make([]float32, n)}
	case prim.Float64:
		return &Buffer{make([]float64, n)}
	}
	panic(fmt.Sprintf("cpu: unknown dtype %v", dt))
}

// f32 returns the buffer's values as float32, widening half types (a copy) and converting other
// types; a float32 buffer is returned as is.
func f32(b *Buffer, dt prim.DType) []float32 {
	switch d := b.data.(type) {
	case []float32:
		return d
	case []uint16:
		out := make([]float32, len(d))
		conv := prim.BF16ToFloat32
		if dt == prim.Float16 {
			conv = prim.F16ToFloat32
		}
		parallelFor(len(d), 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out[i] = conv(d[i])
			}
		})
		return out
	}
	return convertSlice[float32](b.data)
}

// f64 returns the buffer's values as float64 (a copy unless already float64).
func f64(b *Buffer, dt prim.DType) []float64 {
	if d, ok := b.data.([]float64); ok {
		return d
	}
	if d, ok := b.data.([]uint16); ok {
		out := make([]float64, len(d))
		for i, v := range f32(&Buffer{d}, dt) {
			out[i] = float64(v)
		}
		return out
	}
	return convertSlice[float64](b.data)
}

// ints returns the buffer's values as int (for indices), converting any integer or bool type.
func ints(b *Buffer) []int {
	switch d := b.data.(type) {
	case []int32:
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out
	case []int64:
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out
	}
	return convertSlice[int](b.data)
}

// fromF32 stores float32 results as dtype dt (rounding for half types).
func fromF32(v []float32, dt prim.DType) *Buffer {
	switch dt {
	case prim.Float32:
		return &Buffer{v}
	case prim.BFloat16, prim.Float16:
		out := make([]uint16, len(v))
		conv := prim.BF16FromFloat32
		if dt == prim.Float16 {
			conv = prim.F16FromFloat32
		}
		parallelFor(len(v), 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out[i] = conv(v[i])
			}
		})
		return &Buffer{out}
	}
	return convertTo(&Buffer{v}, prim.Float32, dt)
}

// fromF64 stores float64 results as dtype dt.
func fromF64(v []float64, dt prim.DType) *Buffer {
	if dt == prim.Float64 {
		return &Buffer{v}
	}
	return convertTo(&Buffer{v}, prim.Float64, dt)
}

type number interface {
	~int | ~int32 | ~int64 | ~uint8 | ~uint32 | ~float32 | ~float64
}

func convertSlice[U number](data any) []U {
	switch d := data.(type) {
	case []float32:
		return convertNum[float32, U](d)
	case []float64:
		return convertNum[float64, U](d)
	case []int32:
		return convertNum[int32, U](d)
	case []int64:
		return convertNum[int64, U](d)
	case []uint8:
		return convertNum[uint8, U](d)
	case []uint32:
		return convertNum[uint32, U](d)
	case []int:
		return convertNum[int, U](d)
	case []bool:
		out := make([]U, len(d))
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
		return out
	}
	panic(fmt.Sprintf("cpu: cannot convert %T", data))
}

func convertNum[T, U number](d []T) []U {
	out := make([]U, len(d))
	for i, v := range d {
		out[i] = U(v)
	}
	return out
}

// convertTo converts a buffer of dtype from to dtype to (the AsType semantics).
func convertTo(b *Buffer, from, to prim.DType) *Buffer {
	if from == to {
		return b
	}
	switch to {
	case prim.Float32:
		return &Buffer{f32(b, from)}
	case prim.Float64:
		return &Buffer{f64(b, from)}
	case prim.BFloat16, prim.Float16:
		if from == prim.BFloat16 || from == prim.Float16 {
			return fromF32(f32(b, from), to)
		}
		return fromF32(f32(b, from), to)
	case prim.Bool:
		src := f64(b, from)
		out := make([]bool, len(src))
		for i, v := range src {
			out[i] = v != 0
		}
		return &Buffer{out}
	}
	// Integer targets: floats truncate toward zero; half types go through float32.
	var src any = b.data
	if _, ok := b.data.([]uint16); ok {
		src = f32(b, from)
	}
	switch to {
	case prim.Int32:
		return &Buffer{convertSlice[int32](src)}
	case prim.Int64:
		return &Buffer{convertSlice[int64](src)}
	case prim.Uint8:
		return &Buffer{convertSlice[uint8](src)}
	case prim.Uint32:
		return &Buffer{convertSlice[uint32](src)}
	}
	panic(fmt.Sprintf("cpu: cannot convert %s to %s", from, to))
}

// dtypeOf is the storage dtype of a buffer (half types report BFloat16: only the bits matter).
func dtypeOf(b *Buffer) prim.DType {
	switch b.data.(type) {
	case []bool:
		return prim.Bool
	case []uint8:
		return prim.Uint8
	case []uint32:
		return prim.Uint32
	case []int32:
		return prim.Int32
	case []int64:
		return prim.Int64
	case []uint16:
		return prim.BFloat16
	case []float32:
		return prim.Float32
	case []float64:
		return prim.Float64
	}
	panic(fmt.Sprintf("cpu: unknown buffer %T", b.data))
}

// lenOf is the number of elements of a buffer.
func lenOf(b *Buffer) int { return sliceLen(b.data) }

func sliceLen(d any) int {
	switch v := d.(type) {
	case []bool:
		return len(v)
	case []uint8:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []int64:
		return len(v)
	case []uint16:
		return len(v)
	case []float32:
		return len(v)
	case []float64:
		return len(v)
	}
	panic(fmt.Sprintf("cpu: unknown buffer %T", d))
}

// copyInto copies src into dst (same storage type and length).
func copyInto(dst, src *Buffer) {
	switch d := dst.data.(type) {
	case []bool:
		copy(d, src.data.([]bool))
	case []uint8:
		copy(d, src.data.([]uint8))
	case []uint32:
		copy(d, src.data.([]uint32))
	case []int32:
		copy(d, src.data.([]int32))
	case []int64:
		copy(d, src.data.([]int64))
	case []uint16:
		copy(d, src.data.([]uint16))
	case []float32:
		copy(d, src.data.([]float32))
	case []float64:
		copy(d, src.data.([]float64))
	}
}
