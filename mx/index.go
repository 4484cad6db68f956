package mx

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Indexing with integer arrays: Take gathers along an axis, ScatterAdd is its transpose.
// (TakeAlongAxis, PutAlongAxis and AddAlongAxis are in along_axis.go.)

func checkIndices(op string, indices *Array) {
	if !indices.dtype.IsInteger() {
		panic(fmt.Sprintf("mx.%s: indices must be integers, got %s", op, indices.dtype))
	}
}

// Take gathers a along axis at indices (any shape; negative indices count from the end). The
// result has shape a.shape[:axis] + indices.shape + a.shape[axis+1:]; Take(table, tokens, 0) is an
// embedding lookup. An index out of range makes the evaluation panic.
func Take(a, indices *Array, axis int) *Array {
	checkIndices("Take", indices)
	ax := normAxis("Take", axis, a.NDim())
	if a.shape[ax] == 0 && indices.Size() > 0 {
		panic(fmt.Sprintf("mx.Take: cannot take indices %v from the empty axis %d of shape %v", indices.shape, axis, a.shape))
	}
	shape := slices.Concat(a.shape[:ax], indices.shape, a.shape[ax+1:])
	return newArray(prim.Take{Axis: ax}, shape, a.dtype, a, indices)
}

// ScatterAdd returns a copy of a with out[..., indices[j], ...] += updates[..., j, ...] along
// axis, for 1-D indices (negative ones count from the end; repeats accumulate). updates is
// converted to a's dtype and broadcast to a.shape[:axis] + [len(indices)] + a.shape[axis+1:].
// The sums are deterministic: each output element adds its updates in index order.
func ScatterAdd(a, indices, updates *Array, axis int) *Array {
	checkIndices("ScatterAdd", indices)
	if indices.NDim() != 1 {
		panic(fmt.Sprintf("mx.ScatterAdd: indices must be 1-D, got shape %v", indices.shape))
	}
	ax := normAxis("ScatterAdd", axis, a.NDim())
	k := indices.shape[0]
	if a.shape[ax] == 0 && k > 0 {
		panic(fmt.Sprintf("mx.ScatterAdd: cannot add at indices %v into the empty axis %d of shape %v", indices.shape, axis, a.shape))
	}
	want := slices.Concat(a.shape[:ax], []int{k}, a.shape[ax+1:])
	if updates.NDim() > len(want) || !slices.Equal(BroadcastShapes("ScatterAdd", updates.shape, want), want) {
		panic(fmt.Sprintf("mx.ScatterAdd: updates %v do not fit %v (array %v, indices %v, axis %d)", updates.shape, want, a.shape, indices.shape, axis))
	}
	updates = BroadcastTo(AsType(updates, a.dtype), want...)
	return newArray(prim.IndexAdd{Axis: ax}, a.shape, a.dtype, a, indices, updates)
}

func init() {
	defVJP(func(op prim.Take, node, c *Array) []*Array {
		a, idx := node.inputs[0], node.inputs[1]
		if !a.dtype.IsFloat() {
			return nil
		}
		k := idx.Size()
		flat := Reshape(c, slices.Concat(a.shape[:op.Axis], []int{k}, a.shape[op.Axis+1:])...)
		return []*Array{ScatterAdd(ZerosLike(a), Reshape(idx, k), flat, op.Axis), nil}
	})
	defVJP(func(op prim.IndexAdd, node, c *Array) []*Array {
		if !node.dtype.IsFloat() {
			return nil
		}
		return []*Array{c, nil, Take(c, node.inputs[1], op.Axis)}
	})
}
