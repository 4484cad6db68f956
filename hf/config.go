// Package hf loads Hugging Face checkpoints into lmxlab models: it maps a checkpoint folder's
// config.json onto a ModelConfig, renames (and where needed transposes or splits) the tensors of
// its model.safetensors files into lmxlab's parameter names, and checks the result against
// reference outputs.
//
// Data flow: config.json → ModelConfig (per model_type) → models.Build → every lmxlab parameter is
// filled from the checkpoint, strictly: a parameter the checkpoint lacks, a tensor nothing maps,
// or a shape mismatch is an error naming the tensor, never a silent drop.
//
// Architectures whose layers the core block cannot express (Gemma 2/3 post norms and
// soft-capping, mixtures of experts, GPT-NeoX's parallel residual, Llama 4, DeepSeek's MLA,
// Mamba, DeltaNet and hybrids) get their special components from this package: Load builds the
// model from the ModelConfig and then replaces those blocks' mixers or FFNs (adapt.go), so the
// ModelConfig alone describes only the shared skeleton. Each architecture's file documents the
// transformers semantics it follows.
package hf

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
)

// rawConfig holds the config.json fields the supported architectures use.
type rawConfig struct {
	ModelType string `json:"model_type"`
	VocabSize int    `json:"vocab_size"`
	// Llama family
	HiddenSize            int             `json:"hidden_size"`
	IntermediateSize      int             `json:"intermediate_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      int             `json:"num_key_value_heads"`
	HeadDim               int             `json:"head_dim"`
	HiddenAct             string          `json:"hidden_act"`
	RMSNormEps            float64         `json:"rms_norm_eps"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	RopeTheta             float64         `json:"rope_theta"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	RopeParameters        json.RawMessage `json:"rope_parameters"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	AttentionBias         *bool           `json:"attention_bias"`
	MLPBias               bool            `json:"mlp_bias"`
	SlidingWindow         *int            `json:"sliding_window"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	// Gemma family
	HiddenActivation      string   `json:"hidden_activation"`
	AttnLogitSoftcapping  *float64 `json:"attn_logit_softcapping"`
	FinalLogitSoftcapping *float64 `json:"final_logit_softcapping"`
	QueryPreAttnScalar    float64  `json:"query_pre_attn_scalar"`
	LayerTypes            []string `json:"layer_types"`
	RopeLocalBaseFreq     float64  `json:"rope_local_base_freq"`
	// Mixture of experts
	NumLocalExperts     int   `json:"num_local_experts"`
	NumExperts          int   `json:"num_experts"`
	NumExpertsPerTok    int   `json:"num_experts_per_tok"`
	NormTopKProb        bool  `json:"norm_topk_prob"`
	MoeIntermediateSize int   `json:"moe_intermediate_size"`
	DecoderSparseStep   int   `json:"decoder_sparse_step"`
	MLPOnlyLayers       []int `json:"mlp_only_layers"`
	// Llama 4
	AttentionChunkSize     int     `json:"attention_chunk_size"`
	NoRopeLayers           []int   `json:"no_rope_layers"`
	NoRopeLayerInterval    int     `json:"no_rope_layer_interval"`
	UseQKNorm              bool    `json:"use_qk_norm"`
	IntermediateSizeMLP    int     `json:"intermediate_size_mlp"`
	MoeLayers              []int   `json:"moe_layers"`
	InterleaveMoeLayerStep int     `json:"interleave_moe_layer_step"`
	AttnTemperatureTuning  bool    `json:"attn_temperature_tuning"`
	AttnScale              float64 `json:"attn_scale"`
	FloorScale             float64 `json:"floor_scale"`
	// DeepSeek
	QLoraRank           *int    `json:"q_lora_rank"`
	KVLoraRank          int     `json:"kv_lora_rank"`
	QKNopeHeadDim       int     `json:"qk_nope_head_dim"`
	QKRopeHeadDim       int     `json:"qk_rope_head_dim"`
	VHeadDim            int     `json:"v_head_dim"`
	NRoutedExperts      int     `json:"n_routed_experts"`
	NSharedExperts      int     `json:"n_shared_experts"`
	FirstKDenseReplace  int     `json:"first_k_dense_replace"`
	MoeLayerFreq        int     `json:"moe_layer_freq"`
	RoutedScalingFactor float64 `json:"routed_scaling_factor"`
	TopkMethod          string  `json:"topk_method"`
	NGroup              int     `json:"n_group"`
	TopkGroup           int     `json:"topk_group"`
	// Mamba-2
	NumHeads    int   `json:"num_heads"`
	StateSize   int   `json:"state_size"`
	Expand      int   `json:"expand"`
	NGroups     int   `json:"n_groups"`
	ConvKernel  int   `json:"conv_kernel"`
	UseConvBias *bool `json:"use_conv_bias"`
	UseBias     bool  `json:"use_bias"`
	// Nemotron-H
	LayersBlockType       []string `json:"layers_block_type"`
	HybridOverridePattern string   `json:"hybrid_override_pattern"`
	MambaNumHeads         int      `json:"mamba_num_heads"`
	MambaHeadDim          int      `json:"mamba_head_dim"`
	SSMStateSize          int      `json:"ssm_state_size"`
	MambaProjBias         bool     `json:"mamba_proj_bias"`
	MLPHiddenAct          string   `json:"mlp_hidden_act"`
	// Falcon-H1 (and Jamba's mamba_* fields)
	MambaNHeads            int       `json:"mamba_n_heads"`
	MambaDHead             int       `json:"mamba_d_head"`
	MambaDState            int       `json:"mamba_d_state"`
	MambaNGroups           int       `json:"mamba_n_groups"`
	MambaDConv             int       `json:"mamba_d_conv"`
	MambaDSSM              int       `json:"mamba_d_ssm"`
	MambaExpand            int       `json:"mamba_expand"`
	MambaDtRank            int       `json:"mamba_dt_rank"`
	MambaConvBias          *bool     `json:"mamba_conv_bias"`
	MambaRMSNorm           bool      `json:"mamba_rms_norm"`
	EmbeddingMultiplier    *float64  `json:"embedding_multiplier"`
	AttentionInMultiplier  *float64  `json:"attention_in_multiplier"`
	AttentionOutMultiplier *float64  `json:"attention_out_multiplier"`
	SSMInMultiplier        *float64  `json:"ssm_in_multiplier"`
	SSMOutMultiplier       *float64  `json:"ssm_out_multiplier"`
	KeyMultiplier          *float64  `json:"key_multiplier"`
	LMHeadMultiplier       *float64  `json:"lm_head_multiplier"`
	MLPMultipliers         []float64 `json:"mlp_multipliers"`
	SSMMultipliers         []float64 `json:"ssm_multipliers"`
	// Jamba
	AttnLayerPeriod   int `json:"attn_layer_period"`
	AttnLayerOffset   int `json:"attn_layer_offset"`
	ExpertLayerPeriod int `json:"expert_layer_period"`
	ExpertLayerOffset int `json:"expert_layer_offset"`
	// Qwen3-Next
	LinearNumKeyHeads            int `json:"linear_num_key_heads"`
	LinearNumValueHeads          int `json:"linear_num_value_heads"`
	LinearKeyHeadDim             int `json:"linear_key_head_dim"`
	LinearValueHeadDim           int `json:"linear_value_head_dim"`
	LinearConvKernelDim          int `json:"linear_conv_kernel_dim"`
	SharedExpertIntermediateSize int `json:"shared_expert_intermediate_size"`
	// GPT-NeoX
	LayerNormEps        float64 `json:"layer_norm_eps"`
	UseParallelResidual *bool   `json:"use_parallel_residual"`
	RotaryPct           float64 `json:"rotary_pct"`
	RotaryEmbBase       float64 `json:"rotary_emb_base"`
	// GPT-2
	NEmbd              int     `json:"n_embd"`
	NLayer             int     `json:"n_layer"`
	NHead              int     `json:"n_head"`
	NInner             *int    `json:"n_inner"`
	NPositions         int     `json:"n_positions"`
	LayerNormEpsilon   float64 `json:"layer_norm_epsilon"`
	ActivationFunction string  `json:"activation_function"`
}

// ropeParams is the union of transformers 5's rope_parameters and older rope_scaling.
type ropeParams struct {
	RopeTheta                     float64 `json:"rope_theta"`
	RopeType                      string  `json:"rope_type"`
	Type                          string  `json:"type"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor"`
	HighFreqFactor                float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings"`
	PartialRotaryFactor           float64 `json:"partial_rotary_factor"`
}

// ReadConfig reads dir/config.json and maps it to a ModelConfig.
func ReadConfig(dir string) (models.ModelConfig, string, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return models.ModelConfig{}, "", err
	}
	var rc rawConfig
	if err := json.Unmarshal(data, &rc); err != nil {
		return models.ModelConfig{}, "", fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := mapConfig(rc)
	if err != nil {
		return cfg, rc.ModelType, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, rc.ModelType, cfg.Validate()
}

func mapConfig(rc rawConfig) (models.ModelConfig, error) {
	switch rc.ModelType {
	case "gpt2":
		return gpt2Config(rc), nil
	case "llama", "mistral", "qwen2":
		return llamaFamilyConfig(rc)
	case "qwen3":
		cfg, err := llamaFamilyConfig(rc)
		cfg.Block.QKNorm = true // RMSNorm over head_dim on q and k before RoPE, eps rms_norm_eps
		return cfg, err
	case "phi3":
		return phi3Config(rc)
	case "mixtral", "qwen3_moe":
		return moeConfig(rc)
	case "gpt_neox":
		return neoxConfig(rc)
	case "llama4_text":
		return llama4Config(rc)
	case "deepseek_v2", "deepseek_v3":
		return deepseekConfig(rc)
	case "mamba2":
		return mamba2Config(rc)
	case "nemotron_h":
		return nemotronHConfig(rc)
	case "falcon_h1":
		return falconH1Config(rc)
	case "jamba":
		return jambaConfig(rc)
	case "qwen3_next":
		return qwen3NextConfig(rc)
	case "gemma", "gemma2", "gemma3_text":
		return gemmaConfig(rc)
	case "":
		return models.ModelConfig{}, fmt.Errorf("config has no model_type")
	}
	return models.ModelConfig{}, fmt.Errorf("model_type %q is not supported yet (supported: %s)", rc.ModelType, supportedTypes)
}

// supportedTypes lists the model_types mapConfig accepts, for error messages.
const supportedTypes = "gpt2, llama, mistral, qwen2, qwen3, phi3, gemma, gemma2, gemma3_text, mixtral, qwen3_moe, gpt_neox, llama4_text, deepseek_v2, deepseek_v3, mamba2, nemotron_h, falcon_h1, jamba, qwen3_next"

func gpt2Config(rc rawConfig) models.ModelConfig {
	b := core.DefaultBlockConfig()
	b.Attention, b.FFN, b.Norm, b.Position = "mha", "standard", "layer_norm", "learned"
	b.DModel, b.NHeads, b.MaxSeqLen, b.Bias = rc.NEmbd, rc.NHead, rc.NPositions, true
	b.DFF = 4 * rc.NEmbd
	if rc.NInner != nil {
		b.DFF = *rc.NInner
	}
	b.NormEps = rc.LayerNormEpsilon
	b.Activation = rc.ActivationFunction
	if b.Activation == "" {
		b.Activation = "gelu_new"
	}
	tie := true
	if rc.TieWordEmbeddings != nil {
		tie = *rc.TieWordEmbeddings
	}
	return models.ModelConfig{Block: b, VocabSize: rc.VocabSize, NLayers: rc.NLayer, TieEmbeddings: tie, Name: "gpt2"}
}

func llamaFamilyConfig(rc rawConfig) (models.ModelConfig, error) {
	b := core.DefaultBlockConfig()
	b.Attention, b.FFN, b.Norm, b.Position = "gqa", "gated", "rms_norm", "rope"
	b.DModel, b.NHeads, b.NKVHeads, b.DFF = rc.HiddenSize, rc.NumAttentionHeads, rc.NumKeyValueHeads, rc.IntermediateSize
	b.HeadDim, b.NormEps, b.MaxSeqLen = rc.HeadDim, rc.RMSNormEps, rc.MaxPositionEmbeddings
	if b.HeadDim == rc.HiddenSize/max(rc.NumAttentionHeads, 1) {
		b.HeadDim = 0 // the default
	}
	b.Bias = rc.MLPBias
	qkv := rc.AttentionBias != nil && *rc.AttentionBias
	out := qkv
	if rc.ModelType == "qwen2" {
		qkv, out = true, false
	}
	b.QKVBias, b.OutBias = &qkv, &out
	b.Activation = rc.HiddenAct
	if b.Activation == "" {
		b.Activation = "silu"
	}
	b.RopeTheta = rc.RopeTheta
	var rp ropeParams
	for _, raw := range []json.RawMessage{rc.RopeScaling, rc.RopeParameters} {
		if len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &rp); err != nil {
				return models.ModelConfig{}, fmt.Errorf("rope parameters: %w", err)
			}
		}
	}
	if rp.RopeTheta > 0 {
		b.RopeTheta = rp.RopeTheta
	}
	if b.RopeTheta == 0 {
		b.RopeTheta = 10000
	}
	if f := rp.PartialRotaryFactor; f > 0 && f < 1 {
		b.RopeDims = int(f * float64(b.HeadDimension())) // rotate the first features only
	}
	typ := rp.RopeType
	if typ == "" {
		typ = rp.Type
	}
	switch typ {
	case "", "default":
	case "linear", "llama3":
		b.RopeScaling = &core.RopeScaling{Type: typ, Factor: rp.Factor, LowFreqFactor: rp.LowFreqFactor,
			HighFreqFactor: rp.HighFreqFactor, OriginalMaxPositionEmbeddings: rp.OriginalMaxPositionEmbeddings}
	default:
		return models.ModelConfig{}, fmt.Errorf("rope type %q is not supported (default, linear, llama3)", typ)
	}
	useWindow := rc.SlidingWindow != nil && *rc.SlidingWindow > 0
	if rc.UseSlidingWindow != nil && !*rc.UseSlidingWindow {
		useWindow = false
	}
	if useWindow {
		b.Attention, b.WindowSize = "sliding_window_gqa", *rc.SlidingWindow
	}
	tie := false
	if rc.TieWordEmbeddings != nil {
		tie = *rc.TieWordEmbeddings
	}
	return models.ModelConfig{Block: b, VocabSize: rc.VocabSize, NLayers: rc.NumHiddenLayers, TieEmbeddings: tie, Name: rc.ModelType}, nil
}
