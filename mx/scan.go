package mx

import "github.com/lmxlab/lmxlab/mx/prim"

func scan(name string, k prim.ReduceKind, a *Array, axis int, reverse, exclusive bool) *Array {
	if len(a.shape) == 0 {
		a = Reshape(a, 1)
	}
	ax := normAxis(name, axis, len(a.shape))
	dt := a.dtype
	if k == prim.ReduceSum || k == prim.ReduceProd {
		dt = sumType(dt)
	}
	a = AsType(a, dt)
	return newArray(prim.Scan{Kind: k, Axis: ax, Reverse: reverse, Exclusive: exclusive}, a.shape, dt, a)
}

// Cumsum is the cumulative sum along axis; reverse runs from the end, exclusive leaves each
// element out of its own sum.
func Cumsum(a *Array, axis int, reverse, exclusive bool) *Array {
	return scan("Cumsum", prim.ReduceSum, a, axis, reverse, exclusive)
}

// CumProd is the cumulative product along axis.
func CumProd(a *Array, axis int, reverse, exclusive bool) *Array {
	return scan("CumProd", prim.ReduceProd, a, axis, reverse, exclusive)
}

// CumMax is the running maximum along axis.
func CumMax(a *Array, axis int, reverse bool) *Array {
	return scan("CumMax", prim.ReduceMax, a, axis, reverse, false)
}

// CumMin is the running minimum along axis.
func CumMin(a *Array, axis int, reverse bool) *Array {
	return scan("CumMin", prim.ReduceMin, a, axis, reverse, false)
}

func init() {
	defVJP(func(op prim.Scan, node, c *Array) []*Array {
		x := node.inputs[0]
		if !x.dtype.IsFloat() {
			return nil
		}
		switch op.Kind {
		case prim.ReduceSum:
			// Each input contributes to the outputs after it (before it when reversed).
			return []*Array{Cumsum(c, op.Axis, !op.Reverse, op.Exclusive)}
		case prim.ReduceProd:
			// d out_j / d x_i = out_j / x_i for the j that include i. Exact for nonzero x.
			s := Cumsum(Mul(c, node), op.Axis, !op.Reverse, op.Exclusive)
			return []*Array{Div(s, x)}
		default:
			// Running max/min: output j copies the input at source(j), the latest position at or
			// before j (after, when reversed) that holds the extremum; its cotangent goes there.
			n := x.shape[op.Axis]
			pos := Arange(0, float64(n), 1, Int32)
			shape := make([]int, len(x.shape))
			for i := range shape {
				shape[i] = 1
			}
			shape[op.Axis] = n
			pos = Reshape(pos, shape...)
			var source *Array
			if op.Reverse {
				source = CumMin(Where(Equal(x, node), pos, FullLike(pos, float64(n))), op.Axis, true)
			} else {
				source = CumMax(Where(Equal(x, node), pos, FullLike(pos, -1)), op.Axis, false)
			}
			return []*Array{AddAlongAxis(ZerosLike(x), source, c, op.Axis)}
		}
	})
}
