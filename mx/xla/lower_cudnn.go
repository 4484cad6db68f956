package xla

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// cuDNN fused attention. On the GPU, attention on bfloat16 or float16 operands lowers to XLA's
// cuDNN flash-attention custom calls (__cudnn$fmhaSoftmax and its backward) instead of plain HLO,
// so the (Lq, Lk) scores are never written to memory. The calls take q (B, Hq, L, D), k and v
// (B, Hkv, L, D) as they are (cuDNN's BNTH layout; grouped KV heads natively) and return the
// output in the operands' dtype plus, for training, the float32 row log-sum-exps (B, Hq, L),
// which the backward call takes back together with the output and its cotangent. Patterns the
// calls do not cover (explicit masks, chunked attention, Lq ≠ Lk, a window without causality,
// head sizes over 128 or not a multiple of 8, float32 operands) keep the plain lowering.

// cudnnAttentionOK reports whether an attention node with these fields and operands can use the
// cuDNN calls.
func (l *lowerer) cudnnAttentionOK(hasMask bool, mask prim.AttentionMask, n *prim.Node) bool {
	if !l.opts.CuDNNAttention || hasMask || mask.Chunk > 0 || (mask.Window > 0 && !mask.Causal) {
		return false
	}
	q, k, v := l.in(n, 0), l.in(n, 1), l.in(n, 2)
	dt := q.dtype()
	if (dt != prim.BFloat16 && dt != prim.Float16) || k.dtype() != dt || v.dtype() != dt {
		return false
	}
	d, dv := q.shape()[3], v.shape()[3]
	return q.shape()[2] == k.shape()[2] && d == dv && d <= 128 && d%8 == 0
}

// fmhaDims are a dot's dimension numbers in the backend config's spelling.
type fmhaDims struct {
	LhsContracting []string `json:"lhs_contracting_dimensions"`
	RhsContracting []string `json:"rhs_contracting_dimensions"`
	LhsBatch       []string `json:"lhs_batch_dimensions"`
	RhsBatch       []string `json:"rhs_batch_dimensions"`
}

// bnthDims are the dimension numbers of a batched product over (B, H) of two BNTH-shaped
// operands contracting lhs dimension lc with rhs dimension rc.
func bnthDims(lc, rc int) *fmhaDims {
	return &fmhaDims{LhsContracting: []string{strconv.Itoa(lc)}, RhsContracting: []string{strconv.Itoa(rc)},
		LhsBatch: []string{"0", "1"}, RhsBatch: []string{"0", "1"}}
}

// fmhaConfig is XLA's CudnnfMHABackendConfig (inside a GpuBackendConfig) as JSON.
type fmhaConfig struct {
	Algorithm struct {
		AlgoID          string            `json:"algo_id"`
		MathType        string            `json:"math_type"`
		TuningKnobs     map[string]string `json:"tuning_knobs"`
		IsCudnnFrontend bool              `json:"is_cudnn_frontend"`
		WorkspaceSize   string            `json:"workspace_size"`
	} `json:"algorithm"`
	Scale        float64 `json:"fmha_scale"`
	DropoutRate  float64 `json:"dropout_rate"`
	Intermediate struct {
		ElementType string   `json:"element_type"`
		Dimensions  []string `json:"dimensions"`
		TupleShapes []any    `json:"tuple_shapes"`
		Layout      struct {
			MinorToMajor []string `json:"minor_to_major"`
		} `json:"layout"`
		IsDynamic []bool `json:"is_dynamic_dimension"`
	} `json:"intermediate_tensor_shape"`
	Seed          int    `json:"seed"`
	IsFlash       bool   `json:"is_flash_attention"`
	MaskType      string `json:"mask_type"`
	SlidingWindow int    `json:"sliding_window_length"`
	MaxSegments   int    `json:"max_seg_per_batch"`

	BMM1 *fmhaDims `json:"bmm1_dot_dimension_numbers,omitempty"`
	BMM2 *fmhaDims `json:"bmm2_dot_dimension_numbers,omitempty"`
	// The backward call's four products: dK = dSᵀ·Q, dQ = dS·K, dV = Pᵀ·dO, dP = dO·Vᵀ.
	BMM1Grad1 *fmhaDims `json:"bmm1_grad_gemm1_dot_dimension_numbers,omitempty"`
	BMM1Grad2 *fmhaDims `json:"bmm1_grad_gemm2_dot_dimension_numbers,omitempty"`
	BMM2Grad1 *fmhaDims `json:"bmm2_grad_gemm1_dot_dimension_numbers,omitempty"`
	BMM2Grad2 *fmhaDims `json:"bmm2_grad_gemm2_dot_dimension_numbers,omitempty"`
}

// fmhaBackendConfig is the backend_config string of a cuDNN attention call of q (B, Hq, L, D).
func fmhaBackendConfig(scale float64, mask prim.AttentionMask, q value, backward bool) string {
	var c fmhaConfig
	c.Algorithm.AlgoID = "0"
	c.Algorithm.MathType = "TENSOR_OP_MATH"
	c.Algorithm.TuningKnobs = map[string]string{"17": "1", "24": "0"}
	c.Algorithm.IsCudnnFrontend = true
	c.Algorithm.WorkspaceSize = "0"
	c.Scale = scale
	b, h, t := q.shape()[0], q.shape()[1], q.shape()[2]
	c.Intermediate.ElementType = strings.ToUpper(elemName(q.dtype()))
	c.Intermediate.Dimensions = []string{strconv.Itoa(b), strconv.Itoa(h), strconv.Itoa(t), strconv.Itoa(t)}
	c.Intermediate.TupleShapes = []any{}
	c.Intermediate.Layout.MinorToMajor = []string{"3", "2", "1", "0"}
	c.Intermediate.IsDynamic = []bool{false, false, false, false}
	c.Seed = 42
	c.IsFlash = true
	c.MaskType = "NO_MASK"
	if mask.Causal {
		c.MaskType = "CAUSAL"
		c.SlidingWindow = mask.Window // keys pos-Window < j <= pos: Window keys, the query's own included
	}
	c.MaxSegments = 1
	if backward {
		c.BMM1Grad1, c.BMM1Grad2 = bnthDims(2, 2), bnthDims(3, 2)
		c.BMM2Grad1, c.BMM2Grad2 = bnthDims(2, 2), bnthDims(3, 3)
	} else {
		c.BMM1, c.BMM2 = bnthDims(3, 3), bnthDims(3, 2)
	}
	cfg := struct {
		Queue string     `json:"operation_queue_id"`
		Wait  []string   `json:"wait_on_operation_queues"`
		FMHA  fmhaConfig `json:"cudnn_fmha_backend_config"`
	}{Queue: "0", Wait: []string{}, FMHA: c}
	js, err := json.Marshal(cfg)
	if err != nil {
		failf("cuDNN attention config: %v", err)
	}
	return string(js)
}

// mlirString quotes s as an MLIR string literal (quotes and backslashes as hex escapes).
func mlirString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\5C`)
	return `"` + strings.ReplaceAll(s, `"`, `\22`) + `"`
}

// customCall emits a stablehlo.custom_call. layout gives the minor-to-major layout of operand i
// (results follow the operands: index len(operands)+j), nil for row-major.
func (f *fn) customCall(target, backendConfig string, operands []value, layout func(i int) []int, results ...tensorType) []value {
	layouts := func(ts []tensorType, base int) string {
		parts := make([]string, len(ts))
		for i, t := range ts {
			dims := layout(base + i)
			if dims == nil {
				dims = make([]int, t.rank())
				for j := range dims {
					dims[j] = t.rank() - 1 - j
				}
			}
			parts[i] = "dense<" + intList(dims) + "> : tensor<" + strconv.Itoa(t.rank()) + "xindex>"
			if t.rank() == 1 {
				parts[i] = "dense<0> : tensor<1xindex>"
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	opTypes := make([]tensorType, len(operands))
	for i, o := range operands {
		opTypes[i] = o.t
	}
	attrs := "api_version = 2 : i32, backend_config = " + mlirString(backendConfig) +
		", call_target_name = " + mlirString(target) +
		", operand_layouts = " + layouts(opTypes, 0) + ", result_layouts = " + layouts(results, len(operands))
	return f.emit("stablehlo.custom_call", operands, nil, attrs, results...)
}

// btnh is the minor-to-major layout that stores a (B, H, L, D) tensor as (B, L, H, D): the
// layout of the projections' output, so XLA needs no transposes around the calls.
var btnh = []int{3, 1, 2, 0}

// fmhaLayout is the layout function of a cuDNN attention call whose operands and results
// listed in seq (their indices) are (B, H, L, D) tensors, with Options.CuDNNLayoutBTNH.
func (l *lowerer) fmhaLayout(seq ...int) func(int) []int {
	return func(i int) []int {
		if l.opts.CuDNNLayoutBTNH && slices.Contains(seq, i) {
			return btnh
		}
		return nil
	}
}

// cudnnForward runs cuDNN attention on q, k, v; with stats it also returns the float32 row
// log-sum-exps (B, Hq, L).
func (l *lowerer) cudnnForward(scale float64, mask prim.AttentionMask, q, k, v value, stats bool) (o, lse value) {
	b, h, t := q.shape()[0], q.shape()[1], q.shape()[2]
	res := []tensorType{q.t}
	if stats {
		res = append(res, tt(prim.Float32, b, h, t))
	}
	res = append(res, tt(prim.Uint8, 0))
	// Operands q, k, v (0-2), results: the output (3), then stats and workspace.
	out := l.f.customCall("__cudnn$fmhaSoftmax", fmhaBackendConfig(scale, mask, q, false), []value{q, k, v}, l.fmhaLayout(0, 1, 2, 3), res...)
	if stats {
		return out[0], out[1]
	}
	return out[0], value{}
}

// cudnnAttention is attention's output through cuDNN.
func (l *lowerer) cudnnAttention(op prim.ScaledDotProductAttention, n *prim.Node) value {
	o, _ := l.cudnnForward(op.Scale, op.Mask, l.in(n, 0), l.in(n, 1), l.in(n, 2), false)
	return l.f.convert(o, n.DType)
}

// cudnnAttentionLSE packs cuDNN's output (rounded to the operands' half type, then widened) and
// its row log-sum-exps like attentionLSE.
func (l *lowerer) cudnnAttentionLSE(op prim.ScaledDotProductAttentionLSE, n *prim.Node) value {
	f := l.f
	o, lse := l.cudnnForward(op.Scale, op.Mask, l.in(n, 0), l.in(n, 1), l.in(n, 2), true)
	o, lse = f.convert(o, n.DType), f.convert(lse, n.DType)
	return f.concat(0, f.reshape(o, o.t.size()), f.reshape(lse, lse.t.size()))
}

// cudnnAttentionGrad packs dq, dk, dv from cuDNN's backward call. It needs the output's
// cotangent alone (a cotangent on the log-sum-exps has no place in the call; the caller keeps
// the plain lowering then) and takes the forward output and statistics from the packed
// ScaledDotProductAttentionLSE input, or recomputes them.
func (l *lowerer) cudnnAttentionGrad(op prim.ScaledDotProductAttentionGrad, n *prim.Node) (value, bool) {
	f := l.f
	q, k, v := l.in(n, 0), l.in(n, 1), l.in(n, 2)
	b, h, t, d := q.shape()[0], q.shape()[1], q.shape()[2], q.shape()[3]
	no, rows := b*h*t*d, b*h*t
	cot := l.in(n, len(n.Inputs)-1)
	if cot.t.size() != no {
		return value{}, false
	}
	var o, lse value
	if len(n.Inputs) == 5 {
		fwd := l.in(n, 3)
		o = f.convert(f.reshape(f.sliceAxis(fwd, 0, 0, no), b, h, t, d), q.dtype())
		lse = f.convert(f.reshape(f.sliceAxis(fwd, 0, no, no+rows), b, h, t), prim.Float32)
	} else {
		o, lse = l.cudnnForward(op.Scale, op.Mask, q, k, v, true)
	}
	dout := f.convert(f.reshape(cot, b, h, t, d), q.dtype())
	// Operands q, k, v, stats, dO, O (0-5); results dq, dk, dv (6-8), workspace.
	out := f.customCall("__cudnn$fmhaSoftmaxBackward", fmhaBackendConfig(op.Scale, op.Mask, q, true),
		[]value{q, k, v, lse, dout, o}, l.fmhaLayout(0, 1, 2, 4, 5, 6, 7, 8), q.t, k.t, v.t, tt(prim.Uint8, 0))
	ct := n.DType
	parts := make([]value, 3)
	for i := range parts {
		parts[i] = f.reshape(f.convert(out[i], ct), out[i].t.size())
	}
	return f.concat(0, parts...), true
}
