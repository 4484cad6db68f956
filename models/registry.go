package models

import (
	"fmt"
	"sort"
)

// Factory describes a named architecture: its default config and its tiny test-size config.
type Factory struct {
	Name        string
	Description string
	Default     func() ModelConfig
	Tiny        func() ModelConfig
	Sizes       map[string]func() ModelConfig // other named sizes (e.g. "10m", "7b")
}

var factories = map[string]Factory{}

// Register adds an architecture factory; duplicates panic.
func Register(f Factory) {
	if _, dup := factories[f.Name]; dup {
		panic("models: duplicate factory " + f.Name)
	}
	factories[f.Name] = f
}

// Lookup finds an architecture by name.
func Lookup(name string) (Factory, error) {
	f, ok := factories[name]
	if !ok {
		return f, fmt.Errorf("unknown architecture %q; available: %v", name, Architectures())
	}
	return f, nil
}

// Architectures lists the registered names, sorted.
func Architectures() []string {
	out := make([]string, 0, len(factories))
	for n := range factories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ConfigByName resolves "gpt", "gpt_tiny", "gpt:tiny", "llama_10m", ... to a config.
func ConfigByName(name string) (ModelConfig, error) {
	if f, ok := factories[name]; ok {
		return f.Default(), nil
	}
	for fname, f := range factories {
		for _, sep := range []string{"_", ":"} {
			prefix := fname + sep
			if len(name) > len(prefix) && name[:len(prefix)] == prefix {
				size := name[len(prefix):]
				if size == "tiny" {
					return f.Tiny(), nil
				}
				if s, ok := f.Sizes[size]; ok {
					return s(), nil
				}
			}
		}
	}
	return ModelConfig{}, fmt.Errorf("unknown architecture or size %q; architectures: %v", name, Architectures())
}

func init() {
	Register(Factory{Name: "gpt", Description: "GPT-2 style: MHA, GELU MLP, LayerNorm, sinusoidal positions, tied",
		Default: GPTSmall, Tiny: GPTTiny,
		Sizes: map[string]func() ModelConfig{"small": GPTSmall, "medium": GPTMedium, "10m": GPT10M, "30m": GPT30M}})
	Register(Factory{Name: "llama", Description: "LLaMA style: GQA, SwiGLU, RMSNorm, RoPE, no biases",
		Default: Llama7B, Tiny: LlamaTiny,
		Sizes: map[string]func() ModelConfig{"7b": Llama7B, "13b": Llama13B, "10m": Llama10M, "30m": Llama30M}})
}
