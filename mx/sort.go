package mx

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Sorting. The Sort and ArgSort primitives work on the last axis; these ops move the requested
// axis there and back. Sorting is stable, and NaNs sort after every number (as the largest).

// Sort sorts a along axis in ascending order (stable; NaNs last; -0 and +0 compare equal).
func Sort(a *Array, axis int) *Array {
	ax := normAxis("Sort", axis, a.NDim())
	x := MoveAxis(a, ax, -1)
	return MoveAxis(newArray(prim.Sort{}, x.shape, x.dtype, x), -1, ax)
}

// ArgSort gives the int32 indices that sort a along axis (stable: equal elements keep their
// order; NaNs last). It has no gradient.
func ArgSort(a *Array, axis int) *Array {
	ax := normAxis("ArgSort", axis, a.NDim())
	x := MoveAxis(a, ax, -1)
	return MoveAxis(newArray(prim.ArgSort{}, x.shape, Int32, x), -1, ax)
}

// TopK gives the k largest elements of a along axis, in descending order, and their int32
// indices; equal elements come in index order, and NaNs count as the largest. The values are
// TakeAlongAxis(a, indices, axis), so the two always agree; gradients flow through the values.
func TopK(a *Array, k int, axis int) (values, indices *Array) {
	ax := normAxis("TopK", axis, a.NDim())
	n := a.shape[ax]
	if k < 0 || k > n {
		panic(fmt.Sprintf("mx.TopK: k = %d out of range for axis %d of shape %v", k, axis, a.shape))
	}
	x := MoveAxis(a, ax, -1)
	last := x.NDim() - 1
	// Descending with ties in index order: sort the reversed row ascending (stable), take its
	// last k backwards, and map reversed positions r back to n-1-r.
	rev := reverseAxis(x, last)
	asc := newArray(prim.ArgSort{}, rev.shape, Int32, rev)
	top := reverseAxis(SliceAxis(asc, last, n-k, n), last)
	idx := Sub(scalarFor(top, float64(n-1)), top)
	indices = MoveAxis(idx, -1, ax)
	return TakeAlongAxis(a, indices, ax), indices
}

// reverseAxis flips a along axis.
func reverseAxis(a *Array, axis int) *Array {
	start, stop, step := make([]int, axis+1), make([]int, axis+1), make([]int, axis+1)
	for i := range stop {
		stop[i], step[i] = math.MaxInt, 1
	}
	start[axis], stop[axis], step[axis] = -1, math.MinInt, -1
	return Slice(a, start, stop, step)
}

func init() {
	defVJP(func(_ prim.Sort, node, c *Array) []*Array {
		x := node.inputs[0]
		if !x.dtype.IsFloat() {
			return nil
		}
		perm := newArray(prim.ArgSort{}, x.shape, Int32, x)
		return []*Array{PutAlongAxis(ZerosLike(x), perm, c, -1)}
	})
	defVJP(func(_ prim.ArgSort, _, _ *Array) []*Array { return nil })
}
