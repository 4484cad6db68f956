package hf

import (
	"fmt"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Jamba interleaves attention layers (no position encoding; layer i when
// i % attn_layer_period == attn_layer_offset) with Mamba (v1) layers, and dense gated MLPs with
// mixtures of experts (i % expert_layer_period == expert_layer_offset; softmax top-k routing
// without renormalisation). Every layer is pre-norm: x += mixer(rms(x)); x += ffn(rms(x)).
//
// The Mamba v1 mixer: in_proj(x) = [u | z]; u goes through a causal depthwise conv and SiLU;
// x_proj(u) = [dt | B | C], each RMS-normed (Jamba); dt = softplus(dt_proj(dt)); per channel c
// and state n, h ← h·exp(dt·A[c,n]) + dt·B[n]·u[c], y[c] = Σ_n h·C[n] + D[c]·u[c], with
// A = -exp(A_log); then out_proj(y·silu(z)).

func jambaAttnLayer(rc rawConfig, i int) bool {
	return rc.AttnLayerPeriod > 0 && i%rc.AttnLayerPeriod == rc.AttnLayerOffset
}

func jambaExpertLayer(rc rawConfig, i int) bool {
	return rc.ExpertLayerPeriod > 0 && experts(rc) > 1 && i%rc.ExpertLayerPeriod == rc.ExpertLayerOffset
}

// jambaConfig maps a jamba config.json.
func jambaConfig(rc rawConfig) (models.ModelConfig, error) {
	cfg, err := llamaFamilyConfig(rc)
	if err != nil {
		return cfg, err
	}
	cfg.Block.Position = "none"
	cfg.BlockConfigs = make([]core.BlockConfig, cfg.NLayers)
	for i := range cfg.BlockConfigs {
		b := cfg.Block
		if !jambaAttnLayer(rc, i) {
			b.NHeads, b.NKVHeads, b.HeadDim = 1, 1, 1 // placeholder, replaced by Mamba at load
		}
		cfg.BlockConfigs[i] = b
	}
	return cfg, nil
}

// adaptJamba installs the Mamba mixers and the expert mixtures.
func adaptJamba(rc rawConfig, m *models.LanguageModel) error {
	expand := max(rc.MambaExpand, 1)
	inner, n, rank, k := expand*rc.HiddenSize, rc.MambaDState, rc.MambaDtRank, rc.MambaDConv
	if n <= 0 || rank <= 0 {
		return fmt.Errorf("jamba: needs mamba_d_state and mamba_dt_rank")
	}
	if k == 0 {
		k = 4
	}
	for i, b := range m.Blocks {
		d := b.Config.DModel
		if !jambaAttnLayer(rc, i) {
			mb := &MambaV1{InProj: nn.NewLinear(d, 2*inner, rc.MambaProjBias, nil),
				ConvWeight: mx.Zeros([]int{inner, 1, k}, mx.Float32),
				XProj:      nn.NewLinear(inner, rank+2*n, false, nil), DtProj: nn.NewLinear(rank, inner, true, nil),
				DtNorm: nn.NewRMSNorm(rank, rc.RMSNormEps), BNorm: nn.NewRMSNorm(n, rc.RMSNormEps), CNorm: nn.NewRMSNorm(n, rc.RMSNormEps),
				ALog: mx.Zeros([]int{inner, n}, mx.Float32), D: mx.Zeros([]int{inner}, mx.Float32),
				OutProj: nn.NewLinear(inner, d, rc.MambaProjBias, nil), Inner: inner, State: n, Rank: rank, Kernel: k}
			if rc.MambaConvBias == nil || *rc.MambaConvBias {
				mb.ConvBias = mx.Zeros([]int{inner}, mx.Float32)
			}
			b.Attention = mb
		}
		if jambaExpertLayer(rc, i) {
			moe := &MoE{Router: nn.NewLinear(d, experts(rc), false, nil), TopK: rc.NumExpertsPerTok}
			for range experts(rc) {
				moe.Experts = append(moe.Experts, &core.MLP{Gate: nn.NewLinear(d, b.Config.DFF, false, nil),
					Up: nn.NewLinear(d, b.Config.DFF, false, nil), Down: nn.NewLinear(b.Config.DFF, d, false, nil), Activation: b.Config.Activation})
			}
			b.FFN = moe
		}
	}
	return nil
}

// MambaV1 is the Mamba (v1) selective-scan mixer with Jamba's dt/B/C norms.
type MambaV1 struct {
	InProj     *nn.Linear
	ConvWeight *mx.Array `nn:"conv1d.weight"`
	ConvBias   *mx.Array `nn:"conv1d.bias"`
	XProj      *nn.Linear
	DtProj     *nn.Linear
	DtNorm     *nn.RMSNorm `nn:"dt_layernorm"`
	BNorm      *nn.RMSNorm `nn:"b_layernorm"`
	CNorm      *nn.RMSNorm `nn:"c_layernorm"`
	ALog       *mx.Array   `nn:"a_log"`
	D          *mx.Array   `nn:"d"`
	OutProj    *nn.Linear

	Inner, State, Rank, Kernel int `nn:"-"`
}

// NewCache makes the conv window and the (B, inner, N) state.
func (m *MambaV1) NewCache(batch, _ int) core.Cache {
	return &ssmCache{Conv: mx.Zeros([]int{batch, m.Kernel - 1, m.Inner}, mx.Float32),
		State: mx.Zeros([]int{batch, m.Inner, m.State}, mx.Float32)}
}

// Forward runs the mixer on x (B, L, d), continuing from the cache when given.
func (m *MambaV1) Forward(x *mx.Array, _ *core.Context, cache core.Cache) *mx.Array {
	b, l := x.Dim(0), x.Dim(1)
	proj := m.InProj.Forward(x)
	u, z := mx.SliceAxis(proj, -1, 0, m.Inner), mx.SliceAxis(proj, -1, m.Inner, 2*m.Inner)
	var c *ssmCache
	if cache != nil {
		c = cache.(*ssmCache)
	} else {
		c = m.NewCache(b, 0).(*ssmCache)
	}
	y, newConv := causalConv(u, c.Conv, m.ConvWeight, m.ConvBias, m.Kernel)
	u = mx.SiLU(y)
	ssm := m.XProj.Forward(u)
	dt := m.DtNorm.Forward(mx.SliceAxis(ssm, -1, 0, m.Rank))
	bs := m.BNorm.Forward(mx.SliceAxis(ssm, -1, m.Rank, m.Rank+m.State))
	cs := m.CNorm.Forward(mx.SliceAxis(ssm, -1, m.Rank+m.State, m.Rank+2*m.State))
	dt = mx.Softplus(m.DtProj.Forward(dt)) // (B, L, inner)
	a := mx.MulScalar(mx.Exp(m.ALog), -1)  // (inner, N)
	state := mx.AsType(c.State, x.DType())
	ys := make([]*mx.Array, l)
	for t := 0; t < l; t++ {
		at := func(v *mx.Array) *mx.Array { return mx.Squeeze(mx.SliceAxis(v, 1, t, t+1), 1) }
		dtt, ut, bt, ct := mx.ExpandDims(at(dt), -1), mx.ExpandDims(at(u), -1), mx.ExpandDims(at(bs), 1), mx.ExpandDims(at(cs), 1)
		state = mx.Add(mx.Mul(state, mx.Exp(mx.Mul(dtt, a))), mx.Mul(mx.Mul(dtt, bt), ut))
		ys[t] = mx.Sum(mx.Mul(state, ct), []int{-1}, false)
	}
	out := mx.Add(mx.Stack(ys, 1), mx.Mul(u, m.D))
	if cache != nil {
		c.Conv, c.State, c.n = newConv, state, c.n+l
	}
	return m.OutProj.Forward(mx.Mul(out, mx.SiLU(z)))
}

var jambaRules = []rule{
	rename(`model\.embed_tokens\.weight`, "embed.weight"),
	rename(`model\.layers\.(\d+)\.input_layernorm\.weight`, "blocks.$1.attn_norm.weight"),
	rename(`model\.layers\.(\d+)\.pre_ff_layernorm\.weight`, "blocks.$1.ffn_norm.weight"),
	rename(`model\.layers\.(\d+)\.self_attn\.(q|k|v|o)_proj\.(weight|bias)`, "blocks.$1.attention.${2}_proj.$3"),
	rename(`model\.layers\.(\d+)\.feed_forward\.router\.weight`, "blocks.$1.ffn.router.weight"),
	rename(`model\.layers\.(\d+)\.feed_forward\.experts\.(\d+)\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.experts.$2.$3.weight"),
	rename(`model\.layers\.(\d+)\.feed_forward\.(gate|up|down)_proj\.weight`, "blocks.$1.ffn.$2.weight"),
	rename(`model\.layers\.(\d+)\.mamba\.(in_proj|x_proj|dt_proj|out_proj)\.(weight|bias)`, "blocks.$1.attention.$2.$3"),
	rename(`model\.layers\.(\d+)\.mamba\.conv1d\.(weight|bias)`, "blocks.$1.attention.conv1d.$2"),
	rename(`model\.layers\.(\d+)\.mamba\.(dt|b|c)_layernorm\.weight`, "blocks.$1.attention.${2}_layernorm.weight"),
	rename(`model\.layers\.(\d+)\.mamba\.A_log`, "blocks.$1.attention.a_log"),
	rename(`model\.layers\.(\d+)\.mamba\.D`, "blocks.$1.attention.d"),
	rename(`model\.final_layernorm\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}
