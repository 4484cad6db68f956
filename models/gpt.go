package models

import "github.com/lmxlab/lmxlab/core"

// GPTOptions are the knobs of the GPT factory.
type GPTOptions struct {
	VocabSize, DModel, NHeads, NLayers, DFF, MaxSeqLen int
	TieEmbeddings                                      bool
	Dropout                                            float64
	MupBaseWidth                                       int
}

// GPT returns a GPT-2-style config: multi-head attention, GELU MLP, LayerNorm, sinusoidal
// positions, biases, pre-norm, tied embeddings.
func GPT(o GPTOptions) ModelConfig {
	b := core.DefaultBlockConfig()
	b.Attention, b.FFN, b.Norm, b.Position = "mha", "standard", "layer_norm", "sinusoidal"
	b.DModel, b.NHeads, b.DFF, b.MaxSeqLen = o.DModel, o.NHeads, o.DFF, o.MaxSeqLen
	b.Bias, b.Dropout, b.Mup = true, o.Dropout, o.MupBaseWidth > 0
	return ModelConfig{Block: b, VocabSize: o.VocabSize, NLayers: o.NLayers, TieEmbeddings: o.TieEmbeddings, MupBaseWidth: o.MupBaseWidth, Name: "gpt"}
}

// GPTDefaults are the original's gpt_config defaults (GPT-2 small).
func GPTDefaults() GPTOptions {
	return GPTOptions{VocabSize: 50257, DModel: 768, NHeads: 12, NLayers: 12, DFF: 3072, MaxSeqLen: 1024, TieEmbeddings: true}
}

func gptSized(name string, vocab, d, h, layers, dff, maxSeq int) ModelConfig {
	c := GPT(GPTOptions{VocabSize: vocab, DModel: d, NHeads: h, NLayers: layers, DFF: dff, MaxSeqLen: maxSeq, TieEmbeddings: true})
	c.Name = name
	return c
}

// GPTTiny is a 2-layer, 64-wide GPT over 256 tokens (83,456 parameters).
func GPTTiny() ModelConfig { return gptSized("gpt_tiny", 256, 64, 2, 2, 128, 128) }

// GPTSmall is GPT-2 small (123,653,376 parameters with sinusoidal positions).
func GPTSmall() ModelConfig { return gptSized("gpt_small", 50257, 768, 12, 12, 3072, 1024) }

// GPTMedium is GPT-2 medium.
func GPTMedium() ModelConfig { return gptSized("gpt_medium", 50257, 1024, 16, 24, 4096, 1024) }

// GPT10M is a ~9.6M-parameter research GPT.
func GPT10M() ModelConfig { return gptSized("gpt_10m", 50257, 128, 4, 16, 512, 512) }

// GPT30M is a ~30M-parameter research GPT.
func GPT30M() ModelConfig { return gptSized("gpt_30m", 50257, 256, 8, 22, 1024, 512) }
