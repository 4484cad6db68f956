package hf

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
)

// Nemotron-H is a hybrid whose every layer is x + mixer(rms(x)) with one mixer each: Mamba-2,
// attention without position encoding, or a ReLU² MLP (up, down), as layers_block_type (or the
// older hybrid_override_pattern, "M", "*", "-") says. Attention and MLP layers map onto core
// blocks with only that sublayer; Mamba-2 mixers are installed by adaptNemotronH.

// nemotronLayerKind names layer i's mixer: "mamba", "attention" or "mlp".
func nemotronLayerKind(rc rawConfig, i int) (string, error) {
	var t string
	switch {
	case i < len(rc.LayersBlockType):
		t = rc.LayersBlockType[i]
	case i < len(rc.HybridOverridePattern):
		t = rc.HybridOverridePattern[i : i+1]
	default:
		return "", fmt.Errorf("nemotron_h: no block type for layer %d", i)
	}
	switch t {
	case "mamba", "linear_attention", "M":
		return "mamba", nil
	case "attention", "full_attention", "*":
		return "attention", nil
	case "mlp", "-":
		return "mlp", nil
	}
	return "", fmt.Errorf("nemotron_h: layer %d block type %q is not supported (mamba, attention, mlp)", i, t)
}

// nemotronHConfig maps a nemotron_h config.json.
func nemotronHConfig(rc rawConfig) (models.ModelConfig, error) {
	if rc.NumHiddenLayers == 0 { // transformers 5 derives it from the layer types
		rc.NumHiddenLayers = max(len(rc.LayersBlockType), len(rc.HybridOverridePattern))
	}
	b := core.DefaultBlockConfig()
	b.Attention, b.FFN, b.Norm, b.Position = "gqa", "none", "rms_norm", "none"
	b.DModel, b.NHeads, b.NKVHeads, b.HeadDim = rc.HiddenSize, rc.NumAttentionHeads, rc.NumKeyValueHeads, rc.HeadDim
	b.NormEps, b.MaxSeqLen, b.DFF = rc.LayerNormEpsilon, rc.MaxPositionEmbeddings, rc.IntermediateSize
	qkv := rc.AttentionBias != nil && *rc.AttentionBias
	b.QKVBias, b.OutBias, b.Bias = &qkv, &qkv, rc.MLPBias
	b.Activation = rc.MLPHiddenAct
	if b.Activation == "" {
		b.Activation = "relu2"
	}
	cfg := models.ModelConfig{Block: b, VocabSize: rc.VocabSize, NLayers: rc.NumHiddenLayers, Name: rc.ModelType}
	if rc.TieWordEmbeddings != nil {
		cfg.TieEmbeddings = *rc.TieWordEmbeddings
	}
	for i := 0; i < rc.NumHiddenLayers; i++ {
		kind, err := nemotronLayerKind(rc, i)
		if err != nil {
			return cfg, err
		}
		l := b
		switch kind {
		case "mamba":
			l.NHeads, l.NKVHeads, l.HeadDim = 1, 1, 1 // placeholder mixer, replaced at load
		case "mlp":
			l.Attention, l.FFN = "none", "standard"
		}
		cfg.BlockConfigs = append(cfg.BlockConfigs, l)
	}
	return cfg, nil
}

// adaptNemotronH installs the Mamba-2 mixers.
func adaptNemotronH(rc rawConfig, m *models.LanguageModel) error {
	heads, hd, state := rc.MambaNumHeads, rc.MambaHeadDim, rc.SSMStateSize
	p := mamba2ParamsOf(rc, heads, hd, state)
	p.ProjBias = rc.MambaProjBias
	for i, b := range m.Blocks {
		if kind, _ := nemotronLayerKind(rc, i); kind == "mamba" {
			b.Attention = newMamba2(b.Config.DModel, p)
		}
	}
	return nil
}

func nemotronHRules(cfg models.ModelConfig) []rule {
	norm := regexp.MustCompile(`^backbone\.layers\.(\d+)\.norm\.weight$`)
	return append([]rule{
		rename(`backbone\.embeddings\.weight`, "embed.weight"),
		{norm, func(m []string, a *mx.Array) (map[string]*mx.Array, error) {
			i, _ := strconv.Atoi(m[1])
			if i >= cfg.NLayers {
				return nil, fmt.Errorf("%s: no layer %d", m[0], i)
			}
			if cfg.BlockAt(i).Attention == "none" {
				return map[string]*mx.Array{"blocks." + m[1] + ".ffn_norm.weight": a}, nil
			}
			return map[string]*mx.Array{"blocks." + m[1] + ".attn_norm.weight": a}, nil
		}},
		rename(`backbone\.layers\.(\d+)\.mixer\.(q|k|v|o)_proj\.(weight|bias)`, "blocks.$1.attention.${2}_proj.$3"),
		rename(`backbone\.layers\.(\d+)\.mixer\.(up|down)_proj\.(weight|bias)`, "blocks.$1.ffn.$2.$3"),
	}, mambaBackboneRules...)
}
