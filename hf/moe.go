package hf

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Mixtral and Qwen3-MoE are Llama (Qwen 3: with qk-norm) whose FFN is a sparse mixture of
// gated experts: a linear router scores the experts, the softmax probabilities of the top k are
// (renormalised to sum to 1 when norm_topk_prob, always for Mixtral and) used to weight those
// experts' outputs. Load replaces the FFN of every MoE layer with a MoE module (adaptMoE).

// moeConfig maps a mixtral or qwen3_moe config.json: the shared block is Llama's (dense layers,
// if any, use intermediate_size).
func moeConfig(rc rawConfig) (models.ModelConfig, error) {
	cfg, err := llamaFamilyConfig(rc)
	if err != nil {
		return cfg, err
	}
	cfg.Block.QKNorm = rc.ModelType == "qwen3_moe"
	if experts(rc) <= 0 || rc.NumExpertsPerTok <= 0 || rc.NumExpertsPerTok > experts(rc) {
		return cfg, fmt.Errorf("%s: need 0 < num_experts_per_tok (%d) <= experts (%d)", rc.ModelType, rc.NumExpertsPerTok, experts(rc))
	}
	return cfg, nil
}

func experts(rc rawConfig) int {
	if rc.NumLocalExperts > 0 {
		return rc.NumLocalExperts
	}
	return rc.NumExperts
}

// isMoELayer reports whether layer i has experts (Qwen3-MoE may keep some layers dense).
func isMoELayer(rc rawConfig, i int) bool {
	if rc.ModelType != "qwen3_moe" {
		return true
	}
	step := max(rc.DecoderSparseStep, 1)
	return !slices.Contains(rc.MLPOnlyLayers, i) && (i+1)%step == 0
}

// adaptMoE replaces the FFN of every MoE layer.
func adaptMoE(rc rawConfig, m *models.LanguageModel) error {
	dff := rc.IntermediateSize
	if rc.ModelType == "qwen3_moe" && rc.MoeIntermediateSize > 0 {
		dff = rc.MoeIntermediateSize
	}
	for i, b := range m.Blocks {
		if !isMoELayer(rc, i) {
			continue
		}
		d := b.Config.DModel
		moe := &MoE{Router: nn.NewLinear(d, experts(rc), false, nil), TopK: rc.NumExpertsPerTok,
			Normalize: rc.ModelType == "mixtral" || rc.NormTopKProb}
		act := b.Config.Activation
		if act == "" {
			act = "silu"
		}
		for range experts(rc) {
			moe.Experts = append(moe.Experts, &core.MLP{Gate: nn.NewLinear(d, dff, false, nil),
				Up: nn.NewLinear(d, dff, false, nil), Down: nn.NewLinear(dff, d, false, nil), Activation: act})
		}
		b.FFN = moe
	}
	return nil
}

// MoE is a sparse mixture of gated experts with softmax top-k routing. Every expert is evaluated
// on every token and weighted by its routing weight (0 when not chosen), which gives the sparse
// result exactly and suits the small models this loader checks.
type MoE struct {
	Router  *nn.Linear
	Experts []*core.MLP
	// Shared, when set, sees every token; SharedGate, when set, scales its output by
	// sigmoid(SharedGate(x)) (Qwen3-Next).
	Shared     *core.MLP  `nn:"shared_expert"`
	SharedGate *nn.Linear `nn:"shared_expert_gate"`
	TopK       int        `nn:"-"`
	Normalize  bool       `nn:"-"` // renormalise the top-k probabilities to sum to 1
}

// Forward routes each position of x (B, L, d) to its top-k experts.
func (e *MoE) Forward(x *mx.Array, ctx *core.Context) *mx.Array {
	probs := mx.Softmax(mx.AsType(e.Router.Forward(x), mx.Float32), -1)
	vals, idx := mx.TopK(probs, e.TopK, -1)
	if e.Normalize {
		vals = mx.Div(vals, mx.Sum(vals, []int{-1}, true))
	}
	w := mx.AsType(mx.PutAlongAxis(mx.ZerosLike(probs), idx, vals, -1), x.DType())
	out := mixExperts(e.Experts, x, w, ctx)
	if e.Shared != nil {
		sh := e.Shared.Forward(x, ctx)
		if e.SharedGate != nil {
			sh = mx.Mul(sh, mx.Sigmoid(e.SharedGate.Forward(x)))
		}
		out = mx.Add(out, sh)
	}
	return out
}

var mixtralRules = append([]rule{
	rename(`model\.layers\.(\d+)\.block_sparse_moe\.gate\.weight`, "blocks.$1.ffn.router.weight"),
	rename(`model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.w1\.weight`, "blocks.$1.ffn.experts.$2.gate.weight"),
	rename(`model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.w2\.weight`, "blocks.$1.ffn.experts.$2.down.weight"),
	rename(`model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.w3\.weight`, "blocks.$1.ffn.experts.$2.up.weight"),
}, llamaRules...)

var qwen3MoERules = append([]rule{
	rename(`model\.layers\.(\d+)\.mlp\.gate\.weight`, "blocks.$1.ffn.router.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.gate_proj\.weight`, "blocks.$1.ffn.experts.$2.gate.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.up_proj\.weight`, "blocks.$1.ffn.experts.$2.up.weight"),
	rename(`model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.down_proj\.weight`, "blocks.$1.ffn.experts.$2.down.weight"),
}, llamaRules...)
