package mx

import (
	"fmt"
	"math"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Layout ops: slicing, joining, splitting, padding and repeating arrays.

// pySlice resolves a Python-style slice of an axis of length n into the first index and the
// number of elements, clamping start and stop like Python's slice.indices.
func pySlice(n, start, stop, step int) (first, count int) {
	clamp := func(i, lo, hi int) int {
		if i < 0 {
			if i += n; i < lo {
				i = lo
			}
		} else if i > hi {
			i = hi
		}
		return i
	}
	if step > 0 {
		start, stop = clamp(start, 0, n), clamp(stop, 0, n)
		if stop <= start {
			return 0, 0
		}
		return start, (stop-start-1)/step + 1
	}
	start, stop = clamp(start, -1, n-1), clamp(stop, -1, n-1)
	if start <= stop {
		return 0, 0
	}
	return start, (start-stop-1)/(-step) + 1
}

// sliceWindow resolves per-axis (start, stop, step) lists against shape into the window's first
// index and step along every axis, and its shape. Axes beyond the lists are taken whole; a nil
// step means steps of 1. full reports that the window is the whole array.
func sliceWindow(op string, shape, start, stop, step []int) (first, steps, window []int, full bool) {
	if len(start) != len(stop) || (step != nil && len(step) != len(start)) {
		panic(fmt.Sprintf("mx.%s: start %v, stop %v and step %v differ in length", op, start, stop, step))
	}
	if len(start) > len(shape) {
		panic(fmt.Sprintf("mx.%s: %d slice entries for shape %v", op, len(start), shape))
	}
	nd := len(shape)
	first, steps, window = make([]int, nd), make([]int, nd), make([]int, nd)
	full = true
	for i, n := range shape {
		s := 1
		if i < len(step) {
			s = step[i]
		}
		if s == 0 {
			panic(fmt.Sprintf("mx.%s: zero step for axis %d in %v", op, i, step))
		}
		steps[i] = s
		if i >= len(start) {
			window[i] = n
			continue
		}
		first[i], window[i] = pySlice(n, start[i], stop[i], s)
		full = full && first[i] == 0 && s == 1 && window[i] == n
	}
	return first, steps, window, full
}

// sliceOf is the strided window of a with the given first indices, steps (nil: all 1) and shape.
func sliceOf(a *Array, first, steps, shape []int) *Array {
	if steps == nil {
		steps = make([]int, len(shape))
		for i := range steps {
			steps[i] = 1
		}
	}
	if slices.Equal(shape, a.shape) && !slices.ContainsFunc(first, func(i int) bool { return i != 0 }) &&
		!slices.ContainsFunc(steps, func(s int) bool { return s != 1 }) {
		return a
	}
	return newArray(prim.Slice{Start: first, Step: steps}, shape, a.dtype, a)
}

// Slice takes a[start[0]:stop[0]:step[0], start[1]:stop[1]:step[1], ...] with Python semantics:
// negative start and stop count from the end, out-of-range bounds clamp, and negative steps walk
// backwards (stop = math.MinInt runs through index 0). Axes beyond the lists are taken whole; a
// nil step means steps of 1. A zero step panics.
func Slice(a *Array, start, stop, step []int) *Array {
	first, steps, window, full := sliceWindow("Slice", a.shape, start, stop, step)
	if full {
		return a
	}
	return newArray(prim.Slice{Start: first, Step: steps}, window, a.dtype, a)
}

// SliceAxis takes a[..., start:stop, ...] along one axis, with Python semantics for the bounds.
func SliceAxis(a *Array, axis, start, stop int) *Array {
	ax := normAxis("SliceAxis", axis, a.NDim())
	starts, stops := make([]int, ax+1), make([]int, ax+1)
	for i := range stops {
		stops[i] = math.MaxInt
	}
	starts[ax], stops[ax] = start, stop
	first, steps, window, full := sliceWindow("SliceAxis", a.shape, starts, stops, nil)
	if full {
		return a
	}
	return newArray(prim.Slice{Start: first, Step: steps}, window, a.dtype, a)
}

// SliceUpdate returns a copy of a with the window Slice(a, start, stop, step) replaced by update,
// which is converted to a's dtype and broadcast to the window's shape.
func SliceUpdate(a, update *Array, start, stop, step []int) *Array {
	first, steps, window, _ := sliceWindow("SliceUpdate", a.shape, start, stop, step)
	if update.NDim() > len(window) || !slices.Equal(BroadcastShapes("SliceUpdate", update.shape, window), window) {
		panic(fmt.Sprintf("mx.SliceUpdate: update %v does not fit the window %v of %v", update.shape, window, a.shape))
	}
	update = BroadcastTo(AsType(update, a.dtype), window...)
	if prim.ShapeSize(window) == 0 {
		return a
	}
	return newArray(prim.SliceUpdate{Start: first, Step: steps}, a.shape, a.dtype, a, update)
}

// Concatenate joins arrays along axis. They must agree in rank and in every other dimension; the
// result has their common dtype.
func Concatenate(arrays []*Array, axis int) *Array {
	if len(arrays) == 0 {
		panic("mx.Concatenate: no arrays")
	}
	shapes := make([][]int, len(arrays))
	for i, a := range arrays {
		shapes[i] = a.shape
	}
	nd := arrays[0].NDim()
	if nd == 0 {
		panic(fmt.Sprintf("mx.Concatenate: cannot concatenate 0-d arrays %v", shapes))
	}
	ax := normAxis("Concatenate", axis, nd)
	shape := slices.Clone(arrays[0].shape)
	shape[ax] = 0
	dt := arrays[0].dtype
	for _, a := range arrays {
		ok := a.NDim() == nd
		for i := 0; ok && i < nd; i++ {
			ok = i == ax || a.shape[i] == shape[i]
		}
		if !ok {
			panic(fmt.Sprintf("mx.Concatenate: shapes %v do not match off axis %d", shapes, axis))
		}
		shape[ax] += a.shape[ax]
		dt = resultType(dt, a.dtype)
	}
	ins := make([]*Array, len(arrays))
	for i, a := range arrays {
		ins[i] = AsType(a, dt)
	}
	if len(ins) == 1 {
		return ins[0]
	}
	return newArray(prim.Concatenate{Axis: ax}, shape, dt, ins...)
}

// Stack joins equally shaped arrays along a new axis (an axis of the result).
func Stack(arrays []*Array, axis int) *Array {
	if len(arrays) == 0 {
		panic("mx.Stack: no arrays")
	}
	ax := normAxis("Stack", axis, arrays[0].NDim()+1)
	ins := make([]*Array, len(arrays))
	for i, a := range arrays {
		if !slices.Equal(a.shape, arrays[0].shape) {
			shapes := make([][]int, len(arrays))
			for j, b := range arrays {
				shapes[j] = b.shape
			}
			panic(fmt.Sprintf("mx.Stack: shapes %v differ", shapes))
		}
		ins[i] = ExpandDims(a, ax)
	}
	return Concatenate(ins, ax)
}

// Split cuts a into n equal parts along axis; the axis length must be divisible by n.
func Split(a *Array, n int, axis int) []*Array {
	ax := normAxis("Split", axis, a.NDim())
	if n <= 0 || a.shape[ax]%n != 0 {
		panic(fmt.Sprintf("mx.Split: cannot split axis %d of shape %v into %d equal parts", axis, a.shape, n))
	}
	size := a.shape[ax] / n
	parts := make([]*Array, n)
	for i := range parts {
		parts[i] = SliceAxis(a, ax, i*size, (i+1)*size)
	}
	return parts
}

// SplitAt cuts a along axis before each of the indices, giving len(indices)+1 parts:
// a[:i0], a[i0:i1], ..., a[ik:], with Python slicing semantics (like numpy.split).
func SplitAt(a *Array, indices []int, axis int) []*Array {
	ax := normAxis("SplitAt", axis, a.NDim())
	parts := make([]*Array, 0, len(indices)+1)
	prev := 0
	for _, i := range indices {
		parts = append(parts, SliceAxis(a, ax, prev, i))
		prev = i
	}
	return append(parts, SliceAxis(a, ax, prev, math.MaxInt))
}

// Pad pads a with value: low[i] elements before and high[i] after along axis i. low and high
// have one entry per axis (nil: no padding on that side); pads must be non-negative.
func Pad(a *Array, low, high []int, value float64) *Array {
	nd := a.NDim()
	if low == nil {
		low = make([]int, nd)
	}
	if high == nil {
		high = make([]int, nd)
	}
	if len(low) != nd || len(high) != nd {
		panic(fmt.Sprintf("mx.Pad: pads %v and %v for shape %v", low, high, a.shape))
	}
	shape := make([]int, nd)
	zero := true
	for i, d := range a.shape {
		if low[i] < 0 || high[i] < 0 {
			panic(fmt.Sprintf("mx.Pad: negative pads %v and %v for shape %v", low, high, a.shape))
		}
		shape[i] = d + low[i] + high[i]
		zero = zero && low[i] == 0 && high[i] == 0
	}
	if zero {
		return a
	}
	return newArray(prim.Pad{Low: slices.Clone(low), High: slices.Clone(high), Value: value}, shape, a.dtype, a)
}

// Repeat repeats each element of a `repeats` times along axis, like numpy.repeat.
func Repeat(a *Array, repeats, axis int) *Array {
	ax := normAxis("Repeat", axis, a.NDim())
	if repeats < 0 {
		panic(fmt.Sprintf("mx.Repeat: negative repeats %d for shape %v", repeats, a.shape))
	}
	if repeats == 1 {
		return a
	}
	x := ExpandDims(a, ax+1)
	b := slices.Clone(x.shape)
	b[ax+1] = repeats
	out := slices.Clone(a.shape)
	out[ax] *= repeats
	return Reshape(BroadcastTo(x, b...), out...)
}

// Tile repeats the whole of a reps[i] times along axis i, like numpy.tile: when reps is shorter
// than a's rank it applies to the last axes; when longer, a gains leading axes.
func Tile(a *Array, reps []int) *Array {
	nd := max(len(reps), a.NDim())
	r := make([]int, nd)
	s := make([]int, nd)
	for i := range r {
		r[i], s[i] = 1, 1
	}
	copy(r[nd-len(reps):], reps)
	copy(s[nd-a.NDim():], a.shape)
	inter := make([]int, 0, 2*nd) // (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...)
	bcast := make([]int, 0, 2*nd)
	out := make([]int, nd)
	for i := range r {
		if r[i] < 0 {
			panic(fmt.Sprintf("mx.Tile: negative reps %v for shape %v", reps, a.shape))
		}
		inter = append(inter, 1, s[i])
		bcast = append(bcast, r[i], s[i])
		out[i] = r[i] * s[i]
	}
	return Reshape(BroadcastTo(Reshape(a, inter...), bcast...), out...)
}

// Tril keeps the elements of the last two axes at and below diagonal k (zeros elsewhere).
func Tril(a *Array, k int) *Array {
	if a.NDim() < 2 {
		panic(fmt.Sprintf("mx.Tril: needs at least 2 dimensions, got shape %v", a.shape))
	}
	mask := Tri(a.shape[a.NDim()-2], a.shape[a.NDim()-1], k, Bool)
	return Where(mask, a, ZerosLike(a))
}

// Triu keeps the elements of the last two axes at and above diagonal k (zeros elsewhere).
func Triu(a *Array, k int) *Array {
	if a.NDim() < 2 {
		panic(fmt.Sprintf("mx.Triu: needs at least 2 dimensions, got shape %v", a.shape))
	}
	mask := Tri(a.shape[a.NDim()-2], a.shape[a.NDim()-1], k-1, Bool)
	return Where(mask, ZerosLike(a), a)
}

func init() {
	defVJP(func(op prim.Slice, node, c *Array) []*Array {
		a := node.inputs[0]
		if !a.dtype.IsFloat() {
			return nil
		}
		if !slices.ContainsFunc(op.Step, func(s int) bool { return s != 1 }) {
			high := make([]int, a.NDim())
			for i, d := range a.shape {
				high[i] = d - op.Start[i] - node.shape[i]
			}
			return []*Array{Pad(c, op.Start, high, 0)}
		}
		return []*Array{newArray(prim.SliceUpdate{Start: op.Start, Step: op.Step}, a.shape, a.dtype, ZerosLike(a), c)}
	})
	defVJP(func(op prim.SliceUpdate, node, c *Array) []*Array {
		if !node.dtype.IsFloat() {
			return nil
		}
		u := node.inputs[1]
		ga := newArray(prim.SliceUpdate{Start: op.Start, Step: op.Step}, c.shape, c.dtype, c, ZerosLike(u))
		return []*Array{ga, sliceOf(c, op.Start, op.Step, u.shape)}
	})
	defVJP(func(op prim.Concatenate, node, c *Array) []*Array {
		if !node.dtype.IsFloat() {
			return nil
		}
		gs := make([]*Array, len(node.inputs))
		first := make([]int, node.NDim())
		for i, in := range node.inputs {
			gs[i] = sliceOf(c, slices.Clone(first), nil, in.shape)
			first[op.Axis] += in.shape[op.Axis]
		}
		return gs
	})
	defVJP(func(op prim.Pad, node, c *Array) []*Array {
		if !node.dtype.IsFloat() {
			return nil
		}
		return []*Array{sliceOf(c, op.Low, nil, node.inputs[0].shape)}
	})
}
