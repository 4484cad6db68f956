package core

import (
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

func TestRegistryErrors(t *testing.T) {
	r := NewRegistry[int]("widget")
	r.Register("a", 1)
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "widget registry already has key \"a\"") {
			t.Fatalf("duplicate registration: %v", p)
		}
	}()
	if _, err := r.Get("b"); err == nil || !strings.Contains(err.Error(), "widget registry has no key \"b\"; available: [a]") {
		t.Fatalf("missing key: %v", err)
	}
	for _, k := range []string{"mha", "gqa", "sliding_window_gqa", "chunked_gqa", "none"} {
		if !Attentions.Has(k) {
			t.Errorf("attention %q not registered", k)
		}
	}
	for _, k := range []string{"standard", "gated", "relu2", "gated_relu2", "none"} {
		if !FFNs.Has(k) {
			t.Errorf("ffn %q not registered", k)
		}
	}
	r.Register("a", 2)
}

func smallConfig() BlockConfig {
	c := DefaultBlockConfig()
	c.Attention, c.FFN, c.Norm, c.Position = "gqa", "gated", "rms_norm", "rope"
	c.DModel, c.NHeads, c.NKVHeads, c.DFF, c.Bias = 16, 4, 2, 32, false
	return c
}

func TestSlidingWindowIsCausalAndLocal(t *testing.T) {
	c := smallConfig()
	c.Attention, c.WindowSize = "sliding_window_gqa", 3
	a, err := Attentions.Get(c.Attention)
	if err != nil {
		t.Fatal(err)
	}
	mixer, err := a(c, random.Key(1))
	if err != nil {
		t.Fatal(err)
	}
	x := random.Normal(random.Key(2), []int{1, 8, 16}, mx.Float32, 0, 1)
	base := mixer.Forward(x, &Context{}, nil).Float32s()
	// Perturb position p: outputs at positions < p (future) and >= p+3 (outside the window) must not move.
	for p := 0; p < 8; p++ {
		delta := mx.Zeros([]int{1, 8, 16}, mx.Float32)
		delta = mx.SliceUpdate(delta, mx.Ones([]int{1, 1, 16}, mx.Float32), []int{0, p, 0}, []int{1, p + 1, 16}, nil)
		got := mixer.Forward(mx.Add(x, delta), &Context{}, nil).Float32s()
		for q := 0; q < 8; q++ {
			same := true
			for i := 0; i < 16; i++ {
				same = same && got[q*16+i] == base[q*16+i]
			}
			inWindow := q >= p && q < p+3
			if same == inWindow {
				t.Fatalf("perturbing position %d: output %d changed=%v, want %v", p, q, !same, inWindow)
			}
		}
	}
}

func TestNoneSublayersAreIdentity(t *testing.T) {
	c := smallConfig()
	c.Attention, c.FFN = "none", "none"
	b, err := NewBlock(c, random.Key(3))
	if err != nil {
		t.Fatal(err)
	}
	x := random.Normal(random.Key(4), []int{2, 5, 16}, mx.Float32, 0, 1)
	got, want := b.Forward(x, &Context{}, nil).Float32s(), x.Float32s()
	for i := range want {
		if got[i] != want[i] {
			t.Fatal("a block of none sublayers changed its input")
		}
	}
	if b.NewCache(1, 4) != nil {
		t.Fatal("a none attention has a cache")
	}
}

func TestConfigValidation(t *testing.T) {
	c := smallConfig()
	c.NHeads = 3
	if _, err := NewBlock(c, nil); err == nil || !strings.Contains(err.Error(), "divisible") {
		t.Fatalf("bad heads: %v", err)
	}
	c = smallConfig()
	c.Position = "spiral"
	if _, err := NewBlock(c, nil); err == nil || !strings.Contains(err.Error(), "position registry") {
		t.Fatalf("bad position: %v", err)
	}
	c = smallConfig()
	c.RopeScaling = &RopeScaling{Type: "yarn"}
	if _, err := NewBlock(c, nil); err == nil || !strings.Contains(err.Error(), "yarn") {
		t.Fatalf("bad rope scaling: %v", err)
	}
}

// Above fusedQKVRows rows (on a device with SharedInputProducts) GQA projects q, k and v with one
// product of the concatenated weights: the values and the gradients (input, weights, biases)
// equal three separate products.
func TestFusedQKVProjection(t *testing.T) {
	c := smallConfig()
	c.Bias = true
	m, err := newGQA(c, random.Key(3))
	if err != nil {
		t.Fatal(err)
	}
	a := m.(*GQA)
	if a.QProj.Bias == nil {
		t.Fatal("config with bias made a projection without one")
	}
	x := random.Normal(random.Key(4), []int{2, fusedQKVRows / 2, c.DModel}, mx.Float32, 0, 1)
	wts := random.Normal(random.Key(5), []int{2, fusedQKVRows / 2, a.QProj.OutDim() + 2*a.KProj.OutDim()}, mx.Float32, 0, 1)
	loss := func(fused bool) func(args ...*mx.Array) *mx.Array {
		return func(args ...*mx.Array) *mx.Array {
			a.QProj.Weight, a.KProj.Weight, a.VProj.Weight = args[1], args[2], args[3]
			a.QProj.Bias, a.KProj.Bias, a.VProj.Bias = args[4], args[5], args[6]
			var q, k, v *mx.Array
			if fused {
				q, k, v = a.projectWith(args[0], true)
			} else {
				q, k, v = a.QProj.Forward(args[0]), a.KProj.Forward(args[0]), a.VProj.Forward(args[0])
			}
			return mx.Sum(mx.Mul(mx.Concatenate([]*mx.Array{q, k, v}, -1), wts), nil, false)
		}
	}
	args := []*mx.Array{x, a.QProj.Weight, a.KProj.Weight, a.VProj.Weight, a.QProj.Bias, a.KProj.Bias, a.VProj.Bias}
	all := []int{0, 1, 2, 3, 4, 5, 6}
	fv, fg := mx.ValueAndGrad(loss(true), all...)(args...)
	sv, sg := mx.ValueAndGrad(loss(false), all...)(args...)
	near := func(name string, got, want *mx.Array) {
		g, w := got.Float32s(), want.Float32s()
		if len(g) != len(w) {
			t.Fatalf("%s: %d values, want %d", name, len(g), len(w))
		}
		for i := range g {
			if d := float64(g[i] - w[i]); d > 1e-3 || d < -1e-3 {
				t.Fatalf("%s[%d] = %v fused, %v separate", name, i, g[i], w[i])
			}
		}
	}
	near("loss", fv, sv)
	for i, name := range []string{"dx", "dWq", "dWk", "dWv", "dbq", "dbk", "dbv"} {
		near(name, fg[i], sg[i])
	}
}
