package models

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/nn"
)

// countParams computes the parameter count from shapes alone (no arrays are materialised for
// the big configs: building a 7B model would allocate 24 GB).
func countParams(t *testing.T, cfg ModelConfig) int {
	t.Helper()
	d, v := cfg.Block.DModel, cfg.VocabSize
	n := v * d
	if cfg.Block.Position == "learned" {
		n += cfg.Block.MaxSeqLen * d
	}
	norm := func(c BlockConfig) int {
		if c.Norm == "layer_norm" {
			return 2 * d
		}
		return d
	}
	for i := 0; i < cfg.NLayers; i++ {
		c := cfg.BlockAt(i)
		h, kv, hd := c.NHeads, c.KVHeads(), c.HeadDimension()
		lin := func(in, out int, bias bool) int {
			if bias {
				return in*out + out
			}
			return in * out
		}
		n += lin(d, h*hd, c.Bias) + 2*lin(d, kv*hd, c.Bias) + lin(h*hd, d, c.Bias)
		switch c.FFN {
		case "gated", "gated_relu2":
			n += 2*lin(d, c.DFF, c.Bias) + lin(c.DFF, d, c.Bias)
		default:
			n += lin(d, c.DFF, c.Bias) + lin(c.DFF, d, c.Bias)
		}
		n += 2 * norm(c)
	}
	n += norm(cfg.Block)
	if !cfg.TieEmbeddings {
		n += v * d
	}
	return n
}

func TestParameterCountsMatchTheInventory(t *testing.T) {
	cases := []struct {
		cfg  ModelConfig
		want int
	}{
		{GPTTiny(), 83_456}, {LlamaTiny(), 106_816}, {GPT10M(), 9_605_504}, {GPT30M(), 30_241_024},
		{Llama10M(), 9_877_248}, {Llama30M(), 30_569_984}, {GPTSmall(), 123_653_376},
		{GPTMedium(), 353_774_592}, {Llama7B(), 5_933_109_248}, {Llama13B(), 11_443_000_320},
	}
	for _, c := range cases {
		if got := countParams(t, c.cfg); got != c.want {
			t.Errorf("%s: %d parameters by shape, want %d", c.cfg.Name, got, c.want)
		}
	}
	// The built models agree with the shape count (small ones only).
	for _, cfg := range []ModelConfig{GPTTiny(), LlamaTiny(), GPT10M()} {
		m, err := New(cfg, random.Key(1))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.NumParams(), countParams(t, cfg); got != want {
			t.Errorf("%s: built model has %d parameters, want %d", cfg.Name, got, want)
		}
	}
}

func TestParameterNamesFollowTheOriginal(t *testing.T) {
	m, err := New(LlamaTiny(), random.Key(2))
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(nn.Names(nn.Parameters(m)), " ")
	for _, want := range []string{"embed.weight", "blocks.0.attention.q_proj.weight", "blocks.1.attention.o_proj.weight",
		"blocks.0.ffn.gate.weight", "blocks.0.ffn.up.weight", "blocks.0.ffn.down.weight", "blocks.0.attn_norm.weight",
		"blocks.0.ffn_norm.weight", "final_norm.weight", "head.weight"} {
		if !strings.Contains(" "+names+" ", " "+want+" ") {
			t.Errorf("missing parameter %s in %s", want, names)
		}
	}
}

func TestConfigJSONRoundTripAndErrors(t *testing.T) {
	for _, cfg := range []ModelConfig{GPTTiny(), LlamaTiny(), Llama7B()} {
		back, err := ParseConfig(cfg.JSON())
		if err != nil {
			t.Fatal(err)
		}
		if string(back.JSON()) != string(cfg.JSON()) {
			t.Fatalf("round trip changed the config:\n%s\n%s", cfg.JSON(), back.JSON())
		}
	}
	var raw map[string]any
	if err := json.Unmarshal(GPTTiny().JSON(), &raw); err != nil {
		t.Fatal(err)
	}
	blk := raw["block"].(map[string]any)
	for _, k := range []string{"attention", "ffn", "norm", "position", "d_model", "n_heads", "d_ff", "pre_norm", "rope_theta", "max_seq_len"} {
		if _, ok := blk[k]; !ok {
			t.Errorf("block JSON lacks %q", k)
		}
	}
	if _, err := ParseConfig([]byte(`{"vocab_size": 10, "n_layerz": 2}`)); err == nil || !strings.Contains(err.Error(), "n_layerz") {
		t.Fatalf("unknown field not reported: %v", err)
	}
	bad := LlamaTiny()
	bad.Block.Attention = "flash_magic"
	if _, err := New(bad, nil); err == nil || !strings.Contains(err.Error(), "attention registry has no key \"flash_magic\"") || !strings.Contains(err.Error(), "gqa") {
		t.Fatalf("registry error: %v", err)
	}
	bad = LlamaTiny()
	bad.Block.Attention = "sliding_window_gqa"
	if _, err := New(bad, nil); err == nil || !strings.Contains(err.Error(), "window_size") {
		t.Fatalf("missing window error: %v", err)
	}
	if _, err := ConfigByName("gpt:tiny"); err != nil {
		t.Fatal(err)
	}
	if _, err := ConfigByName("gpt_huge"); err == nil {
		t.Fatal("unknown size accepted")
	}
}

func tokens(b, l, vocab int, seed uint64) *mx.Array {
	return random.Randint(random.Key(seed), 0, vocab, []int{b, l}, mx.Int32)
}

// variants returns tiny configs covering every component combination the foundation supports.
func variants() map[string]ModelConfig {
	out := map[string]ModelConfig{"gpt": GPTTiny(), "llama": LlamaTiny()}
	c := LlamaTiny()
	c.Block.Attention, c.Block.WindowSize = "sliding_window_gqa", 3
	out["sliding"] = c
	c = GPTTiny()
	c.Block.Position = "learned"
	out["learned"] = c
	c = GPTTiny()
	c.Block.Position = "alibi"
	out["alibi"] = c
	c = LlamaTiny()
	c.Block.PreNorm = false
	out["postnorm"] = c
	c = LlamaTiny()
	c.Block.QKNorm = true
	c.Block.RopeScaling = &core.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 16}
	out["qknorm_llama3"] = c
	c = LlamaTiny()
	c.Block.Attention, c.Block.AttentionChunkSize = "chunked_gqa", 4
	out["chunked"] = c
	c = LlamaTiny()
	c.Block.FFN = "relu2"
	out["relu2"] = c
	c = LlamaTiny()
	c.BlockConfigs = []BlockConfig{c.Block, c.Block}
	c.BlockConfigs[1].Attention = "none"
	c.BlockConfigs[0].FFN = "none"
	out["none_layers"] = c
	return out
}

// checkSpanDecoding decodes 11 tokens of every variant in spans (a 5-token prefill, single
// tokens, a 2-token chunk) through the cache newCache makes, each span with decode, and compares
// the logits with the full forward pass; after, if set, then checks the cache.
func checkSpanDecoding(t *testing.T, what string, newCache func(m *LanguageModel) (*Cache, error),
	decode func(m *LanguageModel, span *mx.Array, start int, c *Cache) *mx.Array, after func(t *testing.T, name string, c *Cache)) {
	t.Helper()
	for name, cfg := range variants() {
		t.Run(name, func(t *testing.T) {
			m, err := New(cfg, random.Key(3))
			if err != nil {
				t.Fatal(err)
			}
			ids := tokens(2, 11, cfg.VocabSize, 4)
			full := m.Forward(ids, ForwardOptions{}).Float32s()
			cache, err := newCache(m)
			if err != nil {
				t.Fatal(err)
			}
			var parts []*mx.Array
			for _, span := range [][2]int{{0, 5}, {5, 6}, {6, 7}, {7, 9}, {9, 10}, {10, 11}} {
				parts = append(parts, decode(m, mx.SliceAxis(ids, 1, span[0], span[1]), span[0], cache))
			}
			got := mx.Concatenate(parts, 1).Float32s()
			for i := range full {
				if math.Abs(float64(got[i]-full[i])) > 1e-4 {
					t.Fatalf("logit %d: %s %v, full %v", i, what, got[i], full[i])
				}
			}
			if after != nil {
				after(t, name, cache)
			}
		})
	}
}

func TestCachedDecodingEqualsRecomputation(t *testing.T) {
	checkSpanDecoding(t, "cached",
		func(m *LanguageModel) (*Cache, error) { return m.NewCache(2, 16), nil },
		func(m *LanguageModel, span *mx.Array, _ int, c *Cache) *mx.Array {
			return m.Forward(span, ForwardOptions{Cache: c})
		},
		func(t *testing.T, name string, c *Cache) {
			if c.Len() != 11 && name != "none_layers" {
				t.Fatalf("cache length %d", c.Len())
			}
		})
}

func TestCausality(t *testing.T) {
	// Changing a future token must not change earlier logits.
	for name, cfg := range variants() {
		m, err := New(cfg, random.Key(5))
		if err != nil {
			t.Fatal(err)
		}
		a := tokens(1, 9, cfg.VocabSize, 6).Ints()
		b := append([]int(nil), a...)
		b[8] = (b[8] + 1) % cfg.VocabSize
		la := m.Forward(mx.FromSlice(a, 1, 9), ForwardOptions{}).Float32s()
		lb := m.Forward(mx.FromSlice(b, 1, 9), ForwardOptions{}).Float32s()
		for i := 0; i < 8*cfg.VocabSize; i++ {
			if la[i] != lb[i] {
				t.Fatalf("%s: position %d sees the future", name, i/cfg.VocabSize)
			}
		}
	}
}

func TestLossFallsWithGradientDescent(t *testing.T) {
	for _, cfg := range []ModelConfig{GPTTiny(), LlamaTiny()} {
		m, err := New(cfg, random.Key(7))
		if err != nil {
			t.Fatal(err)
		}
		// A repeated pattern is easy to learn.
		seq := make([]int, 33)
		for i := range seq {
			seq[i] = (i * 7) % 13
		}
		x := mx.FromSlice(seq[:32], 1, 32)
		y := mx.FromSlice(seq[1:], 1, 32)
		params := nn.Parameters(m)
		lossFn := func(args ...*mx.Array) *mx.Array {
			nn.UpdateList(m, args)
			return m.Loss(x, y, nil)
		}
		var first, last float64
		for step := 0; step < 30; step++ {
			vals := nn.Values(params)
			loss, grads := mx.ValueAndGrad(lossFn)(vals...)
			for i := range vals {
				vals[i] = mx.Sub(vals[i], mx.MulScalar(grads[i], 0.1))
			}
			mx.Eval(append([]*mx.Array{loss}, vals...)...)
			nn.UpdateList(m, vals)
			params = nn.Parameters(m)
			if step == 0 {
				first = loss.Item()
			}
			last = loss.Item()
			if math.IsNaN(last) {
				t.Fatalf("%s: NaN loss at step %d", cfg.Name, step)
			}
		}
		if !(last < first*0.7) {
			t.Fatalf("%s: loss went from %.3f to %.3f", cfg.Name, first, last)
		}
	}
}

func TestNewRealizesParametersBuildDoesNot(t *testing.T) {
	m, err := New(GPTTiny(), random.Key(8))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.Parameters(m) {
		if !p.Value.Realized() {
			t.Fatalf("%s is still a lazy recipe: every forward pass would recompute it", p.Name)
		}
	}
	b, err := Build(Llama7B(), random.Key(9))
	if err != nil {
		t.Fatal(err)
	}
	if b.NumParams() != 5_933_109_248 || b.Embed.Weight.Realized() {
		t.Fatal("Build must stay lazy")
	}
}

// TestStaticDecodingEqualsRecomputation decodes with static caches and run-time positions (the
// path a compiled decode step takes) and compares with the full forward pass.
func TestStaticDecodingEqualsRecomputation(t *testing.T) {
	checkSpanDecoding(t, "static",
		func(m *LanguageModel) (*Cache, error) { return m.NewStaticCache(2, 16) },
		func(m *LanguageModel, span *mx.Array, start int, c *Cache) *mx.Array {
			logits := m.Forward(span, ForwardOptions{Cache: c, Position: mx.Scalar(float64(start), mx.Int32)})
			mx.Eval(append([]*mx.Array{logits}, c.Arrays()...)...)
			return logits
		},
		func(t *testing.T, _ string, c *Cache) {
			// WithArrays keeps the layout: a copy around the same arrays decodes the same.
			if cp := c.WithArrays(c.Arrays()); len(cp.Arrays()) != len(c.Arrays()) {
				t.Fatalf("WithArrays: %d arrays, want %d", len(cp.Arrays()), len(c.Arrays()))
			}
		})
}

func TestStaticCacheDTypeFollowsTheComputeDType(t *testing.T) {
	m, err := New(LlamaTiny(), random.Key(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetComputeDType(mx.BFloat16); err != nil {
		t.Fatal(err)
	}
	c, err := m.NewStaticCache(1, 8)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Arrays() {
		if a.DType() != mx.BFloat16 {
			t.Fatalf("static cache array of dtype %s, want bfloat16", a.DType())
		}
	}
	// A step keeps the dtype, so a compiled step sees one signature.
	m.Forward(tokens(1, 3, 256, 1), ForwardOptions{Cache: c, Position: mx.Scalar(0, mx.Int32)})
	for _, a := range c.Arrays() {
		if a.DType() != mx.BFloat16 {
			t.Fatalf("after a step: dtype %s", a.DType())
		}
	}
}
