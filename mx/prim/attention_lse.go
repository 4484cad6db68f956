package prim

// ScaledDotProductAttentionLSE is ScaledDotProductAttention that also returns, for the backward
// pass, the log-sum-exp of each query row's scores. Inputs and fields are those of
// ScaledDotProductAttention. The output is 1-d, float64 for float64 operands and float32
// otherwise, of size B·Hq·Lq·Dv + B·Hq·Lq: first the attention output (B, Hq, Lq, Dv) in
// row-major order (not rounded to a half type), then the (B, Hq, Lq) values
// log Σ_j exp(s_ij) over the keys j that row i sees, where s_ij = Scale·q_i·k_j plus the additive
// mask; a row that sees no key has -Inf (and output zeros).
type ScaledDotProductAttentionLSE struct {
	Scale   float64
	Mask    AttentionMask
	HasMask bool
}

func (ScaledDotProductAttentionLSE) Name() string { return "ScaledDotProductAttentionLSE" }
