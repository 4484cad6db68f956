package mx

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// host evaluates a and returns its backend's host slice (not to be modified).
func (a *Array) host() any {
	Eval(a)
	return a.dev.backend.ToHost(a.buf, a.dtype, a.shape)
}

// Float32s evaluates a and returns a copy of its values as float32.
func (a *Array) Float32s() []float32 {
	switch d := a.host().(type) {
	case []float32:
		return append([]float32(nil), d...)
	case []uint16:
		out := make([]float32, len(d))
		conv := prim.BF16ToFloat32
		if a.dtype == Float16 {
			conv = prim.F16ToFloat32
		}
		for i, v := range d {
			out[i] = conv(v)
		}
		return out
	default:
		f := a.Float64s()
		out := make([]float32, len(f))
		for i, v := range f {
			out[i] = float32(v)
		}
		return out
	}
}

// Float64s evaluates a and returns a copy of its values as float64.
func (a *Array) Float64s() []float64 {
	h := a.host()
	out := make([]float64, a.Size())
	switch d := h.(type) {
	case []float64:
		copy(out, d)
	case []float32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []uint16:
		for i, v := range a.Float32s() {
			out[i] = float64(v)
		}
	case []int32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []int64:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []uint8:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []uint32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []bool:
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
	default:
		panic(fmt.Sprintf("mx: cannot read %T", h))
	}
	return out
}

// Ints evaluates a and returns its values as int (floats truncate toward zero).
func (a *Array) Ints() []int {
	h := a.host()
	out := make([]int, a.Size())
	switch d := h.(type) {
	case []int32:
		for i, v := range d {
			out[i] = int(v)
		}
	case []int64:
		for i, v := range d {
			out[i] = int(v)
		}
	case []uint32:
		for i, v := range d {
			out[i] = int(v)
		}
	case []uint8:
		for i, v := range d {
			out[i] = int(v)
		}
	default:
		for i, v := range a.Float64s() {
			out[i] = int(v)
		}
	}
	return out
}

// Int32s evaluates a and returns its values as int32.
func (a *Array) Int32s() []int32 {
	v := a.Ints()
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// Uint32s evaluates a and returns its values as uint32 (a copy).
func (a *Array) Uint32s() []uint32 {
	if d, ok := a.host().([]uint32); ok {
		return append([]uint32(nil), d...)
	}
	v := a.Ints()
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = uint32(x)
	}
	return out
}

// Bools evaluates a and returns its values as bool (nonzero is true).
func (a *Array) Bools() []bool {
	if d, ok := a.host().([]bool); ok {
		return append([]bool(nil), d...)
	}
	f := a.Float64s()
	out := make([]bool, len(f))
	for i, v := range f {
		out[i] = v != 0
	}
	return out
}

// Bits evaluates a bfloat16 or float16 array and returns its raw bit patterns.
func (a *Array) Bits() []uint16 {
	d, ok := a.host().([]uint16)
	if !ok {
		panic(fmt.Sprintf("mx.Bits: dtype %s is not a 16-bit float", a.dtype))
	}
	return append([]uint16(nil), d...)
}

// Item evaluates a one-element array and returns its value as float64.
func (a *Array) Item() float64 {
	if a.Size() != 1 {
		panic(fmt.Sprintf("mx.Item: array of shape %v has %d elements, not 1", a.shape, a.Size()))
	}
	return a.Float64s()[0]
}
