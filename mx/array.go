package mx

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// DType is an element type; see the constants below.
type DType = prim.DType

// The element types.
const (
	Bool     = prim.Bool
	Uint8    = prim.Uint8
	Uint32   = prim.Uint32
	Int32    = prim.Int32
	Int64    = prim.Int64
	Float16  = prim.Float16
	BFloat16 = prim.BFloat16
	Float32  = prim.Float32
	Float64  = prim.Float64
)

// Array is an immutable n-dimensional array, computed lazily: it holds either a recipe (a primitive
// and its inputs) or a realized buffer on its device, or — while a transform traces it — both.
type Array struct {
	shape  []int
	dtype  DType
	op     prim.Op
	inputs []*Array
	buf    prim.Buffer
	dev    *Device
}

// Shape returns a copy of the array's shape.
func (a *Array) Shape() []int { return slices.Clone(a.shape) }

// Dim returns the size of axis i (negative counts from the end).
func (a *Array) Dim(i int) int { return a.shape[normAxis("Dim", i, len(a.shape))] }

// NDim is the number of dimensions.
func (a *Array) NDim() int { return len(a.shape) }

// Size is the number of elements.
func (a *Array) Size() int { return prim.ShapeSize(a.shape) }

// DType is the element type.
func (a *Array) DType() DType { return a.dtype }

// Device is the device holding (or that will hold) the array.
func (a *Array) Device() *Device { return a.dev }

// Realized reports whether the array's value has been computed.
func (a *Array) Realized() bool { return a.buf != nil }

// newArray makes a lazy array; the device is that of the first input, or the default.
func newArray(op prim.Op, shape []int, dtype DType, inputs ...*Array) *Array {
	dev := DefaultDevice()
	for i, in := range inputs {
		if i == 0 {
			dev = in.dev
		} else if in.dev != dev {
			panic(fmt.Sprintf("mx.%s: inputs on different devices (%s and %s)", op.Name(), dev.Name(), in.dev.Name()))
		}
	}
	return &Array{shape: shape, dtype: dtype, op: op, inputs: inputs, dev: dev}
}

// fromHost makes a realized array from a host slice whose element type matches dtype.
func fromHost(dev *Device, dtype DType, shape []int, data any) *Array {
	if dev == nil {
		dev = DefaultDevice()
	}
	return &Array{shape: shape, dtype: dtype, buf: dev.backend.FromHost(dtype, shape, data), dev: dev}
}

// String prints the array like NumPy for small arrays, with its dtype.
func (a *Array) String() string { return formatArray(a) }

// checkShape validates user-provided shapes.
func checkShape(op string, shape []int) []int {
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("mx.%s: negative dimension in shape %v", op, shape))
		}
	}
	return slices.Clone(shape)
}

// normAxis maps a possibly negative axis into [0, ndim) or panics naming the op.
func normAxis(op string, axis, ndim int) int {
	if axis < -ndim || axis >= ndim {
		panic(fmt.Sprintf("mx.%s: axis %d out of range for %d dimensions", op, axis, ndim))
	}
	if axis < 0 {
		axis += ndim
	}
	return axis
}

// normAxes normalizes, sorts and checks a list of axes for duplicates; nil means all axes.
func normAxes(op string, axes []int, ndim int) []int {
	if axes == nil {
		out := make([]int, ndim)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, len(axes))
	for i, ax := range axes {
		out[i] = normAxis(op, ax, ndim)
	}
	slices.Sort(out)
	for i := 1; i < len(out); i++ {
		if out[i] == out[i-1] {
			panic(fmt.Sprintf("mx.%s: repeated axis %d in %v", op, out[i], axes))
		}
	}
	return out
}
