// Package cpu is mx's native Go backend: the reference implementation of every primitive, and
// the embedded default that runs wherever Go does, with no cgo.
//
// Data flow: mx hands Compile a prim.Program; Compile resolves each node's kernel once and
// computes, for each value, the last node that reads it. Run walks the nodes in order, calls each
// kernel on its input buffers, and drops every intermediate buffer after its last use so the
// garbage collector can reuse the memory while the program is still running.
//
// Buffers are contiguous, row-major Go slices ([]float32, []float64, []uint16 for bfloat16 and
// float16 bits, []int32, []int64, []uint8, []uint32, []bool). Buffers are immutable once a kernel
// has returned them, so Reshape, Identity and StopGradient share their input's storage.
//
// Kernels run in parallel over the available cores. Work is split so that every output element is
// computed by exactly one goroutine in a fixed order, so results are bitwise identical from run to
// run and independent of scheduling. Half-precision inputs are widened to float32 for arithmetic
// and rounded back (to nearest even) on output.
package cpu

import (
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Buffer is a realized value: a contiguous Go slice.
type Buffer struct {
	data any
}

// Bytes is the storage size in bytes.
func (b *Buffer) Bytes() int {
	v := reflect.ValueOf(b.data)
	return v.Len() * int(v.Type().Elem().Size())
}

// Data returns the underlying slice (do not modify it).
func (b *Buffer) Data() any { return b.data }

// Backend is the cpu backend. The zero value is ready to use.
type Backend struct{}

// New returns the cpu backend.
func New() *Backend { return &Backend{} }

// Name is "cpu".
func (*Backend) Name() string { return "cpu" }

// FromHost copies data into a new buffer.
func (*Backend) FromHost(dtype prim.DType, shape []int, data any) prim.Buffer {
	n := prim.ShapeSize(shape)
	b := alloc(dtype, n)
	src := reflect.ValueOf(data)
	if src.Len() != n {
		panic(fmt.Sprintf("cpu.FromHost: %d elements for shape %v", src.Len(), shape))
	}
	if reflect.TypeOf(b.data) != src.Type() {
		panic(fmt.Sprintf("cpu.FromHost: %T for dtype %s", data, dtype))
	}
	reflect.Copy(reflect.ValueOf(b.data), src)
	return b
}

// ToHost returns the buffer's slice itself; callers must not modify it.
func (*Backend) ToHost(b prim.Buffer, dtype prim.DType, shape []int) any {
	return b.(*Buffer).data
}

// operand is a kernel input: a buffer with the shape and dtype of its value.
type operand struct {
	*Buffer
	shape []int
	dtype prim.DType
}

// kernel computes one node from its inputs.
type kernel func(n *prim.Node, in []operand) *Buffer

var kernels = map[reflect.Type]kernel{}

// defKernel registers the kernel of primitive type T. Each family of kernels registers in init.
func defKernel[T prim.Op](fn func(op T, n *prim.Node, in []operand) *Buffer) {
	t := reflect.TypeFor[T]()
	if _, dup := kernels[t]; dup {
		panic("cpu: duplicate kernel for " + t.String())
	}
	kernels[t] = func(n *prim.Node, in []operand) *Buffer { return fn(n.Op.(T), n, in) }
}

type executable struct {
	prog     *prim.Program
	kernels  []kernel
	lastUse  []int // node index after which the value may be freed; -1 for outputs and inputs
	inputIdx []int // for Input nodes, which run-time input they bind to; -1 otherwise
}

// Compile resolves kernels and buffer lifetimes for p.
func (*Backend) Compile(p *prim.Program) (prim.Executable, error) {
	e := &executable{prog: p, kernels: make([]kernel, len(p.Nodes)), lastUse: make([]int, len(p.Nodes)), inputIdx: make([]int, len(p.Nodes))}
	for i, n := range p.Nodes {
		e.inputIdx[i] = -1
		if in, ok := n.Op.(prim.Input); ok {
			if in.Index < 0 || in.Index >= p.NumInputs {
				return nil, fmt.Errorf("cpu: node %d binds input %d of %d", i, in.Index, p.NumInputs)
			}
			e.inputIdx[i] = in.Index
			continue
		}
		k, ok := kernels[reflect.TypeOf(n.Op)]
		if !ok {
			return nil, fmt.Errorf("cpu: no kernel for primitive %s", n.Op.Name())
		}
		e.kernels[i] = k
		for _, j := range n.Inputs {
			e.lastUse[j] = i
		}
	}
	for _, o := range p.Outputs {
		e.lastUse[o] = -1
	}
	return e, nil
}

// Run executes the program.
func (e *executable) Run(inputs []prim.Buffer) (outs []prim.Buffer, err error) {
	p := e.prog
	if len(inputs) != p.NumInputs {
		return nil, fmt.Errorf("cpu: program takes %d inputs, got %d", p.NumInputs, len(inputs))
	}
	vals := make([]*Buffer, len(p.Nodes))
	cur := -1
	defer func() {
		if r := recover(); r != nil {
			if cur >= 0 {
				n := p.Nodes[cur]
				err = fmt.Errorf("cpu: %s %s%v: %v\n%s", n.Op.Name(), n.DType, n.Shape, r, debug.Stack())
			} else {
				err = fmt.Errorf("cpu: %v", r)
			}
		}
	}()
	ins := make([]operand, 0, 8)
	for i := range p.Nodes {
		cur = i
		n := &p.Nodes[i]
		if k := e.inputIdx[i]; k >= 0 {
			vals[i] = inputs[k].(*Buffer)
			continue
		}
		ins = ins[:0]
		for _, j := range n.Inputs {
			ins = append(ins, operand{vals[j], p.Nodes[j].Shape, p.Nodes[j].DType})
		}
		vals[i] = e.kernels[i](n, ins)
		for _, j := range n.Inputs {
			if e.lastUse[j] == i {
				vals[j] = nil
			}
		}
	}
	cur = -1
	outs = make([]prim.Buffer, len(p.Outputs))
	for i, o := range p.Outputs {
		outs[i] = vals[o]
	}
	return outs, nil
}
