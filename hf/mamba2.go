package hf

import (
	"fmt"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Mamba-2 layers are x + mixer(rms(x)) with no FFN. The mixer: in_proj(x) = [z | xBC | dt];
// xBC goes through a causal depthwise conv1d (conv_kernel taps) and SiLU and splits into
// x (heads × head_dim), B and C (n_groups × state_size); dt = softplus(dt + dt_bias);
// per head, state ← state·exp(dt·A) + dt·x⊗B and y = state·C + D·x with A = -exp(A_log);
// then out_proj(rms(y·silu(z))·w). This implementation runs the recurrence step by step (the
// reference uses the equivalent chunked form); the cache keeps the conv window and the state.

// mamba2Params are the config fields a Mamba-2 mixer needs.
type mamba2Params struct {
	DInner, Heads, HeadDim, Groups, State, Kernel int
	Eps                                           float64
	ConvBias, ProjBias                            bool
}

// mamba2Config maps a mamba2 config.json: blocks with a placeholder attention (replaced by
// adaptMamba2) and no FFN.
func mamba2Config(rc rawConfig) (models.ModelConfig, error) {
	b := core.DefaultBlockConfig()
	b.Attention, b.FFN, b.Norm, b.Position = "gqa", "none", "rms_norm", "none"
	b.DModel, b.NHeads, b.HeadDim, b.Bias = rc.HiddenSize, 1, 1, false
	b.NormEps = rc.LayerNormEpsilon
	tie := false
	if rc.TieWordEmbeddings != nil {
		tie = *rc.TieWordEmbeddings
	}
	if rc.NumHeads <= 0 || rc.StateSize <= 0 {
		return models.ModelConfig{}, fmt.Errorf("mamba2: needs num_heads and state_size")
	}
	return models.ModelConfig{Block: b, VocabSize: rc.VocabSize, NLayers: rc.NumHiddenLayers, TieEmbeddings: tie, Name: rc.ModelType}, nil
}

func mamba2ParamsOf(rc rawConfig, heads, headDim, state int) mamba2Params {
	expand := rc.Expand
	if expand == 0 {
		expand = 2
	}
	p := mamba2Params{DInner: heads * headDim, Heads: heads, HeadDim: headDim, Groups: max(rc.NGroups, 1),
		State: state, Kernel: rc.ConvKernel, Eps: rc.LayerNormEpsilon, ConvBias: rc.UseConvBias == nil || *rc.UseConvBias, ProjBias: rc.UseBias}
	if p.Kernel == 0 {
		p.Kernel = 4
	}
	return p
}

// NewMamba2 makes a Mamba-2 mixer for width d (parameters to be loaded).
func newMamba2(d int, p mamba2Params) *Mamba2 {
	conv := p.DInner + 2*p.Groups*p.State
	m := &Mamba2{InProj: nn.NewLinear(d, p.DInner+conv+p.Heads, p.ProjBias, nil),
		ConvWeight: mx.Zeros([]int{conv, 1, p.Kernel}, mx.Float32),
		ALog:       mx.Zeros([]int{p.Heads}, mx.Float32), D: mx.Zeros([]int{p.Heads}, mx.Float32),
		DtBias: mx.Zeros([]int{p.Heads}, mx.Float32), Norm: nn.NewRMSNorm(p.DInner, p.Eps),
		OutProj: nn.NewLinear(p.DInner, d, p.ProjBias, nil), P: p}
	if p.ConvBias {
		m.ConvBias = mx.Zeros([]int{conv}, mx.Float32)
	}
	return m
}

// Mamba2 is the Mamba-2 (SSD) mixer.
type Mamba2 struct {
	InProj     *nn.Linear
	ConvWeight *mx.Array   `nn:"conv1d.weight"`
	ConvBias   *mx.Array   `nn:"conv1d.bias"`
	ALog       *mx.Array   `nn:"a_log"`
	D          *mx.Array   `nn:"d"`
	DtBias     *mx.Array   `nn:"dt_bias"`
	Norm       *nn.RMSNorm // nil: no gated norm (Falcon-H1 without mamba_rms_norm)
	OutProj    *nn.Linear
	P          mamba2Params `nn:"-"`
}

// ssmCache is a Mamba-2 layer's decoding state: the last conv_kernel-1 conv inputs and the SSM
// state (B, H, head_dim, N).
type ssmCache struct {
	Conv, State *mx.Array
	n           int
}

func (c *ssmCache) Len() int            { return c.n }
func (c *ssmCache) Arrays() []*mx.Array { return []*mx.Array{c.Conv, c.State} }

// NewCache makes an empty state.
func (m *Mamba2) NewCache(batch, _ int) core.Cache {
	p := m.P
	return &ssmCache{Conv: mx.Zeros([]int{batch, p.Kernel - 1, p.DInner + 2*p.Groups*p.State}, mx.Float32),
		State: mx.Zeros([]int{batch, p.Heads, p.HeadDim, p.State}, mx.Float32)}
}

// Forward runs the mixer on x (B, L, d), continuing from the cache when given.
func (m *Mamba2) Forward(x *mx.Array, _ *core.Context, cache core.Cache) *mx.Array {
	p := m.P
	b, l := x.Dim(0), x.Dim(1)
	conv := p.DInner + 2*p.Groups*p.State
	proj := m.InProj.Forward(x)
	z := mx.SliceAxis(proj, -1, 0, p.DInner)
	xbc := mx.SliceAxis(proj, -1, p.DInner, p.DInner+conv)
	dt := mx.SliceAxis(proj, -1, p.DInner+conv, p.DInner+conv+p.Heads)

	var c *ssmCache
	if cache != nil {
		c = cache.(*ssmCache)
	} else {
		c = m.NewCache(b, 0).(*ssmCache)
	}
	// Causal depthwise conv over [previous inputs | xBC].
	y, newConv := causalConv(xbc, c.Conv, m.ConvWeight, m.ConvBias, p.Kernel)
	y = mx.SiLU(y)

	gs := p.Groups * p.State
	xs := mx.Reshape(mx.SliceAxis(y, -1, 0, p.DInner), b, l, p.Heads, p.HeadDim)
	expand := func(a *mx.Array) *mx.Array { // (B, L, G·N) → (B, L, H, N)
		a = mx.ExpandDims(mx.Reshape(a, b, l, p.Groups, p.State), 3)
		a = mx.BroadcastTo(a, b, l, p.Groups, p.Heads/p.Groups, p.State)
		return mx.Reshape(a, b, l, p.Heads, p.State)
	}
	bs := expand(mx.SliceAxis(y, -1, p.DInner, p.DInner+gs))
	cs := expand(mx.SliceAxis(y, -1, p.DInner+gs, p.DInner+2*gs))
	dt = mx.Softplus(mx.Add(dt, m.DtBias)) // (B, L, H)
	a := mx.MulScalar(mx.Exp(m.ALog), -1)  // (H)
	decay := mx.Exp(mx.Mul(dt, a))         // (B, L, H)
	state := mx.AsType(c.State, x.DType())
	ys := make([]*mx.Array, l)
	for t := 0; t < l; t++ {
		at := func(v *mx.Array) *mx.Array { return mx.Squeeze(mx.SliceAxis(v, 1, t, t+1), 1) }
		xt, bt, ct, dtt := at(xs), at(bs), at(cs), at(dt) // (B,H,hd) (B,H,N) (B,H,N) (B,H)
		dtt4 := mx.Reshape(dtt, b, p.Heads, 1, 1)
		upd := mx.Mul(mx.Mul(dtt4, mx.ExpandDims(xt, -1)), mx.ExpandDims(bt, 2))
		state = mx.Add(mx.Mul(state, mx.Reshape(at(decay), b, p.Heads, 1, 1)), upd)
		yt := mx.Sum(mx.Mul(state, mx.ExpandDims(ct, 2)), []int{-1}, false)
		ys[t] = mx.Add(yt, mx.Mul(xt, mx.Reshape(m.D, p.Heads, 1)))
	}
	out := mx.Reshape(mx.Stack(ys, 1), b, l, p.DInner)
	if cache != nil {
		c.Conv, c.State, c.n = newConv, state, c.n+l
	}
	out = mx.Mul(out, mx.SiLU(z))
	if m.Norm != nil {
		out = m.Norm.Forward(out)
	}
	return m.OutProj.Forward(out)
}

// adaptMamba2 installs the Mamba-2 mixers.
func adaptMamba2(rc rawConfig, m *models.LanguageModel) error {
	p := mamba2ParamsOf(rc, rc.NumHeads, rc.HeadDim, rc.StateSize)
	for _, b := range m.Blocks {
		b.Attention = newMamba2(b.Config.DModel, p)
	}
	return nil
}

// mambaBackboneRules rename the Mamba-2 mixer and the backbone's final parts, shared by the
// pure Mamba-2 and the Nemotron-H checkpoints.
var mambaBackboneRules = []rule{
	rename(`backbone\.layers\.(\d+)\.mixer\.(in_proj|out_proj)\.(weight|bias)`, "blocks.$1.attention.$2.$3"),
	rename(`backbone\.layers\.(\d+)\.mixer\.conv1d\.(weight|bias)`, "blocks.$1.attention.conv1d.$2"),
	rename(`backbone\.layers\.(\d+)\.mixer\.A_log`, "blocks.$1.attention.a_log"),
	rename(`backbone\.layers\.(\d+)\.mixer\.D`, "blocks.$1.attention.d"),
	rename(`backbone\.layers\.(\d+)\.mixer\.dt_bias`, "blocks.$1.attention.dt_bias"),
	rename(`backbone\.layers\.(\d+)\.mixer\.norm\.weight`, "blocks.$1.attention.norm.weight"),
	rename(`backbone\.norm_f\.weight`, "final_norm.weight"),
	rename(`lm_head\.weight`, "head.weight"),
}

var mamba2Rules = append([]rule{
	rename(`backbone\.embeddings\.weight`, "embed.weight"),
	rename(`backbone\.layers\.(\d+)\.norm\.weight`, "blocks.$1.attn_norm.weight"),
}, mambaBackboneRules...)
