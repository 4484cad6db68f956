package mx

import (
	"slices"
	"strings"
	"testing"
)

func TestCompileMatchesEagerAndCachesBySignature(t *testing.T) {
	rng := newRNG(8)
	f := func(args ...*Array) []*Array {
		x, w := args[0], args[1]
		h := Tanh(Matmul(x, w))
		h2 := Tanh(Matmul(x, w)) // a common subexpression
		return []*Array{Sum(Mul(h, h2), []int{-1}, false), Exp(w)}
	}
	c := Compile(f)
	x, w := AsType(randn(rng, 4, 3), Float32), AsType(randn(rng, 3, 5), Float32)
	got := c.Call(x, w)
	want := f(x, w)
	for i := range got {
		assertClose(t, "compiled", got[i].Float64s(), want[i].Float64s(), 0, 0)
	}
	c.Call(AsType(randn(rng, 4, 3), Float32), w)
	if c.Traces() != 1 {
		t.Fatalf("repeated signature retraced: %d traces", c.Traces())
	}
	c.Call(AsType(randn(rng, 2, 3), Float32), w)
	if c.Traces() != 2 {
		t.Fatalf("new shape did not retrace: %d traces", c.Traces())
	}
	c.Call(randn(rng, 2, 3), randn(rng, 3, 5))
	if c.Traces() != 3 {
		t.Fatalf("new dtype did not retrace: %d traces", c.Traces())
	}
	// CSE merged the duplicated Tanh(Matmul(x, w)).
	prog := c.Program(x, w).String()
	if n := strings.Count(prog, "= Tanh"); n != 1 {
		t.Fatalf("program has %d Tanh nodes after CSE:\n%s", n, prog)
	}
}

func TestCompileWithGradientsAndCapturedConstants(t *testing.T) {
	rng := newRNG(9)
	target := randn(rng, 4, 2) // captured: frozen into the program
	loss := func(args ...*Array) *Array {
		return Mean(Square(Sub(Matmul(args[0], args[1]), target)), nil, false)
	}
	step := Compile(func(args ...*Array) []*Array {
		v, g := ValueAndGrad(loss, 1)(args...)
		return []*Array{v, Sub(args[1], MulScalar(g[0], 0.1))}
	})
	x, w := randn(rng, 4, 3), randn(rng, 3, 2)
	for i := 0; i < 3; i++ {
		v, g := ValueAndGrad(loss, 1)(x, w)
		wantW := Sub(w, MulScalar(g[0], 0.1))
		out := step.Call(x, w)
		assertClose(t, "loss", out[0].Float64s(), v.Float64s(), 1e-12, 1e-12)
		assertClose(t, "update", out[1].Float64s(), wantW.Float64s(), 1e-12, 1e-12)
		w = out[1]
	}
	if step.Traces() != 1 {
		t.Fatalf("traces = %d", step.Traces())
	}
}

func TestEvalInsideCompilePanicsClearly(t *testing.T) {
	c := Compile(func(args ...*Array) []*Array {
		_ = args[0].Item()
		return args
	})
	mustPanic(t, func() { c.Call(Scalar(1, Float32)) }, "being compiled")
}

func TestGradOfSharedAndUnusedInputs(t *testing.T) {
	x := FromSlice([]float64{1, 2, 3}, 3)
	y := FromSlice([]float64{4, 5, 6}, 3)
	v, g := ValueAndGrad(func(a ...*Array) *Array {
		return Sum(Mul(a[0], a[0]), nil, false) // y unused
	})(x, y)
	if v.Item() != 14 {
		t.Fatalf("value %v", v.Item())
	}
	assertClose(t, "dx", g[0].Float64s(), []float64{2, 4, 6}, 0, 0)
	assertClose(t, "dy", g[1].Float64s(), []float64{0, 0, 0}, 0, 0)
	// Gradients through an array evaluated in the middle of the function still flow.
	_, g = ValueAndGrad(func(a ...*Array) *Array {
		h := Exp(a[0])
		Eval(h)
		return Sum(h, nil, false)
	})(x)
	assertClose(t, "through Eval", g[0].Float64s(), Exp(x).Float64s(), 1e-12, 0)
	// StopGradient blocks.
	_, g = ValueAndGrad(func(a ...*Array) *Array {
		return Sum(Mul(a[0], StopGradient(a[0])), nil, false)
	})(x)
	assertClose(t, "StopGradient", g[0].Float64s(), []float64{1, 2, 3}, 0, 0)
}

func TestEvalDropsRecipes(t *testing.T) {
	a := Add(Ones([]int{3}, Float32), Ones([]int{3}, Float32))
	Eval(a)
	if a.inputs != nil || a.op != nil || !a.Realized() {
		t.Fatal("an evaluated array keeps its recipe")
	}
}

func TestCompileDonate(t *testing.T) {
	t.Setenv("LMXLAB_DONATE", "1")       // LMXLAB_DONATE=0 would turn donation off
	step := func(a ...*Array) []*Array { // an update of (param, state) and a loss
		p, s, x := a[0], a[1], a[2]
		s2 := Add(MulScalar(s, 0.9), x)
		return []*Array{Sum(Mul(p, x), nil, false), Sub(p, MulScalar(s2, 0.1)), s2}
	}
	rng := newRNG(61)
	p0, s0, x := randn(rng, 4, 3), randn(rng, 4, 3), randn(rng, 4, 3)
	want := Compile(step).Call(p0, s0, x)
	c := Compile(step).Donate(0, 1)
	p, s := MulScalar(p0, 1), MulScalar(s0, 1) // fresh arrays to give up
	got := c.Call(p, s, x)
	for i := range want {
		assertClose(t, "donated call", got[i].Float64s(), want[i].Float64s(), 0, 0)
	}
	if prog := c.Program(p0, s0, x); !slices.Equal(prog.Donated, []int{0, 1}) || !strings.Contains(prog.String(), "donated [0 1]") {
		t.Fatalf("program donates %v:\n%s", prog.Donated, prog)
	}
	mustPanic(t, func() { p.Float64s() }, "donated to a compiled call")
	mustPanic(t, func() { Add(s, x).Float64s() }, "donated to a compiled call")
	if !slices.Equal(x.Float64s(), x.Float64s()) { // the argument not donated stays readable
		t.Fatal("x unreadable")
	}
	// Steps chained through donated outputs, as a training loop runs them.
	p, s = got[1], got[2]
	for range 3 {
		out := c.Call(p, s, x)
		p, s = out[1], out[2]
	}
	mustPanic(t, func() { c.Donate(2) }, "before the first call")
	mustPanic(t, func() { Compile(step).Donate(-1) }, "negative index")
}
