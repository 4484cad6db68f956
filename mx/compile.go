package mx

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Compiled is a function compiled by Compile: traced once per input signature, replayed after.
type Compiled struct {
	f      func(args ...*Array) []*Array
	mu     sync.Mutex
	cache  map[string]*compiledEntry
	traces int
	donate []int // argument indices given up at every call (Donate)
}

type compiledEntry struct {
	dev    *Device
	exe    prim.Executable
	consts []prim.Buffer // captured arrays, appended to the inputs at every call
	shapes [][]int       // output shapes and dtypes
	dtypes []DType
	prog   *prim.Program
}

// Compile returns f compiled: the first call with a given signature (shapes and dtypes of the
// arguments) traces f on placeholders and compiles the resulting program on the arguments' device;
// later calls with the same signature replay it. f must be pure: its results may depend only on
// its arguments; arrays it captures from outside are frozen into the program as constants, and
// random numbers must come from keys passed as arguments.
func Compile(f func(args ...*Array) []*Array) *Compiled {
	return &Compiled{f: f, cache: map[string]*compiledEntry{}}
}

// Donate gives up the arguments at these indices at every call: the backend may write outputs
// of the same shape and dtype into their buffers (on the gpu device XLA updates them in place, so
// a training step needs no second copy of its parameters and optimizer state, and their
// addresses stay put from step to step). After a call the donated arrays are unreadable; using
// one panics. Call Donate before the first call. It returns c. LMXLAB_DONATE=0 in the
// environment turns every Donate into a no-op (to compare, or to rule donation out).
func (c *Compiled) Donate(indices ...int) *Compiled {
	c.mu.Lock()
	defer c.mu.Unlock()
	if os.Getenv("LMXLAB_DONATE") == "0" {
		return c
	}
	if c.traces > 0 {
		panic("mx.Compiled.Donate: call it before the first call")
	}
	for _, i := range indices {
		if i < 0 {
			panic(fmt.Sprintf("mx.Compiled.Donate: negative index %d", i))
		}
	}
	c.donate = slices.Compact(slices.Sorted(slices.Values(append(c.donate, indices...))))
	return c
}

// donated marks an array given up to a compiled call.
type donated struct{}

func (donated) Name() string { return "Donated" }

func isDonated(a *Array) bool {
	_, ok := a.op.(donated)
	return ok && a.buf == nil
}

// Traces is the number of times f has been traced (one per distinct signature seen).
func (c *Compiled) Traces() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.traces
}

// Program returns the traced program for the signature of args, tracing it if needed (for
// inspection and tests).
func (c *Compiled) Program(args ...*Array) *prim.Program {
	return c.entry(args).prog
}

// Call runs the compiled function. The results are realized arrays.
func (c *Compiled) Call(args ...*Array) []*Array {
	e := c.entry(args)
	Eval(args...)
	in := make([]prim.Buffer, 0, len(args)+len(e.consts))
	for _, a := range args {
		if a.dev != e.dev {
			panic(fmt.Sprintf("mx.Compile: argument on %s, function compiled for %s", a.dev.Name(), e.dev.Name()))
		}
		in = append(in, a.buf)
	}
	in = append(in, e.consts...)
	bufs, err := e.exe.Run(in)
	if err != nil {
		panic(fmt.Sprintf("mx.Compile: %v", err))
	}
	for _, i := range e.prog.Donated {
		a := args[i]
		a.buf, a.op, a.inputs = nil, donated{}, nil
	}
	outs := make([]*Array, len(bufs))
	for i, b := range bufs {
		outs[i] = &Array{shape: e.shapes[i], dtype: e.dtypes[i], buf: b, dev: e.dev}
	}
	return outs
}

func signature(args []*Array) string {
	// Called on every call with hundreds of arguments (a training step's parameters): no fmt.
	b := make([]byte, 0, 16*len(args))
	for _, a := range args {
		b = append(b, a.dtype.String()...)
		b = append(b, '[')
		for k, d := range a.shape {
			if k > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, "]@"...)
		b = append(b, a.dev.Name()...)
		b = append(b, ';')
	}
	return string(b)
}

func (c *Compiled) entry(args []*Array) *compiledEntry {
	sig := signature(args)
	c.mu.Lock()
	e := c.cache[sig]
	c.mu.Unlock()
	if e != nil {
		return e
	}
	e = c.trace(args)
	c.mu.Lock()
	c.cache[sig] = e
	c.traces++
	c.mu.Unlock()
	return e
}

func (c *Compiled) trace(args []*Array) *compiledEntry {
	dev := DefaultDevice()
	if len(args) > 0 {
		dev = args[0].dev
	}
	placeholders := make([]*Array, len(args))
	for i, a := range args {
		placeholders[i] = &Array{shape: a.shape, dtype: a.dtype, op: prim.Input{Index: i}, dev: a.dev}
	}
	outs := func() []*Array {
		transformDepth.Add(1)
		defer transformDepth.Add(-1)
		return c.f(placeholders...)
	}()

	g := newGraphBuilder()
	for i, p := range placeholders {
		g.index[p] = g.add(prim.Node{Op: prim.Input{Index: i}, Shape: p.shape, DType: p.dtype})
	}
	g.prog.NumInputs = len(args)
	for _, i := range c.donate {
		if i < len(args) {
			g.prog.Donated = append(g.prog.Donated, i)
		}
	}
	e := &compiledEntry{dev: dev}
	for _, o := range outs {
		g.prog.Outputs = append(g.prog.Outputs, g.visit(o))
		e.shapes = append(e.shapes, o.shape)
		e.dtypes = append(e.dtypes, o.dtype)
	}
	e.consts = g.leafBufs
	simplify(&g.prog)
	exe, err := dev.backend.Compile(&g.prog)
	if err != nil {
		panic(fmt.Sprintf("mx.Compile: %v", err))
	}
	e.exe, e.prog = exe, &g.prog
	return e
}
