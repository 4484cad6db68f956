package mx

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Reshape gives a the new shape (one dimension may be -1, inferred). Data order is row-major.
func Reshape(a *Array, shape ...int) *Array {
	shape = slices.Clone(shape)
	infer := -1
	known := 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("mx.Reshape: invalid shape %v", shape))
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || a.Size()%known != 0 {
			panic(fmt.Sprintf("mx.Reshape: cannot reshape %v to %v", a.shape, shape))
		}
		shape[infer] = a.Size() / known
	}
	if prim.ShapeSize(shape) != a.Size() {
		panic(fmt.Sprintf("mx.Reshape: cannot reshape %v (%d elements) to %v", a.shape, a.Size(), shape))
	}
	if slices.Equal(shape, a.shape) {
		return a
	}
	return newArray(prim.Reshape{}, shape, a.dtype, a)
}

// Flatten reshapes a to 1-D.
func Flatten(a *Array) *Array { return Reshape(a, -1) }

// BroadcastTo broadcasts a to shape (NumPy rules).
func BroadcastTo(a *Array, shape ...int) *Array {
	shape = checkShape("BroadcastTo", shape)
	got := BroadcastShapes("BroadcastTo", a.shape, shape)
	if !slices.Equal(got, shape) {
		panic(fmt.Sprintf("mx.BroadcastTo: cannot broadcast %v to %v", a.shape, shape))
	}
	if slices.Equal(a.shape, shape) {
		return a
	}
	return newArray(prim.Broadcast{}, shape, a.dtype, a)
}

// Transpose permutes the axes; with no perm it reverses them.
func Transpose(a *Array, perm ...int) *Array {
	n := len(a.shape)
	if len(perm) == 0 {
		perm = make([]int, n)
		for i := range perm {
			perm[i] = n - 1 - i
		}
	}
	if len(perm) != n {
		panic(fmt.Sprintf("mx.Transpose: permutation %v for shape %v", perm, a.shape))
	}
	p := make([]int, n)
	seen := make([]bool, n)
	identity := true
	shape := make([]int, n)
	for i, ax := range perm {
		ax = normAxis("Transpose", ax, n)
		if seen[ax] {
			panic(fmt.Sprintf("mx.Transpose: repeated axis in permutation %v", perm))
		}
		seen[ax] = true
		p[i] = ax
		shape[i] = a.shape[ax]
		identity = identity && ax == i
	}
	if identity {
		return a
	}
	return newArray(prim.Transpose{Perm: p}, shape, a.dtype, a)
}

// SwapAxes exchanges two axes.
func SwapAxes(a *Array, i, j int) *Array {
	n := len(a.shape)
	i, j = normAxis("SwapAxes", i, n), normAxis("SwapAxes", j, n)
	perm := make([]int, n)
	for k := range perm {
		perm[k] = k
	}
	perm[i], perm[j] = j, i
	return Transpose(a, perm...)
}

// MoveAxis moves axis src to position dst.
func MoveAxis(a *Array, src, dst int) *Array {
	n := len(a.shape)
	src, dst = normAxis("MoveAxis", src, n), normAxis("MoveAxis", dst, n)
	var perm []int
	for k := 0; k < n; k++ {
		if k != src {
			perm = append(perm, k)
		}
	}
	perm = slices.Insert(perm, dst, src)
	return Transpose(a, perm...)
}

// ExpandDims inserts size-1 axes at the given positions (of the result).
func ExpandDims(a *Array, axes ...int) *Array {
	n := len(a.shape) + len(axes)
	ax := normAxes("ExpandDims", axes, n)
	shape := make([]int, 0, n)
	src := 0
	for i := 0; i < n; i++ {
		if slices.Contains(ax, i) {
			shape = append(shape, 1)
		} else {
			shape = append(shape, a.shape[src])
			src++
		}
	}
	return Reshape(a, shape...)
}

// Squeeze removes the given size-1 axes (all size-1 axes when none are given).
func Squeeze(a *Array, axes ...int) *Array {
	var drop []int
	if len(axes) == 0 {
		for i, d := range a.shape {
			if d == 1 {
				drop = append(drop, i)
			}
		}
	} else {
		drop = normAxes("Squeeze", axes, len(a.shape))
		for _, ax := range drop {
			if a.shape[ax] != 1 {
				panic(fmt.Sprintf("mx.Squeeze: axis %d of shape %v is not 1", ax, a.shape))
			}
		}
	}
	var shape []int
	for i, d := range a.shape {
		if !slices.Contains(drop, i) {
			shape = append(shape, d)
		}
	}
	return Reshape(a, shape...)
}

func init() {
	defVJP(func(_ prim.Reshape, node, c *Array) []*Array { return []*Array{Reshape(c, node.inputs[0].shape...)} })
	defVJP(func(_ prim.Broadcast, node, c *Array) []*Array { return []*Array{sumToShape(c, node.inputs[0].shape)} })
	defVJP(func(op prim.Transpose, _, c *Array) []*Array {
		inv := make([]int, len(op.Perm))
		for i, p := range op.Perm {
			inv[p] = i
		}
		return []*Array{Transpose(c, inv...)}
	})
}
