package hf

import (
	"fmt"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Falcon-H1 layers run attention and a Mamba-2 mixer side by side on the same normed input and
// add both to the residual, then a gated MLP: x += attn(rms(x)) + mamba(rms(x));
// x += mlp(rms(x)). Attention is Llama's. Its µP multipliers (embedding, attention/SSM in and
// out, key, MLP, lm_head, ssm_multipliers) are supported only at 1.

// falconH1Config maps a falcon_h1 config.json.
func falconH1Config(rc rawConfig) (models.ModelConfig, error) {
	for name, v := range map[string]*float64{"embedding_multiplier": rc.EmbeddingMultiplier,
		"attention_in_multiplier": rc.AttentionInMultiplier, "attention_out_multiplier": rc.AttentionOutMultiplier,
		"ssm_in_multiplier": rc.SSMInMultiplier, "ssm_out_multiplier": rc.SSMOutMultiplier,
		"key_multiplier": rc.KeyMultiplier, "lm_head_multiplier": rc.LMHeadMultiplier} {
		if v != nil && *v != 1 {
			return models.ModelConfig{}, fmt.Errorf("falcon_h1: %s %g is not supported (only 1)", name, *v)
		}
	}
	for _, v := range append(append([]float64{}, rc.MLPMultipliers...), rc.SSMMultipliers...) {
		if v != 1 {
			return models.ModelConfig{}, fmt.Errorf("falcon_h1: mlp/ssm multipliers other than 1 are not supported")
		}
	}
	return llamaFamilyConfig(rc)
}

// adaptFalconH1 adds a Mamba-2 mixer beside each block's attention.
func adaptFalconH1(rc rawConfig, m *models.LanguageModel) error {
	p := mamba2Params{DInner: rc.MambaNHeads * rc.MambaDHead, Heads: rc.MambaNHeads, HeadDim: rc.MambaDHead,
		Groups: max(rc.MambaNGroups, 1), State: rc.MambaDState, Kernel: rc.MambaDConv, Eps: rc.RMSNormEps,
		ConvBias: rc.MambaConvBias == nil || *rc.MambaConvBias, ProjBias: rc.MambaProjBias}
	if rc.MambaDSSM > 0 && rc.MambaDSSM != p.DInner {
		return fmt.Errorf("falcon_h1: mamba_d_ssm %d differs from heads·head dim %d", rc.MambaDSSM, p.DInner)
	}
	if p.Kernel == 0 {
		p.Kernel = 4
	}
	for i, b := range m.Blocks {
		gqa, ok := b.Attention.(*core.GQA)
		if !ok {
			return fmt.Errorf("falcon_h1: layer %d attention is %T, want *core.GQA", i, b.Attention)
		}
		mb := newMamba2(b.Config.DModel, p)
		if !rc.MambaRMSNorm {
			mb.Norm = nil
		} else {
			mb.Norm = nn.NewRMSNorm(p.DInner, rc.RMSNormEps)
		}
		b.Attention = &ParallelHybrid{SelfAttn: gqa, Mamba: mb}
	}
	return nil
}

// ParallelHybrid runs attention and a Mamba-2 mixer on the same input and sums them.
type ParallelHybrid struct {
	SelfAttn *core.GQA
	Mamba    *Mamba2
}

// hybridCache pairs the attention's KV cache and the Mamba state.
type hybridCache struct{ Attn, SSM core.Cache }

func (c *hybridCache) Len() int { return c.Attn.Len() }

func (c *hybridCache) Arrays() []*mx.Array { return append(c.Attn.Arrays(), c.SSM.Arrays()...) }

// NewCache makes both caches.
func (h *ParallelHybrid) NewCache(batch, capacity int) core.Cache {
	return &hybridCache{h.SelfAttn.NewCache(batch, capacity), h.Mamba.NewCache(batch, capacity)}
}

// Forward returns mamba(x) + attn(x).
func (h *ParallelHybrid) Forward(x *mx.Array, ctx *core.Context, cache core.Cache) *mx.Array {
	var ac, sc core.Cache
	if cache != nil {
		c := cache.(*hybridCache)
		ac, sc = c.Attn, c.SSM
	}
	return mx.Add(h.Mamba.Forward(x, ctx, sc), h.SelfAttn.Forward(x, ctx, ac))
}

var falconH1Rules = []rule{
	rename(`model\.embed_tokens\.weight`, "embed.weight"),
	rename(`model\.layers\.(\d+)\.input_layernorm\.weight`, "blocks.$1.attn_norm.weight"),
	rename(`model\.layers\.(\d+)\.pre_ff_layernorm\.weight`, "blocks.$1.ffn_norm.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q|k|v|o)_proj\.(weight|bias)`, "blocks.$1.attention.self_attn.${2}_proj.$3"),
	rename(`model\.layers\.(\d+)\.feed_forward\.(gate|up|down)_proj\.(weight|bias)`, "blocks.$1.ffn.$2.$3"),
	rename(`model\.layers\.(\d+)\.mamba\.(in_proj|out_proj)\.(weight|bias)`, "blocks.$1.attention.mamba.$2.$3"),
	rename(`model\.layers\.(\d+)\.mamba\.conv1d\.(weight|bias)`, "blocks.$1.attention.mamba.conv1d.$2"),
	rename(`model\.layers\.(\d+)\.mamba\.A_log`, "blocks.$1.attention.mamba.a_log"),
	rename(`model\.layers\.(\d+)\.mamba\.D`, "blocks.$1.attention.mamba.d"),
	rename(`model\.layers\.(\d+)\.mamba\.dt_bias`, "blocks.$1.attention.mamba.dt_bias"),
	rename(`model\.layers\.(\d+)\.mamba\.norm\.weight`, "blocks.$1.attention.mamba.norm.weight"),
	rename(`model\.final_layernorm\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}
