package hf

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

func maxAbsDiff(a, b *mx.Array) float64 {
	x, y := a.Float32s(), b.Float32s()
	d := 0.0
	for i := range x {
		d = math.Max(d, math.Abs(float64(x[i]-y[i])))
	}
	return d
}

// The explicit soft-capped attention must equal the fused kernel when the cap is out of reach,
// over full sequences (sliding and full layers) and cached decoding.
func TestSoftcappedAttentionMatchesFusedKernel(t *testing.T) {
	m, err := Load(fixture(t, "gemma2"))
	if err != nil {
		t.Fatal(err)
	}
	caps := map[*PostNormAttention]float64{}
	for _, b := range m.Blocks {
		a := b.Attention.(*PostNormAttention)
		caps[a] = a.Softcap
	}
	setCap := func(huge bool) {
		for a, c := range caps {
			a.Softcap = c
			if huge {
				a.Softcap = 1e9
			}
		}
	}
	ids := make([]int, 2*13)
	for i := range ids {
		ids[i] = (i*37 + 5) % m.Config.VocabSize
	}
	x := mx.FromSlice(ids, 2, 13)
	setCap(true)
	explicit := m.Forward(x, models.ForwardOptions{})
	explicitDecode := GreedyDecode(m, ids[:5], 10)
	for a := range caps {
		a.Softcap = 0 // the fused GQA path
	}
	fused := m.Forward(x, models.ForwardOptions{})
	fusedDecode := GreedyDecode(m, ids[:5], 10)
	if d := maxAbsDiff(explicit, fused); d > 1e-5 {
		t.Fatalf("explicit attention differs from the fused kernel by %.3g", d)
	}
	for i := range fusedDecode {
		if explicitDecode[i] != fusedDecode[i] {
			t.Fatalf("cached decode %v, fused %v", explicitDecode, fusedDecode)
		}
	}
	setCap(false)
	capped := m.Forward(x, models.ForwardOptions{})
	t.Logf("soft-capping at 50 changes the fixture's logits by only %.3g", maxAbsDiff(capped, fused))
}

// With a small cap the soft-capped attention must equal a naive float64 computation of
// softmax(c·tanh(q·kᵀ·scale/c) + causal window mask)·v with grouped KV heads.
func TestSoftcappedAttentionAgainstNaive(t *testing.T) {
	cfg := core.DefaultBlockConfig()
	cfg.Attention, cfg.Position, cfg.Bias = "sliding_window_gqa", "rope", false
	cfg.DModel, cfg.NHeads, cfg.NKVHeads, cfg.HeadDim, cfg.WindowSize = 8, 4, 2, 4, 3
	newAttn, _ := core.Attentions.Get(cfg.Attention)
	mixer, err := newAttn(cfg, random.Key(3))
	if err != nil {
		t.Fatal(err)
	}
	g := mixer.(*core.GQA)
	const c, b, l = 0.7, 2, 6
	a := &PostNormAttention{GQA: g, Softcap: c}
	x := random.Normal(random.Key(4), []int{b, l, cfg.DModel}, mx.Float32, 0, 2)
	// Everything up to the scores is shared code; recompute the rest naively.
	q := g.RoPE.Apply(headsOf(g.QProj.Forward(x), 4, 4), 0, 0)
	k := g.RoPE.Apply(headsOf(g.KProj.Forward(x), 2, 4), 0, 0)
	v := headsOf(g.VProj.Forward(x), 2, 4)
	qs, ks, vs := q.Float32s(), k.Float32s(), v.Float32s()
	o := make([]float32, b*4*l*4) // (B, H, L, hd)
	for bb := 0; bb < b; bb++ {
		for h := 0; h < 4; h++ {
			kh := h / 2
			for i := 0; i < l; i++ {
				s := make([]float64, l)
				mx64 := math.Inf(-1)
				for j := 0; j <= i; j++ {
					if j <= i-cfg.WindowSize {
						s[j] = math.Inf(-1)
						continue
					}
					dot := 0.0
					for e := 0; e < 4; e++ {
						dot += float64(qs[((bb*4+h)*l+i)*4+e]) * float64(ks[((bb*2+kh)*l+j)*4+e])
					}
					s[j] = c * math.Tanh(dot*g.Scale/c)
					mx64 = math.Max(mx64, s[j])
				}
				sum := 0.0
				for j := 0; j <= i; j++ {
					s[j] = math.Exp(s[j] - mx64)
					sum += s[j]
				}
				for e := 0; e < 4; e++ {
					acc := 0.0
					for j := 0; j <= i; j++ {
						acc += s[j] / sum * float64(vs[((bb*2+kh)*l+j)*4+e])
					}
					o[((bb*4+h)*l+i)*4+e] = float32(acc)
				}
			}
		}
	}
	heads := mx.Reshape(mx.Transpose(mx.FromSlice(o, b, 4, l, 4), 0, 2, 1, 3), b, l, 16)
	want := g.OProj.Forward(heads)
	got := a.softcapped(x, &core.Context{}, nil)
	if d := maxAbsDiff(got, want); d > 1e-5 {
		t.Fatalf("soft-capped attention differs from the naive reference by %.3g", d)
	}
	if d := maxAbsDiff(g.Forward(x, &core.Context{}, nil), want); d < 1e-3 {
		t.Fatalf("cap %v should matter, but the uncapped attention differs by only %.3g", c, d)
	}
}

// Gemma's config mapping: (1 + w) norms, scaled embeddings, per-layer windows and RoPE bases.
func TestGemmaConfigs(t *testing.T) {
	cfg, typ, err := ReadConfig(fixture(t, "gemma2"))
	if err != nil {
		t.Fatal(err)
	}
	if typ != "gemma2" || cfg.EmbeddingScale != 8 || cfg.LogitSoftcap != 30 || !cfg.TieEmbeddings {
		t.Fatalf("gemma2 config: %s %+v", typ, cfg)
	}
	if cfg.BlockAt(0).WindowSize != 8 || cfg.BlockAt(1).WindowSize != 0 {
		t.Fatalf("gemma2 windows: %d %d", cfg.BlockAt(0).WindowSize, cfg.BlockAt(1).WindowSize)
	}
	cfg, _, err = ReadConfig(fixture(t, "gemma3_text"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Block.QKNorm || cfg.BlockAt(0).RopeTheta != 1e4 || cfg.BlockAt(3).RopeTheta != 1e6 ||
		cfg.BlockAt(2).WindowSize != 8 || cfg.BlockAt(3).WindowSize != 0 || cfg.LogitSoftcap != 0 {
		t.Fatalf("gemma3_text config: %+v", cfg)
	}
}

// Configs with features the loader does not implement fail with an error naming them.
func TestUnsupportedFeaturesAreErrors(t *testing.T) {
	for _, c := range []struct{ config, want string }{
		{`{"model_type": "falcon_h1", "vocab_size": 8, "hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 8, "num_hidden_layers": 1, "key_multiplier": 0.5}`, "key_multiplier"},
		{`{"model_type": "deepseek_v2", "vocab_size": 8, "hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 8, "num_hidden_layers": 1, "topk_method": "group_limited_greedy"}`, "topk_method"},
		{`{"model_type": "nemotron_h", "vocab_size": 8, "hidden_size": 8, "num_attention_heads": 2, "layers_block_type": ["moe"]}`, "moe"},
		{`{"model_type": "mixtral", "vocab_size": 8, "hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 8, "num_hidden_layers": 1}`, "num_experts_per_tok"},
		{`{"model_type": "bloom"}`, "gpt_neox"}, // the error lists the supported types
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(c.config), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadConfig(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.config, err, c.want)
		}
	}
}
