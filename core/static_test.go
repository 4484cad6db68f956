package core

import (
	"github.com/lmxlab/lmxlab/internal/testenv"
	"math"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

// Static decoding (Context.Position with static caches) against the dynamic path it must equal.

func newMixer(t *testing.T, c BlockConfig) Mixer {
	t.Helper()
	newAttn, err := Attentions.Get(c.Attention)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newAttn(c, random.Key(5))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestStaticAttentionMatchesDynamic prefills 5 positions and decodes 7 more one at a time, with a
// dynamic cache and int offsets, and with a static cache and run-time positions: the outputs
// agree for every position encoding and mask that GQA supports.
func TestStaticAttentionMatchesDynamic(t *testing.T) {
	cases := map[string]func(c *BlockConfig){
		"rope gqa":     func(*BlockConfig) {},
		"nope mha":     func(c *BlockConfig) { c.Position, c.NKVHeads = "none", 0 },
		"alibi":        func(c *BlockConfig) { c.Position = "alibi" },
		"sliding rope": func(c *BlockConfig) { c.Attention, c.WindowSize = "sliding_window_gqa", 3 },
		"sliding alibi": func(c *BlockConfig) {
			c.Attention, c.WindowSize, c.Position = "sliding_window_gqa", 4, "alibi"
		},
		"chunked rope": func(c *BlockConfig) { c.Attention, c.AttentionChunkSize = "chunked_gqa", 4 },
		"qk norm mqa":  func(c *BlockConfig) { c.QKNorm, c.NKVHeads = true, 1 },
	}
	const prompt, steps, capacity = 5, 7, 16
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			c := smallConfig()
			edit(&c)
			m := newMixer(t, c)
			x := random.Normal(random.Key(6), []int{2, prompt + steps, 16}, mx.Float32, 0, 1)
			dyn := m.NewCache(2, capacity)
			st, _ := m.(StaticCacher).NewStaticCache(2, capacity, mx.Float32)
			run := func(lo, hi int) {
				xs := mx.SliceAxis(x, 1, lo, hi)
				want := m.Forward(xs, &Context{Offset: lo}, dyn)
				got := m.Forward(xs, &Context{Position: mx.Scalar(float64(lo), mx.Int32)}, st)
				mx.Eval(append(append([]*mx.Array{want, got}, dyn.Arrays()...), st.Arrays()...)...)
				if d := maxAbsDiff(got.Float32s(), want.Float32s()); d > 1e-5 {
					t.Fatalf("positions [%d, %d): static and dynamic outputs differ by %g", lo, hi, d)
				}
			}
			run(0, prompt)
			for p := prompt; p < prompt+steps; p++ {
				run(p, p+1)
			}
			if st.Len() != prompt+steps {
				t.Fatalf("static cache length %d, want %d", st.Len(), prompt+steps)
			}
			// Without a cache, a run-time position equals the same int offset (one on a chunk
			// boundary: the kernel's chunks count from the first key).
			xs := mx.SliceAxis(x, 1, 0, 6)
			off := 3
			if c.AttentionChunkSize > 0 {
				off = 2 * c.AttentionChunkSize
			}
			want := m.Forward(xs, &Context{Offset: off}, nil)
			got := m.Forward(xs, &Context{Position: mx.Scalar(float64(off), mx.Int32)}, nil)
			if d := maxAbsDiff(got.Float32s(), want.Float32s()); d > 1e-5 {
				t.Fatalf("no cache: static and dynamic outputs differ by %g", d)
			}
		})
	}
}

// TestStaticMaskWithPadding combines a keep mask over the capacity with the positional mask.
func TestStaticMaskWithPadding(t *testing.T) {
	m := newMixer(t, smallConfig())
	x := random.Normal(random.Key(7), []int{1, 4, 16}, mx.Float32, 0, 1)
	keep := mx.FromSlice([]bool{true, false, true, true}, 1, 1, 1, 4)
	want := m.Forward(x, &Context{Mask: keep}, m.NewCache(1, 4))
	st, _ := m.(StaticCacher).NewStaticCache(1, 4, mx.Float32)
	got := m.Forward(x, &Context{Position: mx.Scalar(0, mx.Int32), Mask: keep}, st)
	if d := maxAbsDiff(got.Float32s(), want.Float32s()); d > 1e-5 {
		t.Fatalf("padded: static and dynamic outputs differ by %g", d)
	}
	add := mx.Where(keep, mx.Zeros([]int{1, 1, 1, 4}, mx.Float32), mx.Full([]int{1, 1, 1, 4}, -1e9, mx.Float32))
	st, _ = m.(StaticCacher).NewStaticCache(1, 4, mx.Float32)
	got = m.Forward(x, &Context{Position: mx.Scalar(0, mx.Int32), Mask: add}, st)
	if d := maxAbsDiff(got.Float32s(), want.Float32s()); d > 1e-5 {
		t.Fatalf("additive padding: static and dynamic outputs differ by %g", d)
	}
	st, _ = m.(StaticCacher).NewStaticCache(1, 4, mx.Float32)
	mustPanicWith(t, func() {
		m.Forward(x, &Context{Position: mx.Scalar(0, mx.Int32), Mask: mx.SliceAxis(keep, -1, 0, 3)}, st)
	}, "must cover all 4 keys")
}

func TestVisibleKeysMatchesLoops(t *testing.T) {
	for _, c := range []struct{ pos, lq, lk, window, chunk int }{
		{0, 4, 4, 0, 0}, {3, 1, 9, 0, 0}, {5, 3, 10, 3, 0}, {2, 6, 12, 0, 4}, {7, 2, 12, 2, 3},
	} {
		qpos := PositionsFrom(mx.Scalar(float64(c.pos), mx.Int32), c.lq)
		kpos := mx.Arange(0, float64(c.lk), 1, mx.Int32)
		got := mx.AsType(VisibleKeys(qpos, kpos, c.window, c.chunk), mx.Int32).Ints()
		for i := range c.lq {
			q := c.pos + i
			for j := range c.lk {
				want := j <= q && (c.window == 0 || j > q-c.window) && (c.chunk == 0 || j/c.chunk == q/c.chunk)
				if (got[i*c.lk+j] == 1) != want {
					t.Fatalf("%+v: query %d key %d visible=%v, want %v", c, i, j, got[i*c.lk+j] == 1, want)
				}
			}
		}
	}
}

func TestPositionArraysMatchHostOffsets(t *testing.T) {
	a := NewALiBi(4)
	for _, c := range []struct{ lq, lk int }{{1, 7}, {3, 3}, {2, 9}} {
		want := a.Bias(c.lq, c.lk, mx.Float32).Float32s()
		qpos := PositionsFrom(mx.Scalar(float64(c.lk-c.lq), mx.Int32), c.lq)
		got := a.BiasAt(qpos, mx.Arange(0, float64(c.lk), 1, mx.Int32), mx.Float32).Float32s()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("ALiBi %+v: element %d = %v, want %v", c, i, got[i], want[i])
			}
		}
	}
	cfg := smallConfig()
	cfg.HeadDim = 8
	r, err := NewRoPE(cfg)
	if err != nil {
		t.Fatal(err)
	}
	x := random.Normal(random.Key(8), []int{1, 2, 7, 8}, mx.Float32, 0, 1)
	for _, chunk := range []int{0, 3} {
		for _, off := range []int{0, 2, 5} {
			want := r.Apply(x, off, chunk).Float32s()
			got := r.ApplyAt(x, mx.Scalar(float64(off), mx.Int32), chunk).Float32s()
			if d := maxAbsDiff(got, want); d != 0 {
				t.Fatalf("RoPE chunk %d offset %d: ApplyAt differs from Apply by %g", chunk, off, d)
			}
		}
	}
}

func TestCacheModesRejectTheOtherWrite(t *testing.T) {
	k := mx.Zeros([]int{1, 2, 1, 4}, mx.Float32)
	mustPanicWith(t, func() { NewStaticKVCache(1, 2, 4, 4, 0, mx.Float32).Update(k, k) }, "static cache", "UpdateAt")
	mustPanicWith(t, func() { NewKVCache(1, 2, 4, 4, 0).UpdateAt(k, k, mx.Scalar(0, mx.Int32)) }, "UpdateAt needs a static cache")
	b, err := NewBlock(smallConfig(), random.Key(9))
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.NewStaticCache(1, 8, mx.BFloat16)
	if err != nil || c.(*KVCache).K.DType() != mx.BFloat16 || !c.(*KVCache).Static() {
		t.Fatalf("block static cache: %v, %v", c, err)
	}
	cp := c.(ArrayCache).WithArrays([]*mx.Array{mx.Ones([]int{1, 2, 8, 4}, mx.BFloat16), mx.Ones([]int{1, 2, 8, 4}, mx.BFloat16)})
	if cp.(*KVCache).K == c.(*KVCache).K || !cp.(*KVCache).Static() {
		t.Fatal("WithArrays did not swap the arrays or lost the mode")
	}
	mustPanicWith(t, func() { c.(ArrayCache).WithArrays([]*mx.Array{k, k}) }, "WithArrays", "[1 2 8 4]")
}

// mustPanicWith checks that f panics with a message naming every fragment.
var mustPanicWith = testenv.MustPanic
