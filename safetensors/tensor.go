package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Tensor is a named n-d array as stored in a file: its elements' raw
// little-endian bytes in row-major order. A scalar has an empty Shape.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Validate checks that the dtype is known, the shape non-negative and
// len(Data) equal to the shape's byte size.
func (t Tensor) Validate() error {
	size := t.DType.Size()
	if size == 0 {
		return t.errorf("unknown dtype %q", string(t.DType))
	}
	for i, d := range t.Shape {
		if d < 0 {
			return t.errorf("shape[%d] = %d is negative", i, d)
		}
	}
	n, ok := byteSize(t.Shape, size)
	if !ok {
		return t.errorf("shape %v of %s overflows: its byte size exceeds 2^63-1", t.Shape, t.DType)
	}
	if int64(len(t.Data)) != n {
		return t.errorf("has %d bytes of data, but shape %v of %s needs %d", len(t.Data), t.Shape, t.DType, n)
	}
	return nil
}

func (t Tensor) errorf(format string, args ...any) error {
	return &Error{Tensor: t.Name, Msg: fmt.Sprintf(format, args...)}
}

// check validates t and that its dtype is one of want.
func (t Tensor) check(to string, want ...DType) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if !slices.Contains(want, t.DType) {
		return t.errorf("cannot read %s as %s (want one of %v)", t.DType, to, want)
	}
	return nil
}

// Float32s decodes a floating-point tensor (F32, F64, F16, BF16, F8_E4M3,
// F8_E5M2) to float32. F64 rounds to nearest; the others widen exactly.
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.check("float32", F32, F64, F16, BF16, F8E4M3, F8E5M2); err != nil {
		return nil, err
	}
	out := make([]float32, t.NumElements())
	d := t.Data
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = Float32FromF16(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = Float32FromBF16(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case F8E4M3:
		for i := range out {
			out[i] = Float32FromF8E4M3(d[i])
		}
	case F8E5M2:
		for i := range out {
			out[i] = Float32FromF8E5M2(d[i])
		}
	}
	return out, nil
}

// Float64s decodes a floating-point tensor to float64 (exactly).
func (t Tensor) Float64s() ([]float64, error) {
	if t.DType == F64 {
		if err := t.check("float64", F64); err != nil {
			return nil, err
		}
		out := make([]float64, t.NumElements())
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	}
	f, err := t.Float32s()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out, nil
}

// intAt returns element i of an integer or BOOL tensor, with ok false for a
// U64 value above math.MaxInt64.
func (t Tensor) intAt(i int) (v int64, ok bool) {
	d := t.Data
	switch t.DType {
	case Bool, U8:
		return int64(d[i]), true
	case I8:
		return int64(int8(d[i])), true
	case I16:
		return int64(int16(binary.LittleEndian.Uint16(d[2*i:]))), true
	case U16:
		return int64(binary.LittleEndian.Uint16(d[2*i:])), true
	case I32:
		return int64(int32(binary.LittleEndian.Uint32(d[4*i:]))), true
	case U32:
		return int64(binary.LittleEndian.Uint32(d[4*i:])), true
	case I64:
		return int64(binary.LittleEndian.Uint64(d[8*i:])), true
	case U64:
		u := binary.LittleEndian.Uint64(d[8*i:])
		return int64(u), u <= math.MaxInt64
	}
	return 0, false
}

var intDTypes = []DType{I64, I32, I16, I8, U64, U32, U16, U8, Bool}

// Int64s decodes an integer or BOOL tensor to int64. A U64 value above
// math.MaxInt64 is an error.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.check("int64", intDTypes...); err != nil {
		return nil, err
	}
	out := make([]int64, t.NumElements())
	for i := range out {
		v, ok := t.intAt(i)
		if !ok {
			return nil, t.errorf("element %d = %d does not fit in int64", i, uint64(v))
		}
		out[i] = v
	}
	return out, nil
}

// Int32s decodes an integer or BOOL tensor to int32. A value outside the
// int32 range (from I64, U32 or U64) is an error naming the element.
func (t Tensor) Int32s() ([]int32, error) {
	if err := t.check("int32", intDTypes...); err != nil {
		return nil, err
	}
	out := make([]int32, t.NumElements())
	for i := range out {
		v, ok := t.intAt(i)
		if !ok {
			return nil, t.errorf("element %d = %d does not fit in int32", i, uint64(v))
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, t.errorf("element %d = %d does not fit in int32", i, v)
		}
		out[i] = int32(v)
	}
	return out, nil
}

// Bools decodes a BOOL tensor; any non-zero byte is true.
func (t Tensor) Bools() ([]bool, error) {
	if err := t.check("bool", Bool); err != nil {
		return nil, err
	}
	out := make([]bool, len(t.Data))
	for i, b := range t.Data {
		out[i] = b != 0
	}
	return out, nil
}

// BF16Bits returns the raw bits of a BF16 tensor.
func (t Tensor) BF16Bits() ([]uint16, error) { return t.uint16s(BF16) }

// F16Bits returns the raw bits of an F16 tensor.
func (t Tensor) F16Bits() ([]uint16, error) { return t.uint16s(F16) }

func (t Tensor) uint16s(dt DType) ([]uint16, error) {
	if err := t.check(string(dt)+" bits", dt); err != nil {
		return nil, err
	}
	out := make([]uint16, len(t.Data)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(t.Data[2*i:])
	}
	return out, nil
}

// Convert returns t with its elements converted to the floating-point
// dtype to (F32, F64, F16 or BF16), rounding to nearest, ties to even.
// The source may be any floating-point dtype. F64 narrows to F16 and BF16
// through float32; in rare near-tie cases that double rounding is one unit
// in the last place away from rounding the float64 directly.
func (t Tensor) Convert(to DType) (Tensor, error) {
	switch to {
	case F32, F64, F16, BF16:
	default:
		return Tensor{}, t.errorf("cannot convert to %s: only F32, F64, F16 and BF16 are targets", to)
	}
	if to == F64 {
		v, err := t.Float64s()
		if err != nil {
			return Tensor{}, err
		}
		return FromFloat64s(t.Name, t.Shape, v), nil
	}
	v, err := t.Float32s()
	if err != nil {
		return Tensor{}, err
	}
	switch to {
	case F16:
		bits := make([]uint16, len(v))
		for i, f := range v {
			bits[i] = F16FromFloat32(f)
		}
		return FromF16Bits(t.Name, t.Shape, bits), nil
	case BF16:
		bits := make([]uint16, len(v))
		for i, f := range v {
			bits[i] = BF16FromFloat32(f)
		}
		return FromBF16Bits(t.Name, t.Shape, bits), nil
	}
	return FromFloat32s(t.Name, t.Shape, v), nil
}

// The From constructors build a Tensor of the given name and shape,
// encoding data into a new little-endian Data slice. They do not check that
// len(data) matches the shape: [Tensor.Validate] and [Write] do.

// FromFloat32s returns an F32 tensor.
func FromFloat32s(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: slices.Clone(shape), Data: b}
}

// FromFloat64s returns an F64 tensor.
func FromFloat64s(name string, shape []int, data []float64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return Tensor{Name: name, DType: F64, Shape: slices.Clone(shape), Data: b}
}

// FromInt32s returns an I32 tensor.
func FromInt32s(name string, shape []int, data []int32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return Tensor{Name: name, DType: I32, Shape: slices.Clone(shape), Data: b}
}

// FromInt64s returns an I64 tensor.
func FromInt64s(name string, shape []int, data []int64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: slices.Clone(shape), Data: b}
}

// FromUint8s returns a U8 tensor holding a copy of data.
func FromUint8s(name string, shape []int, data []byte) Tensor {
	return Tensor{Name: name, DType: U8, Shape: slices.Clone(shape), Data: slices.Clone(data)}
}

// FromBools returns a BOOL tensor (one byte, 0 or 1, per element).
func FromBools(name string, shape []int, data []bool) Tensor {
	b := make([]byte, len(data))
	for i, v := range data {
		if v {
			b[i] = 1
		}
	}
	return Tensor{Name: name, DType: Bool, Shape: slices.Clone(shape), Data: b}
}

// FromBF16Bits returns a BF16 tensor from raw bfloat16 bits (see
// [BF16FromFloat32]).
func FromBF16Bits(name string, shape []int, bits []uint16) Tensor {
	return fromUint16s(name, BF16, shape, bits)
}

// FromF16Bits returns an F16 tensor from raw half-precision bits (see
// [F16FromFloat32]).
func FromF16Bits(name string, shape []int, bits []uint16) Tensor {
	return fromUint16s(name, F16, shape, bits)
}

func fromUint16s(name string, dt DType, shape []int, bits []uint16) Tensor {
	b := make([]byte, 2*len(bits))
	for i, v := range bits {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return Tensor{Name: name, DType: dt, Shape: slices.Clone(shape), Data: b}
}
