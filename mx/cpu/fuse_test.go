package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// progBuilder builds prim.Programs by hand for the fusion tests.
type progBuilder struct {
	p      prim.Program
	inputs []prim.Buffer
}

func (b *progBuilder) node(op prim.Op, dt prim.DType, shape []int, ins ...int) int {
	b.p.Nodes = append(b.p.Nodes, prim.Node{Op: op, Inputs: ins, Shape: shape, DType: dt})
	return len(b.p.Nodes) - 1
}

func (b *progBuilder) input(data any, dt prim.DType, shape []int) int {
	i := b.node(prim.Input{Index: b.p.NumInputs}, dt, shape)
	b.p.NumInputs++
	b.inputs = append(b.inputs, New().FromHost(dt, shape, data))
	return i
}

// specials are float32 values that exercise the edges of the kernels.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)),
	float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-20, -88, 90}

func randFloats(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch r := rng.IntN(20); {
		case r == 0:
			v[i] = specials[rng.IntN(len(specials))]
		case r < 4:
			v[i] = float32(rng.IntN(5) - 2) // ties for comparisons
		default:
			v[i] = float32(rng.NormFloat64() * 2)
		}
	}
	return v
}

var fuseUnaryKinds = []prim.UnaryKind{prim.Neg, prim.Abs, prim.Sign, prim.Exp, prim.Log, prim.Log1p,
	prim.Expm1, prim.Sqrt, prim.Rsqrt, prim.Square, prim.Sin, prim.Cos, prim.Tanh, prim.Sigmoid,
	prim.Erf, prim.ErfInv, prim.Floor, prim.Ceil, prim.Round, prim.Reciprocal, prim.SiLU, prim.GELU,
	prim.GELUTanh, prim.Softplus, prim.ReLU, prim.SiLUGrad, prim.GELUGrad, prim.GELUTanhGrad}

// randomElementwiseProgram builds a program over the full shape: inputs of that shape and of
// broadcastable shapes, then random float32 and bool elementwise nodes with now and then a
// node that fusion stops at (a Reshape pair or a Reduce), and random values as outputs.
func randomElementwiseProgram(rng *rand.Rand, shape []int) *progBuilder {
	b := &progBuilder{}
	var f32s, bools []int
	shapes := [][]int{shape, shape, {}}
	if len(shape) > 0 {
		shapes = append(shapes, []int{shape[len(shape)-1]}, append(slices.Clone(shape[:len(shape)-1]), 1))
	}
	if len(shape) > 1 {
		shapes = append(shapes, append([]int{1}, shape[1:]...))
	}
	for k := 0; k < 2+rng.IntN(4); k++ {
		s := shapes[rng.IntN(len(shapes))]
		if k == 0 {
			s = shape
		}
		f32s = append(f32s, b.input(randFloats(rng, prim.ShapeSize(s)), prim.Float32, s))
	}
	if rng.IntN(2) == 0 {
		s := shapes[rng.IntN(len(shapes))]
		c := make([]bool, prim.ShapeSize(s))
		for i := range c {
			c[i] = rng.IntN(2) == 0
		}
		bools = append(bools, b.input(c, prim.Bool, s))
	}
	pick := func(xs []int) int {
		// Prefer recent values, so chains form; sometimes reuse old ones, so trees and shared
		// subexpressions form too.
		if rng.IntN(3) > 0 {
			return xs[len(xs)-1-rng.IntN(min(3, len(xs)))]
		}
		return xs[rng.IntN(len(xs))]
	}
	out := func(ins ...int) []int {
		ss := make([][]int, len(ins))
		for i, j := range ins {
			ss[i] = b.p.Nodes[j].Shape
		}
		return broadcastShape(ss...)
	}
	nOps := 3 + rng.IntN(25)
	for range nOps {
		switch r := rng.IntN(20); {
		case r < 7:
			x := pick(f32s)
			k := fuseUnaryKinds[rng.IntN(len(fuseUnaryKinds))]
			f32s = append(f32s, b.node(prim.Unary{Kind: k}, prim.Float32, b.p.Nodes[x].Shape, x))
		case r < 13:
			x, y := pick(f32s), pick(f32s)
			k := prim.BinaryKind(rng.IntN(int(prim.Atan2) + 1))
			f32s = append(f32s, b.node(prim.Binary{Kind: k}, prim.Float32, out(x, y), x, y))
		case r < 15:
			x, y := pick(f32s), pick(f32s)
			k := prim.Equal + prim.BinaryKind(rng.IntN(int(prim.LogicalOr-prim.Equal)+1))
			bools = append(bools, b.node(prim.Binary{Kind: k}, prim.Bool, out(x, y), x, y))
		case r < 17 && len(bools) > 0:
			c, x, y := pick(bools), pick(f32s), pick(f32s)
			f32s = append(f32s, b.node(prim.Where{}, prim.Float32, out(c, x, y), c, x, y))
		case r == 17 && len(bools) > 0:
			c := pick(bools)
			if rng.IntN(2) == 0 {
				f32s = append(f32s, b.node(prim.AsType{}, prim.Float32, b.p.Nodes[c].Shape, c))
			} else {
				bools = append(bools, b.node(prim.Unary{Kind: prim.LogicalNot}, prim.Bool, b.p.Nodes[c].Shape, c))
			}
		case r == 18:
			x := pick(f32s)
			if rng.IntN(2) == 0 {
				bools = append(bools, b.node(prim.AsType{}, prim.Bool, b.p.Nodes[x].Shape, x))
			} else { // a Reshape there and back: an alias that fusion does not cross
				s := b.p.Nodes[x].Shape
				flat := b.node(prim.Reshape{}, prim.Float32, []int{prim.ShapeSize(s)}, x)
				f32s = append(f32s, b.node(prim.Reshape{}, prim.Float32, s, flat))
			}
		default:
			x := pick(f32s)
			s := slices.Clone(b.p.Nodes[x].Shape)
			if len(s) == 0 {
				continue
			}
			s[len(s)-1] = 1
			f32s = append(f32s, b.node(prim.Reduce{Kind: prim.ReduceSum, Axes: []int{len(s) - 1}}, prim.Float32, s, x))
		}
	}
	all := append(slices.Clone(f32s), bools...)
	b.p.Outputs = append(b.p.Outputs, f32s[len(f32s)-1])
	for range rng.IntN(4) {
		b.p.Outputs = append(b.p.Outputs, all[rng.IntN(len(all))])
	}
	return b
}

func broadcastShape(shapes ...[]int) []int {
	n := 0
	for _, s := range shapes {
		n = max(n, len(s))
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		for i, d := range s {
			if d != 1 {
				out[n-len(s)+i] = d
			}
		}
	}
	return out
}

func runProgram(t *testing.T, be *Backend, b *progBuilder) (prim.Executable, []prim.Buffer) {
	t.Helper()
	exe, err := be.Compile(&b.p)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exe.Run(b.inputs)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.p.String())
	}
	return exe, outs
}

// bitsOf returns a buffer's contents as comparable bits. With anyNaN, every NaN reads the same:
// when both operands of an operation are NaN, which one the result carries (its sign and
// payload) depends on the order in which the compiler put the operands of a commutative
// instruction, which may differ between two loops computing the same values.
func bitsOf(buf prim.Buffer, anyNaN bool) []uint64 {
	switch d := buf.(*Buffer).data.(type) {
	case []float32:
		out := make([]uint64, len(d))
		for i, v := range d {
			out[i] = uint64(math.Float32bits(v))
			if anyNaN && v != v {
				out[i] = 0x7fc00000
			}
		}
		return out
	case []bool:
		out := make([]uint64, len(d))
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
		return out
	}
	panic(fmt.Sprintf("bitsOf %T", buf.(*Buffer).data))
}

func sameOutputs(t *testing.T, what string, b *progBuilder, got, want []prim.Buffer, anyNaN bool) {
	t.Helper()
	for k := range want {
		g, w := bitsOf(got[k], anyNaN), bitsOf(want[k], anyNaN)
		if i := slices.Compare(g, w); i != 0 {
			for j := range w {
				if g[j] != w[j] {
					t.Fatalf("%s: output %d (node %d) element %d: %#x, want %#x\n%s", what, k, b.p.Outputs[k], j, g[j], w[j], b.p.String())
				}
			}
		}
	}
}

func TestFusedMatchesUnfusedBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	shapes := [][]int{{7}, {3, 5}, {2, 3, 4}, {1, 6}, {5, 1}, {0, 4}, {}, {3, 700}, {4, 37, 300}}
	fused, unfused := New(), &Backend{unfused: true}
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	groups, nodes := 0, 0
	for trial := range 300 {
		shape := shapes[trial%len(shapes)]
		if trial%len(shapes) == len(shapes)-1 && trial > 3*len(shapes) {
			continue // a few large programs are enough
		}
		b := randomElementwiseProgram(rng, shape)
		_, want := runProgram(t, unfused, b)
		exe, got := runProgram(t, fused, b)
		sameOutputs(t, "fused", b, got, want, true)
		st := exe.(*executable).Stats()
		groups += st.FusedGroups
		nodes += st.FusedNodes
		// A second run, on other inputs, reuses the first run's dead buffers: it must give the
		// unfused results for those inputs and leave the first run's outputs alone.
		b2 := &progBuilder{p: b.p}
		for k, in := range b.inputs {
			n := b.p.Nodes[k]
			if n.DType == prim.Float32 {
				b2.inputs = append(b2.inputs, New().FromHost(n.DType, n.Shape, randFloats(rng, n.Size())))
			} else {
				b2.inputs = append(b2.inputs, in)
			}
		}
		_, want2 := runProgram(t, unfused, b2)
		again, err := exe.Run(b2.inputs)
		if err != nil {
			t.Fatal(err)
		}
		sameOutputs(t, "second run", b, again, want2, true)
		sameOutputs(t, "first run's outputs after a second run", b, got, want, true)
		for _, p := range []int{1, 3} {
			runtime.GOMAXPROCS(p)
			other, err := exe.Run(b2.inputs)
			runtime.GOMAXPROCS(procs)
			if err != nil {
				t.Fatal(err)
			}
			sameOutputs(t, fmt.Sprintf("GOMAXPROCS=%d", p), b, other, again, false)
		}
	}
	if nodes <= groups {
		t.Fatalf("%d nodes in %d groups: nothing fused", nodes, groups)
	}
	t.Logf("%d nodes fused into %d groups", nodes, groups)
}

func TestFusedGroupsAndPeakBytes(t *testing.T) {
	const n = 1000
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i) / n
	}
	b := &progBuilder{}
	x := b.input(xs, prim.Float32, []int{n})
	a := b.node(prim.Unary{Kind: prim.Neg}, prim.Float32, []int{n}, x)
	ar := b.node(prim.Reshape{}, prim.Float32, []int{10, 100}, a) // shares a's storage
	e := b.node(prim.Unary{Kind: prim.Exp}, prim.Float32, []int{10, 100}, ar)
	er := b.node(prim.Reshape{}, prim.Float32, []int{n}, e)
	two := b.node(prim.Full{Value: 2}, prim.Float32, nil)
	m := b.node(prim.Binary{Kind: prim.Mul}, prim.Float32, []int{n}, er, two)
	s := b.node(prim.Unary{Kind: prim.Sin}, prim.Float32, []int{n}, m)
	b.p.Outputs = []int{s, ar}
	exe, outs := runProgram(t, New(), b)
	st := exe.(*executable).Stats()
	// Groups: {a}, {e}, {m, s}; Full and the Reshapes run on their own.
	if st.FusedGroups != 3 || st.FusedNodes != 4 || st.Nodes != 8 {
		t.Fatalf("stats %+v, want 3 groups of 4 nodes out of 8", st)
	}
	// Live at most: a (pinned by the output ar) and e, then s: 3 buffers of n float32s at the
	// step that computes s, plus the 4-byte scalar 2. Nothing dead matches when s is allocated
	// (a's storage is an output), so nothing is reused in the first run.
	if want := int64(3*4*n + 4); st.PeakBytes != want || st.ReusedBytes != 0 || st.AllocatedBytes != want {
		t.Fatalf("first run: peak %d, reused %d, allocated %d; want %d, 0, %d", st.PeakBytes, st.ReusedBytes, st.AllocatedBytes, want, want)
	}
	check := func(what string, outs []prim.Buffer) {
		t.Helper()
		sv, av := outs[0].(*Buffer).data.([]float32), outs[1].(*Buffer).data.([]float32)
		for i, v := range xs {
			if av[i] != -v || sv[i] != float32(math.Sin(float64(2*float32(math.Exp(float64(-v)))))) {
				t.Fatalf("%s: element %d: %g, %g", what, i, sv[i], av[i])
			}
		}
	}
	check("first run", outs)
	// The second run finds e's dead buffer of the first run and reuses it for a; a, now pinned
	// by the output again, is not reused, so e and s are new.
	outs2, err := exe.Run(b.inputs)
	if err != nil {
		t.Fatal(err)
	}
	st = exe.(*executable).Stats()
	if want := int64(3*4*n + 4); st.PeakBytes != want || st.ReusedBytes != 4*n || st.AllocatedBytes != want-4*n {
		t.Fatalf("second run: peak %d, reused %d, allocated %d; want %d, %d, %d", st.PeakBytes, st.ReusedBytes, st.AllocatedBytes, want, 4*n, want-4*n)
	}
	check("second run", outs2)
	check("first run after the second", outs)
}

// TestFusedConcurrentRuns runs one executable from several goroutines at once (each run has
// its own buffers; dead ones are shared through a pool) and checks every result.
func TestFusedConcurrentRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	b := randomElementwiseProgram(rng, []int{3, 700})
	for len(b.p.Nodes) < 12 {
		b = randomElementwiseProgram(rng, []int{3, 700})
	}
	exe, err := New().Compile(&b.p)
	if err != nil {
		t.Fatal(err)
	}
	type job struct {
		in   []prim.Buffer
		want []prim.Buffer
	}
	jobs := make([]job, 8)
	for k := range jobs {
		b2 := &progBuilder{p: b.p}
		for i, in := range b.inputs {
			n := b.p.Nodes[i]
			if n.DType == prim.Float32 {
				in = New().FromHost(n.DType, n.Shape, randFloats(rng, n.Size()))
			}
			b2.inputs = append(b2.inputs, in)
		}
		_, want := runProgram(t, &Backend{unfused: true}, b2)
		jobs[k] = job{b2.inputs, want}
	}
	errs := make(chan error, len(jobs)*4)
	got := make([][]prim.Buffer, len(jobs)*4)
	done := make(chan struct{})
	for r := range got {
		go func() {
			defer func() { done <- struct{}{} }()
			out, err := exe.Run(jobs[r%len(jobs)].in)
			if err != nil {
				errs <- err
			}
			got[r] = out
		}()
	}
	for range got {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for r, out := range got {
		sameOutputs(t, fmt.Sprintf("concurrent run %d", r), b, out, jobs[r%len(jobs)].want, true)
	}
}
