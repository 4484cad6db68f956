package mx

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// reduce builds a Reduce over axes (nil = all) and drops the axes unless keepDims.
func reduce(name string, k prim.ReduceKind, a *Array, axes []int, keepDims bool, dt DType) *Array {
	ax := normAxes(name, axes, len(a.shape))
	kept := make([]int, len(a.shape))
	copy(kept, a.shape)
	for _, i := range ax {
		kept[i] = 1
	}
	if a.dtype != dt {
		a = AsType(a, dt)
	}
	var out *Array
	if len(ax) == 0 {
		out = a
	} else {
		out = newArray(prim.Reduce{Kind: k, Axes: ax}, kept, dt, a)
	}
	if !keepDims {
		out = Reshape(out, dropAxes(a.shape, ax)...)
	}
	return out
}

func dropAxes(shape, axes []int) []int {
	out := []int{}
	for i, d := range shape {
		drop := false
		for _, a := range axes {
			drop = drop || a == i
		}
		if !drop {
			out = append(out, d)
		}
	}
	return out
}

// sumType is the dtype a sum or product accumulates in: bool and small integers widen to int32.
func sumType(dt DType) DType {
	if dt == Bool || dt == Uint8 {
		return Int32
	}
	return dt
}

// Sum adds over axes (nil = all axes).
func Sum(a *Array, axes []int, keepDims bool) *Array {
	return reduce("Sum", prim.ReduceSum, a, axes, keepDims, sumType(a.dtype))
}

// Prod multiplies over axes.
func Prod(a *Array, axes []int, keepDims bool) *Array {
	return reduce("Prod", prim.ReduceProd, a, axes, keepDims, sumType(a.dtype))
}

// Max is the maximum over axes.
func Max(a *Array, axes []int, keepDims bool) *Array {
	return reduce("Max", prim.ReduceMax, a, axes, keepDims, a.dtype)
}

// Min is the minimum over axes.
func Min(a *Array, axes []int, keepDims bool) *Array {
	return reduce("Min", prim.ReduceMin, a, axes, keepDims, a.dtype)
}

// Any is true where any element over axes is nonzero.
func Any(a *Array, axes []int, keepDims bool) *Array {
	return reduce("Any", prim.ReduceAny, a, axes, keepDims, Bool)
}

// All is true where every element over axes is nonzero.
func All(a *Array, axes []int, keepDims bool) *Array {
	return reduce("All", prim.ReduceAll, a, axes, keepDims, Bool)
}

// reducedCount is the number of elements each output of a reduction over axes combines.
func reducedCount(op string, a *Array, axes []int) int {
	n := 1
	for _, ax := range normAxes(op, axes, len(a.shape)) {
		n *= a.shape[ax]
	}
	return n
}

// Mean is the average over axes (integers average in float32).
func Mean(a *Array, axes []int, keepDims bool) *Array {
	if !a.dtype.IsFloat() {
		a = AsType(a, Float32)
	}
	n := reducedCount("Mean", a, axes)
	return DivScalar(Sum(a, axes, keepDims), float64(n))
}

// Var is the variance over axes with ddof delta degrees of freedom (0 for the population).
func Var(a *Array, axes []int, keepDims bool, ddof int) *Array {
	if !a.dtype.IsFloat() {
		a = AsType(a, Float32)
	}
	n := reducedCount("Var", a, axes)
	d := Sub(a, Mean(a, axes, true))
	return DivScalar(Sum(Square(d), axes, keepDims), float64(max(n-ddof, 0)))
}

// Std is the standard deviation (square root of Var).
func Std(a *Array, axes []int, keepDims bool, ddof int) *Array {
	return Sqrt(Var(a, axes, keepDims, ddof))
}

// LogSumExp is log(sum(exp(a))) over axes, computed stably.
func LogSumExp(a *Array, axes []int, keepDims bool) *Array {
	if !a.dtype.IsFloat() {
		a = AsType(a, Float32)
	}
	m := StopGradient(Max(a, axes, true))
	// Rows that are all -inf would give NaN from inf-inf: shift by 0 there instead.
	m = Where(Equal(Abs(m), FullLike(m, inf)), ZerosLike(m), m)
	s := Add(Log(Sum(Exp(Sub(a, m)), axes, true)), m)
	if !keepDims {
		s = Reshape(s, dropAxes(a.shape, normAxes("LogSumExp", axes, len(a.shape)))...)
	}
	return s
}

// ArgMax gives the index of the first maximum along axis, as int32.
func ArgMax(a *Array, axis int, keepDims bool) *Array {
	return argReduce("ArgMax", false, a, axis, keepDims)
}

// ArgMin gives the index of the first minimum along axis, as int32.
func ArgMin(a *Array, axis int, keepDims bool) *Array {
	return argReduce("ArgMin", true, a, axis, keepDims)
}

func argReduce(name string, isMin bool, a *Array, axis int, keepDims bool) *Array {
	if len(a.shape) == 0 {
		a = Reshape(a, 1)
		axis = 0
	}
	ax := normAxis(name, axis, len(a.shape))
	if a.shape[ax] == 0 {
		panic(fmt.Sprintf("mx.%s: empty axis %d of shape %v", name, axis, a.shape))
	}
	kept := append([]int(nil), a.shape...)
	kept[ax] = 1
	out := newArray(prim.ArgReduce{Min: isMin, Axis: ax}, kept, Int32, a)
	if !keepDims {
		out = Reshape(out, dropAxes(a.shape, []int{ax})...)
	}
	return out
}

var inf = math.Inf(1)

func init() {
	defVJP(func(op prim.Reduce, node, c *Array) []*Array {
		x := node.inputs[0]
		if !x.dtype.IsFloat() {
			return nil
		}
		switch op.Kind {
		case prim.ReduceSum:
			return []*Array{BroadcastTo(c, x.shape...)}
		case prim.ReduceProd:
			// d/dx_i prod = prod / x_i, valid where x_i != 0; zeros are handled by the exclusive
			// product, which is exact but costs more, so it is used only when needed.
			return []*Array{prodGrad(x, node, c, op.Axes)}
		case prim.ReduceMax, prim.ReduceMin:
			// The gradient is shared equally among tied extrema.
			mask := AsType(Equal(x, node), x.dtype)
			count := Sum(mask, op.Axes, true)
			return []*Array{Mul(Div(mask, count), c)}
		}
		return nil
	})
	defVJP(func(_ prim.ArgReduce, _, _ *Array) []*Array { return nil })
}

// prodGrad is c·∏_{j≠i} x_j, computed as the product of the exclusive cumulative products from
// both sides along the flattened reduced axes, so zeros in x are exact.
func prodGrad(x, node, c *Array, axes []int) *Array {
	// Move reduced axes last and flatten them.
	n := len(x.shape)
	var keep, red []int
	for i := 0; i < n; i++ {
		if containsInt(axes, i) {
			red = append(red, i)
		} else {
			keep = append(keep, i)
		}
	}
	perm := append(append([]int{}, keep...), red...)
	xt := Transpose(x, perm...)
	tshape := xt.Shape()
	flat := Reshape(xt, append(dropAxes(x.shape, axes), -1)...)
	left := CumProd(flat, -1, false, true)
	right := CumProd(flat, -1, true, true)
	g := Reshape(Mul(left, right), tshape...)
	inv := make([]int, n)
	for i, p := range perm {
		inv[p] = i
	}
	return Mul(Transpose(g, inv...), c)
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
