// Package models defines ModelConfig, the one LanguageModel every architecture shares, and the
// config factories (GPT, LLaMA, ...) that return configurations — never new types.
//
// Data flow of a forward pass: token ids (B, L) → embedding (scaled when configured) → position
// table added for sinusoidal/learned encodings → the blocks in order, each with its own cache →
// final norm → logits through the tied embedding or an untied head (soft-capped when
// configured). With caches, positions continue from the caches' length, so decoding one token at
// a time gives the same logits as recomputing the whole sequence.
package models

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/lmxlab/lmxlab/core"
)

// BlockConfig is re-exported from core for convenience.
type BlockConfig = core.BlockConfig

// ModelConfig describes a whole model. JSON names follow the original lmxlab.
type ModelConfig struct {
	Block         BlockConfig   `json:"block"`
	VocabSize     int           `json:"vocab_size"`
	NLayers       int           `json:"n_layers"`
	TieEmbeddings bool          `json:"tie_embeddings"`
	BlockConfigs  []BlockConfig `json:"block_configs,omitempty"` // per-layer overrides
	MupBaseWidth  int           `json:"mup_base_width,omitempty"`

	// Extensions for Hugging Face architectures.
	EmbeddingScale float64 `json:"embedding_scale,omitempty"` // multiply embeddings (Gemma: sqrt(d))
	LogitSoftcap   float64 `json:"logit_softcap,omitempty"`   // cap·tanh(logits/cap) when > 0
	Name           string  `json:"name,omitempty"`            // factory name, for display
}

// BlockAt returns layer i's block config.
func (c ModelConfig) BlockAt(i int) BlockConfig {
	if c.BlockConfigs != nil {
		return c.BlockConfigs[i]
	}
	return c.Block
}

// WidthMult is d_model / mup_base_width (1 without µP).
func (c ModelConfig) WidthMult() float64 {
	if c.MupBaseWidth <= 0 {
		return 1
	}
	return float64(c.Block.DModel) / float64(c.MupBaseWidth)
}

// Validate checks the config before a model is built.
func (c ModelConfig) Validate() error {
	if c.VocabSize <= 0 {
		return fmt.Errorf("model config: vocab_size must be positive, got %d", c.VocabSize)
	}
	if c.NLayers < 0 {
		return fmt.Errorf("model config: n_layers must be non-negative, got %d", c.NLayers)
	}
	if c.BlockConfigs != nil && len(c.BlockConfigs) != c.NLayers {
		return fmt.Errorf("model config: %d block_configs for n_layers %d", len(c.BlockConfigs), c.NLayers)
	}
	if err := c.Block.Validate(); err != nil {
		return err
	}
	for i := 0; i < c.NLayers; i++ {
		if c.BlockAt(i).DModel != c.Block.DModel {
			return fmt.Errorf("model config: layer %d has d_model %d, model has %d", i, c.BlockAt(i).DModel, c.Block.DModel)
		}
	}
	return nil
}

// JSON encodes the config with indentation.
func (c ModelConfig) JSON() []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(err) // a plain struct always encodes
	}
	return b
}

// ParseConfig decodes and validates a config (unknown fields are errors, to catch typos).
func ParseConfig(data []byte) (ModelConfig, error) {
	var c ModelConfig
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("model config: %w", err)
	}
	return c, c.Validate()
}

// LoadConfig reads a config file.
func LoadConfig(path string) (ModelConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ModelConfig{}, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
