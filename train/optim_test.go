package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
)

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// runOptimizer applies opt for len(grads) steps to one parameter and returns the parameter
// after each step (and the final state).
func runOptimizer(opt Optimizer, w0 []float32, grads [][]float32, lrs []float64) ([][]float64, []*mx.Array) {
	p := mx.FromSlice(slices.Clone(w0), len(w0))
	state := opt.Init([]*mx.Array{p})
	var out [][]float64
	for k, g := range grads {
		ps, st := opt.Update([]*mx.Array{p}, []*mx.Array{mx.FromSlice(g, len(g))}, state,
			mx.Scalar(float64(k+1), mx.Float32), mx.Scalar(lrs[k], mx.Float32))
		mx.Eval(append(ps, st...)...)
		p, state = ps[0], st
		out = append(out, f64s(p.Float32s()))
	}
	return out, state
}

func randomSteps(seed uint64, n, steps int) ([]float32, [][]float32, []float64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	var grads [][]float32
	var lrs []float64
	for range steps {
		g := make([]float32, n)
		for i := range g {
			g[i] = float32(rng.NormFloat64() * 0.5)
		}
		g[0] = 0 // a zero gradient exercises eps
		grads = append(grads, g)
		lrs = append(lrs, 0.01+0.02*rng.Float64())
	}
	return w, grads, lrs
}

// TestAdamWMatchesReference checks AdamW against torch.optim.AdamW's formula computed by hand
// in float64: w ← w(1 − lr·λ) − lr·m̂/(√v̂ + eps) with m̂, v̂ bias-corrected.
func TestAdamWMatchesReference(t *testing.T) {
	const n, steps = 7, 6
	w0, grads, lrs := randomSteps(1, n, steps)
	opt := NewAdamW(0.1)
	got, state := runOptimizer(opt, w0, grads, lrs)
	w := f64s(w0)
	m := make([]float64, n)
	v := make([]float64, n)
	for k := range steps {
		tt := float64(k + 1)
		for i := range w {
			g := float64(grads[k][i])
			m[i] = 0.9*m[i] + 0.1*g
			v[i] = 0.999*v[i] + 0.001*g*g
			mh := m[i] / (1 - math.Pow(0.9, tt))
			vh := v[i] / (1 - math.Pow(0.999, tt))
			w[i] = w[i]*(1-lrs[k]*0.1) - lrs[k]*mh/(math.Sqrt(vh)+1e-8)
		}
		assertClose(t, "adamw step", got[k], w, 1e-5, 1e-6)
	}
	assertClose(t, "adamw m", f64s(state[0].Float32s()), m, 1e-5, 1e-7)
	assertClose(t, "adamw v", f64s(state[1].Float32s()), v, 1e-5, 1e-9)
	if names := opt.StateNames([]string{"a", "b"}); !slices.Equal(names, []string{"a.m", "a.v", "b.m", "b.v"}) {
		t.Fatalf("state names %v", names)
	}
}

func TestSGDMatchesReference(t *testing.T) {
	const n, steps = 5, 5
	w0, grads, lrs := randomSteps(2, n, steps)
	for _, nesterov := range []bool{false, true} {
		opt := &SGD{Momentum: 0.9, WeightDecay: 0.05, Nesterov: nesterov}
		got, _ := runOptimizer(opt, w0, grads, lrs)
		w := f64s(w0)
		buf := make([]float64, n)
		for k := range steps {
			for i := range w {
				g := float64(grads[k][i]) + 0.05*w[i]
				if k == 0 {
					buf[i] = g // PyTorch: the first buffer is the gradient itself
				} else {
					buf[i] = 0.9*buf[i] + g
				}
				if nesterov {
					g += 0.9 * buf[i]
				} else {
					g = buf[i]
				}
				w[i] -= lrs[k] * g
			}
			assertClose(t, "sgd step", got[k], w, 1e-5, 1e-6)
		}
	}
	// No momentum: no state.
	plain := &SGD{}
	if st := plain.Init([]*mx.Array{mx.Zeros([]int{3}, mx.Float32)}); len(st) != 0 {
		t.Fatalf("plain SGD has %d state arrays", len(st))
	}
	got, _ := runOptimizer(plain, w0, grads[:1], lrs[:1])
	want := f64s(w0)
	for i := range want {
		want[i] -= lrs[0] * float64(grads[0][i])
	}
	assertClose(t, "plain sgd", got[0], want, 1e-6, 1e-7)
}

func TestLionMatchesReference(t *testing.T) {
	const n, steps = 6, 4
	w0, grads, lrs := randomSteps(3, n, steps)
	got, _ := runOptimizer(NewLion(0.1), w0, grads, lrs)
	w := f64s(w0)
	m := make([]float64, n)
	sign := func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}
	for k := range steps {
		for i := range w {
			g := float64(grads[k][i])
			c := 0.9*m[i] + 0.1*g
			w[i] = w[i]*(1-lrs[k]*0.1) - lrs[k]*sign(c)
			m[i] = 0.99*m[i] + 0.01*g
		}
		assertClose(t, "lion step", got[k], w, 1e-5, 1e-6)
	}
}

// TestOptimizersKeepParamDType checks that bf16 parameters stay bf16 while the state is float32.
func TestOptimizersKeepParamDType(t *testing.T) {
	for _, opt := range []Optimizer{NewAdamW(0.01), &SGD{Momentum: 0.9}, NewLion(0)} {
		p := mx.AsType(mx.FromSlice([]float32{1, -2, 3}, 3), mx.BFloat16)
		g := mx.AsType(mx.FromSlice([]float32{0.5, 0.25, -1}, 3), mx.BFloat16)
		st := opt.Init([]*mx.Array{p})
		ps, ns := opt.Update([]*mx.Array{p}, []*mx.Array{g}, st, mx.Scalar(1, mx.Float32), mx.Scalar(0.1, mx.Float32))
		if ps[0].DType() != mx.BFloat16 {
			t.Fatalf("%s: new param dtype %s", opt.Name(), ps[0].DType())
		}
		for _, s := range ns {
			if s.DType() != mx.Float32 {
				t.Fatalf("%s: state dtype %s", opt.Name(), s.DType())
			}
		}
		if v := ps[0].Float32s(); v[0] >= 1 || v[2] <= 3 {
			t.Fatalf("%s: bf16 update went the wrong way: %v", opt.Name(), v)
		}
	}
}

func TestNewOptimizer(t *testing.T) {
	for _, name := range OptimizerNames {
		opt, err := NewOptimizer(name, 0.01)
		if err != nil || opt.Name() != name {
			t.Fatalf("%s: %v %v", name, opt, err)
		}
	}
	_, err := NewOptimizer("adafactor", 0)
	if err == nil || !strings.Contains(err.Error(), "unknown optimizer") || !strings.Contains(err.Error(), "adamw, sgd, lion") {
		t.Fatalf("unknown optimizer error: %v", err)
	}
}
