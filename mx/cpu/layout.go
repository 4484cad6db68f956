package cpu

import "github.com/lmxlab/lmxlab/mx/prim"

func init() {
	defKernel(func(op prim.Transpose, n *prim.Node, in []operand) *Buffer {
		return permute(in[0], op.Perm)
	})
}

// permute materializes x with its axes permuted (output axis i is input axis perm[i]).
func permute(x operand, perm []int) *Buffer {
	st := prim.Strides(x.shape)
	shape := make([]int, len(perm))
	strides := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.shape[p]
		strides[i] = st[p]
	}
	return gatherStrided(x, shape, strides)
}

// moveAxisLast returns x with axis moved to the end (x itself if it already is) and the shape.
func moveAxisLast(x operand, axis int) operand {
	nd := len(x.shape)
	if axis == nd-1 {
		return x
	}
	perm := make([]int, 0, nd)
	for i := 0; i < nd; i++ {
		if i != axis {
			perm = append(perm, i)
		}
	}
	perm = append(perm, axis)
	shape := make([]int, nd)
	for i, p := range perm {
		shape[i] = x.shape[p]
	}
	return operand{permute(x, perm), shape, x.dtype}
}

// moveLastAxisTo is the inverse of moveAxisLast for a result of the given (moved) shape.
func moveLastAxisTo(b *Buffer, movedShape []int, dt prim.DType, axis int) *Buffer {
	nd := len(movedShape)
	if axis == nd-1 {
		return b
	}
	perm := make([]int, 0, nd)
	for i := 0; i < nd-1; i++ {
		if i == axis {
			perm = append(perm, nd-1)
		}
		perm = append(perm, i)
	}
	return permute(operand{b, movedShape, dt}, perm)
}
