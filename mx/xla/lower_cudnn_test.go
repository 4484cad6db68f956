package xla_test

import (
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/xla"
)

// lowerCuDNN lowers the gradient program of bfloat16 attention with the given options, with the
// cuDNN calls enabled.
func lowerCuDNN(t *testing.T, o mx.AttentionOptions, lq int) string {
	t.Helper()
	return lowerCuDNNWith(t, o, lq, xla.Options{CuDNNAttention: true})
}

func lowerCuDNNWith(t *testing.T, o mx.AttentionOptions, lq int, opts xla.Options) string {
	t.Helper()
	f := func(a ...*mx.Array) []*mx.Array {
		h := func(x *mx.Array) *mx.Array { return mx.AsType(x, mx.BFloat16) }
		loss := func(b ...*mx.Array) *mx.Array {
			return mx.Sum(mx.AsType(mx.ScaledDotProductAttention(h(b[0]), h(b[1]), h(b[2]), o), mx.Float32), nil, false)
		}
		out := []*mx.Array{mx.ScaledDotProductAttention(h(a[0]), h(a[1]), h(a[2]), o)}
		return append(out, mx.Grad(loss, 0, 1, 2)(a...)...)
	}
	args := []*mx.Array{mx.Zeros([]int{2, 4, lq, 64}, mx.Float32), mx.Zeros([]int{2, 2, 16, 64}, mx.Float32), mx.Zeros([]int{2, 2, 16, 64}, mx.Float32)}
	p := mx.Compile(f).Program(args...)
	text, err := xla.Lower(p, opts)
	if err != nil {
		t.Fatalf("Lower: %v", err)
	}
	if err := xla.Verify(text); err != nil {
		t.Fatalf("Verify: %v\n%s", err, text)
	}
	return text
}

func TestLowerCuDNNAttention(t *testing.T) {
	text := lowerCuDNN(t, mx.AttentionOptions{Causal: true, Window: 5}, 16)
	wantOps(t, text, `call_target_name = "__cudnn$fmhaSoftmax"`, `call_target_name = "__cudnn$fmhaSoftmaxBackward"`,
		`\22mask_type\22:\22CAUSAL\22`, `\22sliding_window_length\22:5`, `\22fmha_scale\22:0.125`,
		`\22bmm1_grad_gemm1_dot_dimension_numbers\22`, `-> (tensor<2x4x16x64xbf16>, tensor<2x4x16xf32>, tensor<0xui8>)`,
		`-> (tensor<2x4x16x64xbf16>, tensor<2x2x16x64xbf16>, tensor<2x2x16x64xbf16>, tensor<0xui8>)`)
	if n := strings.Count(text, `"stablehlo.custom_call"`); n != 3 {
		t.Errorf("%d custom calls, want 3 (inference forward, training forward, backward)", n)
	}
	if strings.Contains(text, "stablehlo.exponential") {
		t.Errorf("the scores are still computed in HLO:\n%s", text)
	}
	if !strings.Contains(lowerCuDNN(t, mx.AttentionOptions{}, 16), `\22mask_type\22:\22NO_MASK\22`) {
		t.Errorf("attention without a mask is not NO_MASK")
	}
	// Patterns cuDNN's calls do not cover keep the plain lowering.
	for name, o := range map[string]mx.AttentionOptions{"chunked": {Causal: true, Chunk: 4}, "window without causality": {Window: 3}} {
		if strings.Contains(lowerCuDNN(t, o, 16), "custom_call") {
			t.Errorf("%s attention lowered to cuDNN", name)
		}
	}
	if strings.Contains(lowerCuDNN(t, mx.AttentionOptions{Causal: true}, 8), "custom_call") {
		t.Errorf("attention with Lq != Lk lowered to cuDNN")
	}
}

// With CuDNNLayoutBTNH the calls' (B, H, L, D) operands and results are laid out as (B, L, H, D).
func TestLowerCuDNNLayoutBTNH(t *testing.T) {
	text := lowerCuDNNWith(t, mx.AttentionOptions{Causal: true}, 16, xla.Options{CuDNNAttention: true, CuDNNLayoutBTNH: true})
	b, r3, r1 := "dense<[3, 1, 2, 0]> : tensor<4xindex>", "dense<[2, 1, 0]> : tensor<3xindex>", "dense<0> : tensor<1xindex>"
	wantOps(t, text,
		"operand_layouts = ["+b+", "+b+", "+b+"], result_layouts = ["+b+", "+r3+", "+r1+"]",
		"operand_layouts = ["+b+", "+b+", "+b+", "+r3+", "+b+", "+b+"], result_layouts = ["+b+", "+b+", "+b+", "+r1+"]")
}
