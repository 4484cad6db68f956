package mx

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Conv1d convolves x (N, L, Cin) with the weight w (Cout, K, Cin/groups), channels last as in
// MLX, and gives (N, Lout, Cout) with Lout = (L + 2·padding - dilation·(K-1) - 1)/stride + 1.
// Output channel o of group g = o / (Cout/groups) sees input channels [g·Cin/groups,
// (g+1)·Cin/groups). Padding is symmetric zero padding; for a causal convolution pad the left
// end with Pad and pass padding 0. Depthwise convolutions (groups = Cin = Cout) take a fast path.
// Gradients flow to x and w.
func Conv1d(x, w *Array, stride, padding, dilation, groups int) *Array {
	if x.NDim() != 3 || w.NDim() != 3 {
		panic(fmt.Sprintf("mx.Conv1d: input %v and weight %v must be 3-d (N, L, Cin) and (Cout, K, Cin/groups)", x.shape, w.shape))
	}
	if stride < 1 || dilation < 1 || padding < 0 || groups < 1 {
		panic(fmt.Sprintf("mx.Conv1d: invalid stride %d, padding %d, dilation %d or groups %d (input %v, weight %v)",
			stride, padding, dilation, groups, x.shape, w.shape))
	}
	n, l, cin := x.shape[0], x.shape[1], x.shape[2]
	cout, k := w.shape[0], w.shape[1]
	if cin%groups != 0 || cout%groups != 0 || w.shape[2] != cin/groups {
		panic(fmt.Sprintf("mx.Conv1d: input %v and weight %v do not fit %d groups", x.shape, w.shape, groups))
	}
	span := dilation*(k-1) + 1
	if k < 1 || l+2*padding < span {
		panic(fmt.Sprintf("mx.Conv1d: kernel of %d taps with dilation %d spans more than input %v with padding %d", k, dilation, x.shape, padding))
	}
	lout := (l+2*padding-span)/stride + 1
	dt := floatType(resultType(x.dtype, w.dtype))
	op := prim.Conv1d{Stride: stride, Padding: padding, Dilation: dilation, Groups: groups}
	return newArray(op, []int{n, lout, cout}, dt, AsType(x, dt), AsType(w, dt))
}

func init() {
	defVJP(func(op prim.Conv1d, node, c *Array) []*Array {
		x, w := node.inputs[0], node.inputs[1]
		return []*Array{
			newArray(prim.Conv1dGradInput(op), x.shape, x.dtype, c, w),
			newArray(prim.Conv1dGradWeight(op), w.shape, w.dtype, x, c),
		}
	})
	// Both gradients are bilinear, so their own VJPs are convolutions again (second order).
	defVJP(func(op prim.Conv1dGradInput, node, g *Array) []*Array {
		c, w := node.inputs[0], node.inputs[1]
		return []*Array{
			newArray(prim.Conv1d(op), c.shape, c.dtype, g, w),
			newArray(prim.Conv1dGradWeight(op), w.shape, w.dtype, g, c),
		}
	})
	defVJP(func(op prim.Conv1dGradWeight, node, g *Array) []*Array {
		x, c := node.inputs[0], node.inputs[1]
		return []*Array{
			newArray(prim.Conv1dGradInput(op), x.shape, x.dtype, c, g),
			newArray(prim.Conv1d(op), c.shape, c.dtype, x, g),
		}
	})
}
