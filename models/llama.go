package models

import "github.com/lmxlab/lmxlab/core"

// LlamaOptions are the knobs of the LLaMA factory.
type LlamaOptions struct {
	VocabSize, DModel, NHeads, NKVHeads, NLayers, DFF, MaxSeqLen int
	RopeTheta                                                    float64
	TieEmbeddings                                                bool
	Dropout                                                      float64
	MupBaseWidth                                                 int
}

// Llama returns a LLaMA-style config: grouped-query attention, SwiGLU, RMSNorm, RoPE, no biases,
// pre-norm.
func Llama(o LlamaOptions) ModelConfig {
	b := core.DefaultBlockConfig()
	b.Attention, b.FFN, b.Norm, b.Position = "gqa", "gated", "rms_norm", "rope"
	b.DModel, b.NHeads, b.NKVHeads, b.DFF, b.MaxSeqLen = o.DModel, o.NHeads, o.NKVHeads, o.DFF, o.MaxSeqLen
	b.RopeTheta, b.Bias, b.Dropout, b.Mup = o.RopeTheta, false, o.Dropout, o.MupBaseWidth > 0
	if b.RopeTheta == 0 {
		b.RopeTheta = 10000
	}
	return ModelConfig{Block: b, VocabSize: o.VocabSize, NLayers: o.NLayers, TieEmbeddings: o.TieEmbeddings, MupBaseWidth: o.MupBaseWidth, Name: "llama"}
}

// LlamaDefaults are the original's llama_config defaults.
func LlamaDefaults() LlamaOptions {
	return LlamaOptions{VocabSize: 32000, DModel: 4096, NHeads: 32, NKVHeads: 8, NLayers: 32, DFF: 11008, MaxSeqLen: 4096, RopeTheta: 10000}
}

func llamaSized(name string, vocab, d, h, kv, layers, dff, maxSeq int, tie bool) ModelConfig {
	c := Llama(LlamaOptions{VocabSize: vocab, DModel: d, NHeads: h, NKVHeads: kv, NLayers: layers, DFF: dff, MaxSeqLen: maxSeq, RopeTheta: 10000, TieEmbeddings: tie})
	c.Name = name
	return c
}

// LlamaTiny is a 2-layer, 64-wide LLaMA over 256 tokens (106,816 parameters).
func LlamaTiny() ModelConfig { return llamaSized("llama_tiny", 256, 64, 4, 2, 2, 128, 128, false) }

// Llama7B is the original's llama_7b (8 KV heads).
func Llama7B() ModelConfig { return llamaSized("llama_7b", 32000, 4096, 32, 8, 32, 11008, 4096, false) }

// Llama13B is the original's llama_13b.
func Llama13B() ModelConfig {
	return llamaSized("llama_13b", 32000, 5120, 40, 10, 40, 13824, 4096, false)
}

// Llama10M is a ~9.9M-parameter research LLaMA (tied).
func Llama10M() ModelConfig { return llamaSized("llama_10m", 50257, 128, 4, 2, 14, 512, 512, true) }

// Llama30M is a ~30.6M-parameter research LLaMA (tied).
func Llama30M() ModelConfig { return llamaSized("llama_30m", 50257, 256, 8, 4, 18, 1024, 512, true) }
