// Package cpu is mx's native Go backend: the reference implementation of every primitive, and
// the embedded default that runs wherever Go does, with no cgo.
//
// Data flow: mx hands Compile a prim.Program; Compile resolves each node's kernel once, fuses
// chains and trees of float32 elementwise nodes into single blockwise kernels (fuse.go), and
// computes, for each value, the last node that reads it. Run walks the nodes in order, calls each
// kernel (or fused group) on its input buffers, and drops every intermediate buffer after its
// last use. Dead buffers that the run allocated for fused outputs are reused for later fused
// outputs of the same size, in that run and the next (fuse_arena.go); the rest is left to the
// garbage collector. Setting LMXLAB_CPU_FUSION=0 in the environment turns fusion off.
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
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

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

// fusionOff turns elementwise fusion off for every cpu backend, when the environment variable
// LMXLAB_CPU_FUSION is "0" at start-up (to rule fusion out when chasing a numerical problem).
var fusionOff = os.Getenv("LMXLAB_CPU_FUSION") == "0"

// Backend is the cpu backend. The zero value is ready to use.
type Backend struct {
	unfused bool // compile without elementwise fusion (for tests)
}

// New returns the cpu backend.
func New() *Backend { return &Backend{} }

// Name is "cpu".
func (*Backend) Name() string { return "cpu" }

// Traits: indices are checked and scatters add in order.
func (*Backend) Traits() prim.Traits { return prim.Traits{CheckedIndices: true, OrderedScatter: true} }

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
	inputIdx []int // for Input nodes, which run-time input they bind to; -1 otherwise
	// group[i] is the fused group computed at node i (its root); skip[i] marks the nodes that
	// a group computes, other than its root.
	group []*fusedGroup
	skip  []bool
	// free[i] lists the values dropped after node i runs: those whose last reader (or, for a
	// value nothing reads, the node itself) is i. Outputs are never dropped.
	free      [][]int
	stats     Stats
	peak      atomic.Int64 // Stats.PeakBytes of the last run
	reused    atomic.Int64 // Stats.ReusedBytes of the last run
	allocated atomic.Int64 // Stats.AllocatedBytes of the last run
	spare     sync.Pool    // spareBuffers left over by earlier runs
}

// Compile resolves kernels, fuses elementwise nodes and computes buffer lifetimes for p.
func (b *Backend) Compile(p *prim.Program) (prim.Executable, error) {
	nn := len(p.Nodes)
	e := &executable{prog: p, kernels: make([]kernel, nn), inputIdx: make([]int, nn)}
	for i, n := range p.Nodes {
		e.inputIdx[i] = -1
		if in, ok := n.Op.(prim.Input); ok {
			if in.Index < 0 || in.Index >= p.NumInputs {
				return nil, fmt.Errorf("cpu: node %d binds input %d of %d", i, in.Index, p.NumInputs)
			}
			e.inputIdx[i] = in.Index
			continue
		}
		for _, j := range n.Inputs {
			if j < 0 || j >= i {
				return nil, fmt.Errorf("cpu: node %d reads node %d", i, j)
			}
		}
		k, ok := kernels[reflect.TypeOf(n.Op)]
		if !ok {
			return nil, fmt.Errorf("cpu: no kernel for primitive %s", n.Op.Name())
		}
		e.kernels[i] = k
	}
	if b.unfused || fusionOff {
		e.group, e.skip = make([]*fusedGroup, nn), make([]bool, nn)
	} else {
		e.group, e.skip = fuseProgram(p)
	}
	// A value is read when the node (or the group) that reads it runs.
	at := make([]int, nn) // the node at which node i is computed
	for i := range at {
		at[i] = i
	}
	for i, g := range e.group {
		if g == nil {
			continue
		}
		for _, m := range g.nodes {
			at[m] = i
		}
		e.stats.FusedGroups++
		e.stats.FusedNodes += len(g.nodes)
		e.skip[i] = false // the root runs the group
	}
	lastUse := make([]int, nn)
	for i, n := range p.Nodes {
		lastUse[i] = at[i]
		for _, j := range n.Inputs {
			if at[j] != at[i] { // else an internal value of i's group
				lastUse[j] = max(lastUse[j], at[i])
			}
		}
	}
	for _, o := range p.Outputs {
		lastUse[o] = -1
	}
	e.free = make([][]int, nn)
	for j, l := range lastUse {
		internal := e.skip[j] && !slices.Contains(e.group[at[j]].outputs, j)
		if l >= 0 && !internal {
			e.free[l] = append(e.free[l], j)
		}
	}
	e.stats.Nodes = nn
	return e, nil
}

// Stats describes a compiled program.
type Stats struct {
	Nodes       int // nodes of the program
	FusedNodes  int // nodes computed by fused elementwise groups
	FusedGroups int // fused groups (a group of one node is an elementwise kernel run blockwise)
	// PeakBytes is the most storage the last run held at once, for its intermediate values and
	// outputs (the program's inputs, which include the constants mx.Compile captures, are not
	// counted). Storage shared by several values (Reshape, Identity) counts once.
	PeakBytes int64
	// ReusedBytes is how much of the last run's storage for fused outputs came from buffers that
	// earlier values had finished with (in that run or a previous one) instead of new allocations.
	ReusedBytes int64
	// AllocatedBytes is the new storage of the last run: fused outputs that found no dead
	// buffer to reuse, and the results of the other kernels (which allocate their own).
	AllocatedBytes int64
}

// Stats returns the executable's fusion counts and the memory figures of its last run.
func (e *executable) Stats() Stats {
	s := e.stats
	s.PeakBytes = e.peak.Load()
	s.ReusedBytes = e.reused.Load()
	s.AllocatedBytes = e.allocated.Load()
	return s
}

// ExecutableStats returns the Stats of an executable compiled by the cpu backend.
func ExecutableStats(x prim.Executable) (Stats, bool) {
	e, ok := x.(*executable)
	if !ok {
		return Stats{}, false
	}
	return e.Stats(), true
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
	a := e.newArena(len(p.Nodes))
	defer e.endArena(a)
	ins := make([]operand, 0, 8)
	var gin, gout []*Buffer
	for i := range p.Nodes {
		cur = i
		n := &p.Nodes[i]
		switch {
		case e.inputIdx[i] >= 0:
			vals[i] = inputs[e.inputIdx[i]].(*Buffer)
			a.input(i, vals[i])
		case e.skip[i]:
			continue
		case e.group[i] != nil:
			g := e.group[i]
			gin, gout = gin[:0], gout[:0]
			for _, j := range g.inputs {
				gin = append(gin, vals[j])
			}
			for k, m := range g.outputs {
				gout = append(gout, a.alloc(m, g.outBool[k], g.size))
			}
			g.run(gin, gout)
			for k, m := range g.outputs {
				vals[m] = gout[k]
			}
		default:
			ins = ins[:0]
			for _, j := range n.Inputs {
				ins = append(ins, operand{vals[j], p.Nodes[j].Shape, p.Nodes[j].DType})
			}
			vals[i] = e.kernels[i](n, ins)
			a.produced(i, vals[i], n.Inputs)
		}
		for _, j := range e.free[i] {
			a.drop(j)
			vals[j] = nil
		}
	}
	cur = -1
	outs = make([]prim.Buffer, len(p.Outputs))
	for i, o := range p.Outputs {
		outs[i] = vals[o]
	}
	return outs, nil
}
