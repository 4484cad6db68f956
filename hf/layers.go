package hf

import (
	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/mx"
)

// causalConv is the depthwise causal convolution of the recurrent mixers (Mamba, Mamba-2,
// DeltaNet): x (B, L, C) is prefixed with the cached last kernel-1 inputs state (B, K-1, C) and
// convolved channel by channel with weight, stored as in the checkpoints (C, 1, K). It returns the
// pre-activation output (B, L, C), bias added when given, and the new state.
func causalConv(x, state, weight, bias *mx.Array, kernel int) (y, newState *mx.Array) {
	l, c := x.Dim(1), x.Dim(2)
	xp := mx.Concatenate([]*mx.Array{mx.AsType(state, x.DType()), x}, 1)
	y = mx.Conv1d(xp, mx.Reshape(weight, c, kernel, 1), 1, 0, 1, c)
	if bias != nil {
		y = mx.Add(y, bias)
	}
	return y, mx.SliceAxis(xp, 1, l, l+kernel-1)
}

// mixExperts sums the experts' outputs on x weighted by w (..., E), one weight column per expert
// (zero for experts a token did not select).
func mixExperts(experts []*core.MLP, x, w *mx.Array, ctx *core.Context) *mx.Array {
	var out *mx.Array
	for i, ex := range experts {
		y := mx.Mul(ex.Forward(x, ctx), mx.SliceAxis(w, -1, i, i+1))
		if out == nil {
			out = y
		} else {
			out = mx.Add(out, y)
		}
	}
	return out
}
