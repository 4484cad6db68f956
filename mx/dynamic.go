package mx

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Windows at run-time offsets. DynamicSlice reads a window and DynamicUpdateSlice writes one,
// like Slice and SliceUpdate with unit steps, but their start indices are an integer array
// instead of Go ints: a compiled function (a decode step that writes its keys into a KV cache at
// the current position) then has one signature for every position, so it is traced and compiled
// once. The semantics are XLA's: each start index is clamped to [0, dim - window] so that the
// window always lies inside the array (a negative start gives 0, never a wrap from the end).

// startVector checks that start is an integer vector with one entry per axis of an n-d array.
func startVector(op string, start *Array, n int) {
	if !start.dtype.IsInteger() {
		panic(fmt.Sprintf("mx.%s: start indices must be integers, got %s", op, start.dtype))
	}
	if start.NDim() != 1 || start.shape[0] != n {
		panic(fmt.Sprintf("mx.%s: start indices must be a vector of %d (one per axis), got shape %v", op, n, start.shape))
	}
}

// DynamicSlice takes the window of the given sizes from a, starting at the run-time indices start
// (an integer vector, one entry per axis of a), each clamped to [0, a.Dim(i) - sizes[i]].
func DynamicSlice(a, start *Array, sizes []int) *Array {
	startVector("DynamicSlice", start, a.NDim())
	if len(sizes) != a.NDim() {
		panic(fmt.Sprintf("mx.DynamicSlice: %d sizes %v for the %d axes of %v", len(sizes), sizes, a.NDim(), a.shape))
	}
	for i, s := range sizes {
		if s < 0 || s > a.shape[i] {
			panic(fmt.Sprintf("mx.DynamicSlice: size %d of axis %d is outside [0, %d] (array %v, sizes %v)", s, i, a.shape[i], a.shape, sizes))
		}
	}
	if slices.Equal(sizes, a.shape) {
		return a // the only window that fits
	}
	return newArray(prim.DynamicSlice{Sizes: slices.Clone(sizes)}, slices.Clone(sizes), a.dtype, a, start)
}

// DynamicUpdateSlice returns a copy of a with update (same rank, converted to a's dtype) written
// at the run-time indices start (an integer vector, one entry per axis of a), each clamped to
// [0, a.Dim(i) - update.Dim(i)].
func DynamicUpdateSlice(a, update, start *Array) *Array {
	startVector("DynamicUpdateSlice", start, a.NDim())
	if update.NDim() != a.NDim() {
		panic(fmt.Sprintf("mx.DynamicUpdateSlice: update %v and array %v differ in rank", update.shape, a.shape))
	}
	for i, d := range update.shape {
		if d > a.shape[i] {
			panic(fmt.Sprintf("mx.DynamicUpdateSlice: update %v does not fit in array %v along axis %d", update.shape, a.shape, i))
		}
	}
	if update.Size() == 0 {
		return a
	}
	return newArray(prim.DynamicUpdateSlice{}, a.shape, a.dtype, a, AsType(update, a.dtype), start)
}

// axisStart turns the integer scalar start into the start vector of an n-d array that is start
// along axis and 0 elsewhere.
func axisStart(op string, start *Array, axis, n int) *Array {
	if !start.dtype.IsInteger() || start.Size() != 1 {
		panic(fmt.Sprintf("mx.%s: start must be an integer scalar, got %s%v", op, start.dtype, start.shape))
	}
	return Pad(Reshape(start, 1), []int{axis}, []int{n - 1 - axis}, 0)
}

// DynamicSliceAxis takes a[..., start:start+size, ...] along axis, for a run-time integer scalar
// start (clamped to [0, a.Dim(axis) - size]).
func DynamicSliceAxis(a *Array, axis int, start *Array, size int) *Array {
	ax := normAxis("DynamicSliceAxis", axis, a.NDim())
	sizes := slices.Clone(a.shape)
	sizes[ax] = size
	return DynamicSlice(a, axisStart("DynamicSliceAxis", start, ax, a.NDim()), sizes)
}

// DynamicUpdateSliceAxis writes update into a copy of a at the run-time integer scalar start
// along axis (clamped to [0, a.Dim(axis) - update.Dim(axis)]); update spans a's other axes whole.
func DynamicUpdateSliceAxis(a, update *Array, axis int, start *Array) *Array {
	ax := normAxis("DynamicUpdateSliceAxis", axis, a.NDim())
	if update.NDim() == a.NDim() {
		for i, d := range update.shape {
			if i != ax && d != a.shape[i] {
				panic(fmt.Sprintf("mx.DynamicUpdateSliceAxis: update %v must match array %v except along axis %d", update.shape, a.shape, axis))
			}
		}
	}
	return DynamicUpdateSlice(a, update, axisStart("DynamicUpdateSliceAxis", start, ax, a.NDim()))
}

func init() {
	defVJP(func(op prim.DynamicSlice, node, c *Array) []*Array {
		a, start := node.inputs[0], node.inputs[1]
		if !a.dtype.IsFloat() {
			return nil
		}
		return []*Array{DynamicUpdateSlice(ZerosLike(a), c, start), nil}
	})
	defVJP(func(op prim.DynamicUpdateSlice, node, c *Array) []*Array {
		if !node.dtype.IsFloat() {
			return nil
		}
		u, start := node.inputs[1], node.inputs[2]
		return []*Array{DynamicUpdateSlice(c, ZerosLike(u), start), DynamicSlice(c, start, u.shape), nil}
	})
}
