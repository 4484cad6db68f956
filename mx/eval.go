package mx

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// transformDepth counts the transforms (VJP, Compile tracing) in progress. While it is non-zero,
// evaluated arrays keep their recipes so the transform can still walk through them.
var transformDepth atomic.Int32

// evalMu serializes evaluation: arrays are not safe for concurrent mutation and Eval realizes them.
var evalMu sync.Mutex

// Eval computes the given arrays (and whatever they depend on that is not yet realized) in one
// program on their device. Arrays already realized are left alone; nil arrays are ignored.
func Eval(arrays ...*Array) {
	evalMu.Lock()
	defer evalMu.Unlock()
	var targets []*Array
	for _, a := range arrays {
		if a != nil && a.buf == nil {
			targets = append(targets, a)
		}
	}
	if len(targets) == 0 {
		return
	}
	dev := targets[0].dev
	for _, a := range targets[1:] {
		if a.dev != dev {
			panic(fmt.Sprintf("mx.Eval: arrays on different devices (%s and %s)", dev.Name(), a.dev.Name()))
		}
	}
	g := newGraphBuilder()
	outs := make([]int, len(targets))
	for i, a := range targets {
		outs[i] = g.visit(a)
	}
	g.prog.Outputs = outs
	exe, err := dev.backend.Compile(&g.prog)
	if err != nil {
		panic(fmt.Sprintf("mx.Eval: %v", err))
	}
	bufs, err := exe.Run(g.leafBufs)
	if err != nil {
		panic(fmt.Sprintf("mx.Eval: %v", err))
	}
	keep := transformDepth.Load() > 0
	for i, a := range targets {
		a.buf = bufs[i]
		if !keep {
			a.op, a.inputs = nil, nil
		}
	}
}

// graphBuilder turns the pending recipes under some arrays into a prim.Program. Realized arrays
// become Input nodes whose buffers are collected in leafBufs.
type graphBuilder struct {
	prog     prim.Program
	index    map[*Array]int
	leafBufs []prim.Buffer
}

func newGraphBuilder() *graphBuilder { return &graphBuilder{index: map[*Array]int{}} }

func (g *graphBuilder) add(n prim.Node) int {
	g.prog.Nodes = append(g.prog.Nodes, n)
	return len(g.prog.Nodes) - 1
}

// visit adds a and the recipes it depends on, returning a's node index.
func (g *graphBuilder) visit(a *Array) int {
	if i, ok := g.index[a]; ok {
		return i
	}
	var i int
	switch {
	case a.buf != nil:
		i = g.add(prim.Node{Op: prim.Input{Index: g.prog.NumInputs}, Shape: a.shape, DType: a.dtype})
		g.prog.NumInputs++
		g.leafBufs = append(g.leafBufs, a.buf)
	case isDonated(a):
		panic("mx: reading an array donated to a compiled call (mx.Compiled.Donate): its buffer now holds an output")
	case isPlaceholder(a):
		// Compile registers its own placeholders in index before visiting, so reaching one here
		// means someone asked for a value in the middle of tracing.
		panic("mx: cannot evaluate an array that depends on the inputs of a function being compiled; return it from the function instead")
	default:
		ins := make([]int, len(a.inputs))
		for j, in := range a.inputs {
			ins[j] = g.visit(in)
		}
		i = g.add(prim.Node{Op: a.op, Inputs: ins, Shape: a.shape, DType: a.dtype})
	}
	g.index[a] = i
	return i
}

func isPlaceholder(a *Array) bool {
	_, ok := a.op.(prim.Input)
	return ok && a.buf == nil
}
