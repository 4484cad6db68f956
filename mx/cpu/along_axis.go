package cpu

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx/prim"
)

func init() {
	defKernel(func(op prim.TakeAlongAxis, n *prim.Node, in []operand) *Buffer {
		a := moveAxisLast(in[0], op.Axis)
		idx := moveAxisLast(in[1], op.Axis)
		ra, ri := a.shape[len(a.shape)-1], idx.shape[len(idx.shape)-1]
		iv := ints(idx.Buffer)
		out := alloc(n.DType, len(iv))
		rows := len(iv) / max(ri, 1)
		takeRows(out, a.Buffer, iv, rows, ra, ri)
		return moveLastAxisTo(out, idx.shape, n.DType, op.Axis)
	})
	defKernel(func(op prim.PutAlongAxis, n *prim.Node, in []operand) *Buffer {
		a := moveAxisLast(in[0], op.Axis)
		idx := moveAxisLast(in[1], op.Axis)
		vals := moveAxisLast(in[2], op.Axis)
		ra, ri := a.shape[len(a.shape)-1], idx.shape[len(idx.shape)-1]
		iv := ints(idx.Buffer)
		out := cloneBuffer(a.Buffer)
		rows := len(iv) / max(ri, 1)
		putRows(out, vals.Buffer, n.DType, iv, rows, ra, ri, op.Add)
		return moveLastAxisTo(out, a.shape, n.DType, op.Axis)
	})
}

func cloneBuffer(b *Buffer) *Buffer {
	out := alloc(dtypeOf(b), lenOf(b))
	copyInto(out, b)
	return out
}

// wrapIndex maps a possibly negative index into [0, n) or panics.
func wrapIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		panic(fmt.Sprintf("index %d out of range for axis of size %d", i, n))
	}
	return i
}

func takeRows(out, a *Buffer, idx []int, rows, ra, ri int) {
	switch o := out.data.(type) {
	case []float32:
		takeRowsT(o, a.data.([]float32), idx, rows, ra, ri)
	case []float64:
		takeRowsT(o, a.data.([]float64), idx, rows, ra, ri)
	case []uint16:
		takeRowsT(o, a.data.([]uint16), idx, rows, ra, ri)
	case []int32:
		takeRowsT(o, a.data.([]int32), idx, rows, ra, ri)
	case []int64:
		takeRowsT(o, a.data.([]int64), idx, rows, ra, ri)
	case []uint8:
		takeRowsT(o, a.data.([]uint8), idx, rows, ra, ri)
	case []uint32:
		takeRowsT(o, a.data.([]uint32), idx, rows, ra, ri)
	case []bool:
		takeRowsT(o, a.data.([]bool), idx, rows, ra, ri)
	}
}

func takeRowsT[T any](out, a []T, idx []int, rows, ra, ri int) {
	parallelFor(rows, ri, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for j := 0; j < ri; j++ {
				out[r*ri+j] = a[r*ra+wrapIndex(idx[r*ri+j], ra)]
			}
		}
	})
}

func putRows(out, vals *Buffer, dt prim.DType, idx []int, rows, ra, ri int, add bool) {
	switch o := out.data.(type) {
	case []float32:
		putRowsT(o, vals.data.([]float32), idx, rows, ra, ri, add)
	case []float64:
		putRowsT(o, vals.data.([]float64), idx, rows, ra, ri, add)
	case []uint16:
		if add { // accumulate half types in float32
			f := f32(out, dt)
			putRowsT(f, f32(vals, dt), idx, rows, ra, ri, add)
			copy(o, fromF32(f, dt).data.([]uint16))
			return
		}
		putRowsT(o, vals.data.([]uint16), idx, rows, ra, ri, false)
	case []int32:
		putRowsT(o, vals.data.([]int32), idx, rows, ra, ri, add)
	case []int64:
		putRowsT(o, vals.data.([]int64), idx, rows, ra, ri, add)
	case []uint8:
		putRowsT(o, vals.data.([]uint8), idx, rows, ra, ri, add)
	case []uint32:
		putRowsT(o, vals.data.([]uint32), idx, rows, ra, ri, add)
	case []bool:
		b := vals.data.([]bool)
		for r := 0; r < rows; r++ {
			for j := 0; j < ri; j++ {
				k := r*ra + wrapIndex(idx[r*ri+j], ra)
				o[k] = (add && o[k]) || b[r*ri+j]
			}
		}
	}
}

func putRowsT[T float | integer | ~uint16](out, vals []T, idx []int, rows, ra, ri int, add bool) {
	parallelFor(rows, ri, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for j := 0; j < ri; j++ {
				k := r*ra + wrapIndex(idx[r*ri+j], ra)
				if add {
					out[k] += vals[r*ri+j]
				} else {
					out[k] = vals[r*ri+j]
				}
			}
		}
	})
}
