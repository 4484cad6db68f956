package mx

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// alongAxisShapes broadcasts a and indices against each other in every dimension but axis, and
// returns a's and the indices' broadcast shapes.
func alongAxisShapes(op string, a, idx *Array, axis int) (int, []int, []int) {
	if idx.NDim() != a.NDim() {
		panic(fmt.Sprintf("mx.%s: indices %v and array %v differ in rank", op, idx.shape, a.shape))
	}
	if idx.dtype.IsFloat() || idx.dtype == Bool {
		panic(fmt.Sprintf("mx.%s: indices must be integers, got %s", op, idx.dtype))
	}
	ax := normAxis(op, axis, a.NDim())
	as, is := a.Shape(), idx.Shape()
	as[ax], is[ax] = 1, 1
	common := BroadcastShapes(op, as, is)
	aShape := append([]int(nil), common...)
	aShape[ax] = a.shape[ax]
	iShape := append([]int(nil), common...)
	iShape[ax] = idx.shape[ax]
	return ax, aShape, iShape
}

// TakeAlongAxis picks a[..., indices[..., j, ...], ...] along axis; indices have a's rank and
// broadcast against a in the other dimensions. Negative indices count from the end.
func TakeAlongAxis(a, indices *Array, axis int) *Array {
	ax, aShape, iShape := alongAxisShapes("TakeAlongAxis", a, indices, axis)
	a, indices = BroadcastTo(a, aShape...), BroadcastTo(indices, iShape...)
	return newArray(prim.TakeAlongAxis{Axis: ax}, iShape, a.dtype, a, indices)
}

// PutAlongAxis returns a copy of a with values written at indices along axis (values broadcast
// to the indices' shape). Where indices repeat, the last write wins.
func PutAlongAxis(a, indices, values *Array, axis int) *Array {
	return putAlongAxis("PutAlongAxis", a, indices, values, axis, false)
}

// AddAlongAxis returns a copy of a with values added at indices along axis; repeated indices
// accumulate (a scatter-add).
func AddAlongAxis(a, indices, values *Array, axis int) *Array {
	return putAlongAxis("AddAlongAxis", a, indices, values, axis, true)
}

func putAlongAxis(op string, a, indices, values *Array, axis int, add bool) *Array {
	ax, aShape, iShape := alongAxisShapes(op, a, indices, axis)
	if !slices.Equal(aShape, a.shape) {
		panic(fmt.Sprintf("mx.%s: indices %v would broadcast the array %v", op, indices.shape, a.shape))
	}
	indices = BroadcastTo(indices, iShape...)
	values = BroadcastTo(AsType(values, a.dtype), iShape...)
	return newArray(prim.PutAlongAxis{Axis: ax, Add: add}, a.shape, a.dtype, a, indices, values)
}

func init() {
	defVJP(func(op prim.TakeAlongAxis, node, c *Array) []*Array {
		a, idx := node.inputs[0], node.inputs[1]
		return []*Array{AddAlongAxis(ZerosLike(a), idx, c, op.Axis), nil}
	})
	defVJP(func(op prim.PutAlongAxis, node, c *Array) []*Array {
		idx := node.inputs[1]
		gv := TakeAlongAxis(c, idx, op.Axis)
		if op.Add {
			return []*Array{c, nil, gv}
		}
		// Overwritten positions get no gradient from a. With repeated indices only the last write
		// is visible, but every write reads the same cotangent: callers needing exactness with
		// duplicates should use AddAlongAxis.
		return []*Array{PutAlongAxis(c, idx, ZerosLike(gv), op.Axis), nil, gv}
	})
}
