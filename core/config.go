// Package core holds lmxlab's model components — attention variants, feed-forward networks,
// norms and positional encodings — and the ConfigurableBlock that assembles them from a
// BlockConfig. Components register by name in registries at init time (as image formats and SQL
// drivers do in the standard library), so a BlockConfig names its parts as strings and adding a
// component touches only its own file.
//
// Data flow inside a block: activations (B, L, d) enter; the attention mixer projects them to
// heads (B, H, L, hd), applies its position encoding (RoPE rotates queries and keys; ALiBi adds a
// bias), appends keys and values to the layer's fixed-capacity KV cache when one is given, and
// runs the fused scaled-dot-product attention; the FFN then transforms each position. Queries
// always sit at the absolute positions Offset..Offset+L-1, so cached decoding equals full
// recomputation. Static decoding (Context.Position, NewStaticKVCache) takes that position as a
// run-time array instead: keys are written into the cache at it and the attention masks the
// cache's whole capacity by position, so every decode step has the same graph and a compiled
// step is traced once.
package core

import (
	"encoding/json"
	"fmt"
)

// BlockConfig describes one transformer block. JSON names follow the original lmxlab.
type BlockConfig struct {
	Attention string  `json:"attention"`
	FFN       string  `json:"ffn"`
	Norm      string  `json:"norm"`
	Position  string  `json:"position"`
	DModel    int     `json:"d_model"`
	NHeads    int     `json:"n_heads"`
	NKVHeads  int     `json:"n_kv_heads,omitempty"` // 0: same as NHeads
	HeadDim   int     `json:"head_dim,omitempty"`   // 0: DModel / NHeads
	DFF       int     `json:"d_ff"`
	Bias      bool    `json:"bias"`
	Dropout   float64 `json:"dropout"`
	NormEps   float64 `json:"norm_eps"`
	RopeTheta float64 `json:"rope_theta"`
	MaxSeqLen int     `json:"max_seq_len"`
	PreNorm   bool    `json:"pre_norm"`

	WindowSize         int  `json:"window_size,omitempty"`          // sliding-window attention
	AttentionChunkSize int  `json:"attention_chunk_size,omitempty"` // chunked attention
	QKNorm             bool `json:"qk_norm,omitempty"`
	Mup                bool `json:"mup,omitempty"`

	// Extensions beyond the original's fields, needed to express Hugging Face models exactly.
	Activation      string       `json:"activation,omitempty"`   // FFN activation: gelu, gelu_tanh, silu, relu (default by FFN kind)
	QKVBias         *bool        `json:"qkv_bias,omitempty"`     // bias on q/k/v projections (default: Bias)
	OutBias         *bool        `json:"out_bias,omitempty"`     // bias on the attention output projection (default: Bias)
	NormBias        *bool        `json:"norm_bias,omitempty"`    // LayerNorm bias (default true)
	RopeScaling     *RopeScaling `json:"rope_scaling,omitempty"` // frequency scaling for long contexts
	RopeDims        int          `json:"rope_dims,omitempty"`    // rotate only the first RopeDims features (0: all)
	RopeTraditional bool         `json:"rope_traditional,omitempty"`

	// Mixture-of-experts, MLA, Mamba and DeltaNet fields of the original, carried so configs
	// round-trip; the components that read them live in their own files.
	KVLoraRank     int  `json:"kv_lora_rank,omitempty"`
	QLoraRank      int  `json:"q_lora_rank,omitempty"`
	RopeDim        int  `json:"rope_dim,omitempty"`
	NExperts       int  `json:"n_experts,omitempty"`
	TopKExperts    int  `json:"top_k_experts,omitempty"`
	NSharedExperts int  `json:"n_shared_experts,omitempty"`
	ConvKernelSize int  `json:"conv_kernel_size,omitempty"`
	UseShortConv   bool `json:"use_short_conv,omitempty"`
}

// RopeScaling selects a RoPE frequency scaling: "linear" divides positions by Factor; "llama3"
// rescales low frequencies as in Llama 3.1.
type RopeScaling struct {
	Type                          string  `json:"rope_type"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`
}

// DefaultBlockConfig returns the original's defaults.
func DefaultBlockConfig() BlockConfig {
	return BlockConfig{Attention: "mha", FFN: "standard", Norm: "layer_norm", Position: "sinusoidal",
		DModel: 512, NHeads: 8, DFF: 2048, Bias: true, NormEps: 1e-5, RopeTheta: 10000, MaxSeqLen: 2048,
		PreNorm: true, TopKExperts: 2, ConvKernelSize: 4}
}

// KVHeads is the number of key/value heads.
func (c BlockConfig) KVHeads() int {
	if c.NKVHeads > 0 {
		return c.NKVHeads
	}
	return c.NHeads
}

// HeadDimension is the per-head width.
func (c BlockConfig) HeadDimension() int {
	if c.HeadDim > 0 {
		return c.HeadDim
	}
	if c.NHeads == 0 {
		return 0
	}
	return c.DModel / c.NHeads
}

func (c BlockConfig) qkvBias() bool {
	if c.QKVBias != nil {
		return *c.QKVBias
	}
	return c.Bias
}

func (c BlockConfig) outBias() bool {
	if c.OutBias != nil {
		return *c.OutBias
	}
	return c.Bias
}

func (c BlockConfig) normBias() bool {
	if c.NormBias != nil {
		return *c.NormBias
	}
	return true
}

// Validate checks the fields every block needs.
func (c BlockConfig) Validate() error {
	switch {
	case c.DModel <= 0:
		return fmt.Errorf("block config: d_model must be positive, got %d", c.DModel)
	case c.Attention != "none" && c.NHeads <= 0:
		return fmt.Errorf("block config: n_heads must be positive, got %d", c.NHeads)
	case c.Attention != "none" && c.HeadDim == 0 && c.DModel%c.NHeads != 0:
		return fmt.Errorf("block config: d_model %d is not divisible by n_heads %d", c.DModel, c.NHeads)
	case c.Attention != "none" && c.NHeads%c.KVHeads() != 0:
		return fmt.Errorf("block config: n_heads %d is not a multiple of n_kv_heads %d", c.NHeads, c.KVHeads())
	case c.FFN != "none" && c.DFF <= 0:
		return fmt.Errorf("block config: d_ff must be positive, got %d", c.DFF)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("block config: dropout must be in [0, 1), got %g", c.Dropout)
	}
	return nil
}

// String is the config as JSON.
func (c BlockConfig) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}
