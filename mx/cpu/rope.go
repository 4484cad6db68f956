package cpu

import (
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

func init() {
	defKernel(func(op prim.RoPE, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return ropeKernel[float64](op, n, in)
		}
		return ropeKernel[float32](op, n, in)
	})
}

// ropeKernel rotates the first op.Dims features of every row of x (..., L, D). The cos/sin table
// for the L positions is computed once (angles in float64), then rows are rotated in parallel.
func ropeKernel[T float](op prim.RoPE, n *prim.Node, in []operand) *Buffer {
	x := in[0]
	nd := len(x.shape)
	l, d := x.shape[nd-2], x.shape[nd-1]
	rows := prim.ShapeSize(x.shape) / max(d, 1)
	if d == 0 {
		rows = 0
	}
	offset := ints(in[1].Buffer)[0]
	half := op.Dims / 2
	theta := make([]float64, half)
	if op.HasFreqs {
		copy(theta, f64(in[2].Buffer, in[2].dtype))
	} else {
		for i := range theta {
			theta[i] = math.Pow(op.Base, -2*float64(i)/float64(op.Dims))
		}
	}
	cos, sin := make([]T, l*half), make([]T, l*half)
	for p := 0; p < l; p++ {
		pos := float64(offset+p) * op.Scale
		for i, th := range theta {
			s, c := math.Sincos(pos * th)
			if op.Inverse {
				s = -s
			}
			cos[p*half+i], sin[p*half+i] = T(c), T(s)
		}
	}
	xs := newRowReader[T](x.Buffer, x.dtype)
	dst, out := newRowWriter[T](n.DType, n.Size())
	parallelFor(rows, 4*d, func(lo, hi int) {
		sIn, sOut := xs.scratchFor(d), dst.scratchFor(d)
		for r := lo; r < hi; r++ {
			xr, y := xs.row(r*d, d, sIn), dst.row(r*d, d, sOut)
			p := r % l
			c, s := cos[p*half:p*half+half], sin[p*half:p*half+half]
			if op.Traditional {
				for i := range c {
					x0, x1 := xr[2*i], xr[2*i+1]
					y[2*i] = x0*c[i] - x1*s[i]
					y[2*i+1] = x0*s[i] + x1*c[i]
				}
			} else {
				a, b := xr[:half], xr[half:2*half]
				ya, yb := y[:half], y[half:2*half]
				for i := range c {
					x0, x1 := a[i], b[i]
					ya[i] = x0*c[i] - x1*s[i]
					yb[i] = x0*s[i] + x1*c[i]
				}
			}
			copy(y[op.Dims:], xr[op.Dims:])
			dst.flush(r*d, y)
		}
	})
	return out
}
