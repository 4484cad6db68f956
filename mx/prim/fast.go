package prim

// The fused "fast" primitives, as in mlx.core.fast. Each has a cpu kernel of its own; the xla
// backend may lower them to plain HLO. Backward passes that produce several gradients return them
// packed into one flat output (mx slices it apart), which keeps every Op single-output.

// RMSNorm computes x * rsqrt(mean(x², last axis) + Eps) * w. Inputs: x, w (last-axis length).
type RMSNorm struct{ Eps float64 }

// RMSNormGrad packs (dx, dw) for RMSNorm, flattened and concatenated in float32/64 of x's dtype.
// Inputs: x, w, cotangent.
type RMSNormGrad struct{ Eps float64 }

// LayerNorm computes (x - mean) * rsqrt(var + Eps) * w + b over the last axis. Inputs: x, then w
// if HasWeight, then b if HasBias.
type LayerNorm struct {
	Eps                float64
	HasWeight, HasBias bool
}

// LayerNormGrad packs (dx, dw, db) — dw and db only when present. Inputs: x, [w], cotangent.
type LayerNormGrad struct {
	Eps                float64
	HasWeight, HasBias bool
}

// RoPE rotates the first Dims features of x (..., L, D) by position-dependent angles. Inputs: x,
// offset (int32 scalar: the position of the first row), and freqs (Dims/2 inverse frequencies)
// when HasFreqs, else θ_i = Base^(-2i/Dims). Angles are (offset + l) * Scale * θ_i. Traditional
// rotates interleaved pairs (x0,x1),(x2,x3)...; otherwise the halves [0,Dims/2) and [Dims/2,Dims).
// Inverse rotates by the negative angle (the VJP).
type RoPE struct {
	Dims        int
	Traditional bool
	Base, Scale float64
	HasFreqs    bool
	Inverse     bool
}

// AttentionMask says which keys a query may see in ScaledDotProductAttention. Query row i of Lq
// sits at absolute position Lk - Lq + i (queries are the last Lq positions of the keys).
type AttentionMask struct {
	Causal bool // keys j <= pos
	Window int  // if > 0, keys j > pos - Window
	Chunk  int  // if > 0, keys with j/Chunk == pos/Chunk
}

// ScaledDotProductAttention computes softmax(q·kᵀ·Scale + mask)·v for q (B, Hq, Lq, D),
// k (B, Hkv, Lk, D), v (B, Hkv, Lk, Dv), with Hq a multiple of Hkv (query head h uses KV head
// h / (Hq/Hkv)). An optional fourth input is an additive float mask or a boolean mask (true = keep)
// broadcastable to (B, Hq, Lq, Lk). A row with no visible key yields zeros.
type ScaledDotProductAttention struct {
	Scale   float64
	Mask    AttentionMask
	HasMask bool
}

// ScaledDotProductAttentionGrad packs (dq, dk, dv), flattened, in the type of
// ScaledDotProductAttentionLSE's output. Inputs: q, k, v, [mask], then the
// ScaledDotProductAttentionLSE output for those operands and fields (attention output and row
// log-sum-exps), then the cotangent: either of that whole packed output (the output's cotangent
// followed by the log-sum-exps'), or of the attention output (B, Hq, Lq, Dv) alone, the
// log-sum-exps' cotangent then being zero.
type ScaledDotProductAttentionGrad struct {
	Scale   float64
	Mask    AttentionMask
	HasMask bool
}

// CrossEntropy gives per-row -log softmax(logits)[target] for logits (N, V) and integer targets
// (N). A negative target is ignored: its loss is 0.
type CrossEntropy struct{}

// CrossEntropyGrad gives (softmax(logits) - onehot(target)) * g for each row; rows with negative
// targets get zeros. Inputs: logits, targets, g (N).
type CrossEntropyGrad struct{}

// QuantizedMatmul multiplies x (..., K) by a weight quantized with Quantize: packed words
// (N, K*Bits/32) uint32, scales and biases (N, K/GroupSize). Transpose (the usual case) computes
// x·Wᵀ with W (N, K); otherwise the weight is (K, N) and packed along N.
type QuantizedMatmul struct {
	GroupSize, Bits int
	Transpose       bool
}

func (RMSNorm) Name() string                       { return "RMSNorm" }
func (RMSNormGrad) Name() string                   { return "RMSNormGrad" }
func (LayerNorm) Name() string                     { return "LayerNorm" }
func (LayerNormGrad) Name() string                 { return "LayerNormGrad" }
func (RoPE) Name() string                          { return "RoPE" }
func (ScaledDotProductAttention) Name() string     { return "ScaledDotProductAttention" }
func (ScaledDotProductAttentionGrad) Name() string { return "ScaledDotProductAttentionGrad" }
func (CrossEntropy) Name() string                  { return "CrossEntropy" }
func (CrossEntropyGrad) Name() string              { return "CrossEntropyGrad" }
func (QuantizedMatmul) Name() string               { return "QuantizedMatmul" }
