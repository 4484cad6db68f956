package prim

import (
	"fmt"
	"strings"
)

// Node is one value of a Program: Op applied to the values at Inputs (indices of earlier Nodes).
type Node struct {
	Op     Op
	Inputs []int
	Shape  []int
	DType  DType
}

// Size is the number of elements of the Node's value.
func (n *Node) Size() int { return ShapeSize(n.Shape) }

// Program is a graph of primitives in topological order. Nodes whose Op is Input are bound to the
// run-time inputs; Outputs lists the Nodes whose values the caller wants back.
type Program struct {
	Nodes   []Node
	Outputs []int
	// NumInputs is the number of Input nodes (their Index runs from 0 to NumInputs-1).
	NumInputs int
	// Donated lists, in increasing order, the inputs whose buffers the caller gives up: a
	// backend may write outputs of the same shape and dtype into them (XLA aliases each with
	// one), so a training step updates its parameters and optimizer state in place. The caller
	// must not read a donated buffer after the run.
	Donated []int
}

// String prints the program one node a line, for debugging and error messages.
func (p *Program) String() string {
	var b strings.Builder
	for i, n := range p.Nodes {
		fmt.Fprintf(&b, "%%%d = %s%v %s %v %v\n", i, n.Op.Name(), opParams(n.Op), n.DType, n.Shape, n.Inputs)
	}
	fmt.Fprintf(&b, "return %v\n", p.Outputs)
	if len(p.Donated) > 0 {
		fmt.Fprintf(&b, "donated %v\n", p.Donated)
	}
	return b.String()
}

func opParams(op Op) string {
	s := fmt.Sprintf("%+v", op)
	if s == "{}" {
		return ""
	}
	return s
}

// Key is a string that identifies the Program's structure (ops, parameters, shapes, dtypes, wiring)
// so backends can cache compiled executables by it.
func (p *Program) Key() string { return p.String() }

// Buffer is a backend's storage for one realized value.
type Buffer interface {
	// Bytes is the size of the storage in bytes.
	Bytes() int
}

// Executable is a Program compiled by a backend.
type Executable interface {
	// Run computes the Program's outputs from its inputs.
	Run(inputs []Buffer) ([]Buffer, error)
}

// Backend computes Programs. mx/cpu is the reference backend; mx/xla lowers to XLA.
type Backend interface {
	// Name is a short name such as "cpu" or "gpu".
	Name() string
	// FromHost copies a host slice into a new buffer. data is a []float32, []float64, []uint16 (the
	// bits of bfloat16 and float16), []int32, []int64, []uint8, []uint32 or []bool, matching dtype.
	FromHost(dtype DType, shape []int, data any) Buffer
	// ToHost returns the buffer's contents as a host slice of the same kind FromHost takes. The
	// slice must not be modified.
	ToHost(b Buffer, dtype DType, shape []int) any
	// Compile prepares a Program for repeated runs.
	Compile(p *Program) (Executable, error)
}

// Traits are guarantees a backend gives beyond the semantics every backend shares. A backend
// states them with a Traits method (see TraitsOf); one without gives none of them.
type Traits struct {
	// CheckedIndices: an out-of-range index (Take, ScatterAdd, TakeAlongAxis, CrossEntropy
	// targets...) makes the run fail with an error naming the op. Without it the result for such
	// an index is unspecified (XLA clamps gathers and drops scattered updates).
	CheckedIndices bool
	// OrderedScatter: ScatterAdd and the gradient of Take add colliding updates in index order,
	// so results are bitwise reproducible and equal a sequential loop. Without it the order of
	// the additions (and so the last bits of float results) may vary (GPU atomics).
	OrderedScatter bool
	// SharedInputProducts: products that share an input run best as one product over their
	// concatenated weights (a GPU's GEMMs: under autodiff the input's gradient is then one product
	// reading the concatenated output gradients once). Without it the models keep the products
	// apart (the cpu backend gains nothing and would pay for the concatenation and the slices).
	SharedInputProducts bool
}

// TraitsOf asks b for its Traits.
func TraitsOf(b Backend) Traits {
	if t, ok := b.(interface{ Traits() Traits }); ok {
		return t.Traits()
	}
	return Traits{}
}

// ShapeSize is the product of the dimensions (1 for a scalar).
func ShapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Strides gives the row-major strides (in elements) of a contiguous array of the given shape.
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// BroadcastStrides gives the strides with which an input of shape in is read when broadcast to
// out (right-aligned, NumPy rules): 0 along broadcast dimensions.
func BroadcastStrides(in, out []int) []int {
	s := make([]int, len(out))
	st := Strides(in)
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 || out[off+i] == 1 {
			s[off+i] = st[i]
		}
	}
	return s
}
