package hf

import (
	"fmt"
	"regexp"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
)

// Phi-3 is Llama with fused projections: self_attn.qkv_proj stacks the q (H·hd), k and v
// (Hkv·hd each) rows, and mlp.gate_up_proj stacks gate then up rows. Both are split at load time.

// phi3Config maps a phi3 config.json (Llama-shaped, no biases).
func phi3Config(rc rawConfig) (models.ModelConfig, error) {
	rc.AttentionBias, rc.MLPBias = nil, false
	cfg, err := llamaFamilyConfig(rc)
	if err != nil {
		return cfg, err
	}
	if cfg.Block.RopeScaling != nil {
		return cfg, fmt.Errorf("phi3: rope scaling %q is not supported", cfg.Block.RopeScaling.Type)
	}
	return cfg, nil
}

// splitRows splits a fused weight's rows at the given sizes into the named parameters (to holds
// PART, replaced by each name).
func splitRows(pattern, to string, names []string, sizes func(rows int) ([]int, error)) rule {
	re := regexp.MustCompile("^" + pattern + "$")
	return rule{re, func(m []string, a *mx.Array) (map[string]*mx.Array, error) {
		sz, err := sizes(a.Dim(0))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m[0], err)
		}
		out := map[string]*mx.Array{}
		start := 0
		for i, n := range names {
			out[re.ReplaceAllString(m[0], regexp.MustCompile("PART").ReplaceAllLiteralString(to, n))] = mx.SliceAxis(a, 0, start, start+sz[i])
			start += sz[i]
		}
		return out, nil
	}}
}

// phi3Rules needs the head layout to split qkv_proj.
func phi3Rules(cfg models.ModelConfig) []rule {
	b := cfg.Block
	q, kv := b.NHeads*b.HeadDimension(), b.KVHeads()*b.HeadDimension()
	return append([]rule{
		splitRows(`model\.layers\.(\d+)\.self_attn\.qkv_proj\.weight`, "blocks.$1.attention.PART.weight",
			[]string{"q_proj", "k_proj", "v_proj"}, func(rows int) ([]int, error) {
				if rows != q+2*kv {
					return nil, fmt.Errorf("fused qkv has %d rows, want %d + 2·%d", rows, q, kv)
				}
				return []int{q, kv, kv}, nil
			}),
		splitRows(`model\.layers\.(\d+)\.mlp\.gate_up_proj\.weight`, "blocks.$1.ffn.PART.weight",
			[]string{"gate", "up"}, func(rows int) ([]int, error) {
				if rows != 2*b.DFF {
					return nil, fmt.Errorf("fused gate_up has %d rows, want 2·%d", rows, b.DFF)
				}
				return []int{b.DFF, b.DFF}, nil
			}),
	}, llamaRules...)
}
