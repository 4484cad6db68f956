package safetensors

import (
	"math"
	"math/bits"
)

// DType is the element type of a tensor, spelled as in the header ("F32").
type DType string

// The element types of the format. FP8 tensors can be read, widened and
// copied; there is no FP8 encoder.
const (
	Bool   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// dtypes lists the known dtypes in the order of the reference
// implementation's enum, which is by increasing alignment. Writers place
// tensors of later dtypes first (see writeOrder), so the position here is
// part of the file format's canonical layout.
var dtypes = [...]struct {
	dtype DType
	size  int
}{
	{Bool, 1}, {U8, 1}, {I8, 1}, {F8E5M2, 1}, {F8E4M3, 1},
	{I16, 2}, {U16, 2}, {F16, 2}, {BF16, 2},
	{I32, 4}, {U32, 4}, {F32, 4},
	{F64, 8}, {I64, 8}, {U64, 8},
}

// rank returns d's position in dtypes, or -1 for an unknown dtype.
func (d DType) rank() int {
	for i, e := range dtypes {
		if e.dtype == d {
			return i
		}
	}
	return -1
}

// Size returns the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	if r := d.rank(); r >= 0 {
		return dtypes[r].size
	}
	return 0
}

// Valid reports whether d is one of the dtypes this package knows.
func (d DType) Valid() bool { return d.rank() >= 0 }

// IsFloat reports whether d is a floating-point dtype.
func (d DType) IsFloat() bool {
	switch d {
	case F64, F32, F16, BF16, F8E4M3, F8E5M2:
		return true
	}
	return false
}

// byteSize returns the number of bytes a tensor of the given shape and
// element size occupies, and false if a dimension is negative or the size
// overflows int64. Like the reference implementation it multiplies from the
// first dimension on and fails on the first overflow, zeros later on
// notwithstanding.
func byteSize(shape []int, elemSize int) (int64, bool) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	hi, lo := bits.Mul64(n, uint64(elemSize))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}
