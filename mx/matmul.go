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
	out := matmul("Matmul", a, b, false, false)
	if va {
		out = Squeeze(out, -2)
	}
	if vb {
		out = Squeeze(out, -1)
	}
	return out
}

// MatmulT is a @ bᵀ for b of shape (..., N, K), without materializing the transpose: the layout
// of Linear weights (out, in).
func MatmulT(a, b *Array) *Array {
	if len(a.shape) < 2 || len(b.shape) < 2 {
		if len(a.shape) == 0 || len(b.shape) == 0 {
			panic(fmt.Sprintf("mx.MatmulT: scalar operand (shapes %v and %v)", a.shape, b.shape))
		}
	}
	va := len(a.shape) == 1
	if va {
		a = Reshape(a, 1, a.shape[0])
	}
	if len(b.shape) == 1 {
		b = Reshape(b, 1, b.shape[0])
	}
	out := matmul("MatmulT", a, b, false, true)
	if va {
		out = Squeeze(out, -2)
	}
	return out
}

// matmul builds op(a) @ op(b) where op transposes the last two axes when its flag is set.
// A batched a times a plain matrix b is folded into one tall GEMM, (batch·M, K) @ op(b), which
// the backend runs far faster than batch small ones (the shape of every Linear layer).
func matmul(name string, a, b *Array, transA, transB bool) *Array {
	if len(a.shape) > 2 && len(b.shape) == 2 && !transA {
		k := a.shape[len(a.shape)-1]
		flat := matmul(name, Reshape(a, -1, k), b, false, transB)
		return Reshape(flat, append(append([]int{}, a.shape[:len(a.shape)-1]...), flat.shape[1])...)
	}
	ra, rb := len(a.shape), len(b.shape)
	m, k := a.shape[ra-2], a.shape[ra-1]
	if transA {
		m, k = k, m
	}
	k2, n := b.shape[rb-2], b.shape[rb-1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		panic(fmt.Sprintf("mx.%s: inner dimensions differ: %v and %v", name, a.shape, b.shape))
	}
	batch := BroadcastShapes(name, a.shape[:ra-2], b.shape[:rb-2])
	dt := resultType(a.dtype, b.dtype)
	if !dt.IsFloat() {
		dt = Float32
	}
	a, b = AsType(a, dt), AsType(b, dt)
	return newArray(prim.Matmul{TransA: transA, TransB: transB}, append(append([]int{}, batch...), m, n), dt, a, b)
}

func init() {
	defVJP(func(op prim.Matmul, node, c *Array) []*Array {
		a, b := node.inputs[0], node.inputs[1]
		var ga, gb *Array
		switch {
		case !op.TransA && !op.TransB: // C = A B
			ga = matmul("Matmul", c, b, false, true)
			gb = matmul("Matmul", a, c, true, false)
		case !op.TransA && op.TransB: // C = A Bᵀ, B is (N, K)
			ga = matmul("Matmul", c, b, false, false)
			gb = matmul("Matmul", c, a, true, false)
		case op.TransA && !op.TransB: // C = Aᵀ B, A is (K, M)
			ga = matmul("Matmul", b, c, false, true)
			gb = matmul("Matmul", a, c, false, false)
		default: // C = Aᵀ Bᵀ
			ga = matmul("Matmul", b, c, true, true)
			gb = matmul("Matmul", c, a, true, true)
		}
		return []*Array{sumToShape(ga, a.shape), sumToShape(gb, b.shape)}
	})
}
