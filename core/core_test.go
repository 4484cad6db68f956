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
