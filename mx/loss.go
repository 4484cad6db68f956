package mx

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// CrossEntropy gives the per-row loss -log softmax(logits)[target] for logits (..., V) and
// integer targets (...) with the leading shape of logits. A negative target marks a row to
// ignore: its loss and gradient are 0. One fused kernel computes each row's log-sum-exp without
// materializing the softmax. Half-precision logits are computed in float32 and the losses are
// float32 (float64 for float64 logits). Gradients flow to the logits.
func CrossEntropy(logits, targets *Array) *Array {
	if logits.NDim() == 0 {
		panic(fmt.Sprintf("mx.CrossEntropy: logits must have a class axis, got shape %v", logits.shape))
	}
	lead := logits.shape[:logits.NDim()-1]
	if !slices.Equal(targets.shape, lead) {
		panic(fmt.Sprintf("mx.CrossEntropy: targets of shape %v for logits of shape %v (want %v)", targets.shape, logits.shape, lead))
	}
	if !targets.dtype.IsInteger() {
		panic(fmt.Sprintf("mx.CrossEntropy: targets must be integers, got %s", targets.dtype))
	}
	v := logits.shape[logits.NDim()-1]
	n := targets.Size()
	l2 := Reshape(AsType(logits, floatType(logits.dtype)), n, v)
	t2 := Reshape(targets, n)
	out := newArray(prim.CrossEntropy{}, []int{n}, gradType(l2.dtype), l2, t2)
	return Reshape(out, lead...)
}

func init() {
	defVJP(func(_ prim.CrossEntropy, node, c *Array) []*Array {
		logits, targets := node.inputs[0], node.inputs[1]
		g := newArray(prim.CrossEntropyGrad{}, logits.shape, logits.dtype, logits, targets, c)
		return []*Array{g, nil}
	})
}
