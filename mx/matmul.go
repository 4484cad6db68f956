package mx

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Matmul is the matrix product with NumPy semantics: (..., M, K) @ (..., K, N) with broadcast
// batch dimensions; a 1-D operand is treated as a row (left) or column (right) vector and its
// dimension is removed from the result.
func Matmul(a, b *Array) *Array {
	if len(a.shape) == 0 || len(b.shape) == 0 {
		panic(fmt.Sprintf("mx.Matmul: scalar operand (shapes %v and %v)", a.shape, b.shape))
	}
	va, vb := len(a.shape) == 1, len(b.shape) == 1
	if va {
		a = Reshape(a, 1, a.shape[0])
	}
	if vb {
		b = Reshape(b, b.shape[0], 1)
	}
	m, k := a.shape[len(a.shape)-2], a.shape[len(a.shape)-1]
	k2, n := b.shape[len(b.shape)-2], b.shape[len(b.shape)-1]
	if k != k2 {
		panic(fmt.Sprintf("mx.Matmul: inner dimensions differ: %v @ %v", a.shape, b.shape))
	}
	batch := BroadcastShapes("Matmul", a.shape[:len(a.shape)-2], b.shape[:len(b.shape)-2])
	dt := resultType(a.dtype, b.dtype)
	if !dt.IsFloat() {
		dt = Float32
	}
	a, b = AsType(a, dt), AsType(b, dt)
	out := newArray(prim.Matmul{}, append(append([]int{}, batch...), m, n), dt, a, b)
	if va {
		out = Squeeze(out, -2)
	}
	if vb {
		out = Squeeze(out, -1)
	}
	return out
}

func init() {
	defVJP(func(_ prim.Matmul, node, c *Array) []*Array {
		a, b := node.inputs[0], node.inputs[1]
		ga := Matmul(c, SwapAxes(b, -1, -2))
		gb := Matmul(SwapAxes(a, -1, -2), c)
		return []*Array{sumToShape(ga, a.shape), sumToShape(gb, b.shape)}
	})
}
