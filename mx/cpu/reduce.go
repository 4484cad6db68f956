package cpu

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

func init() {
	defKernel(reduceKernel)
	defKernel(argReduceKernel)
	defKernel(scanKernel)
}

// reduceLayout views x as (outer, r, inner) when the reduced axes are one contiguous run after
// merging; ok is false otherwise.
func reduceLayout(shape, axes []int) (outer, r, inner int, ok bool) {
	outer, r, inner = 1, 1, 1
	state := 0 // 0: before reduced run, 1: in it, 2: after it
	for i, d := range shape {
		red := containsInt(axes, i)
		switch {
		case red && state == 2 && d != 1:
			return 0, 0, 0, false
		case red:
			if state == 0 {
				state = 1
			}
			r *= d
		case state == 0:
			outer *= d
		default:
			if state == 1 && d != 1 {
				state = 2
			}
			inner *= d
		}
	}
	return outer, r, inner, true
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func reduceKernel(op prim.Reduce, n *prim.Node, in []operand) *Buffer {
	x := in[0]
	outer, r, inner, ok := reduceLayout(x.shape, op.Axes)
	if !ok {
		// Move the reduced axes last, then reduce contiguous segments.
		var perm []int
		for i := range x.shape {
			if !containsInt(op.Axes, i) {
				perm = append(perm, i)
			}
		}
		perm = append(perm, op.Axes...)
		shape := make([]int, len(perm))
		for i, p := range perm {
			shape[i] = x.shape[p]
		}
		x = operand{permute(x, perm), shape, x.dtype}
		r = 1
		for _, a := range op.Axes {
			r *= in[0].shape[a]
		}
		outer, inner = prim.ShapeSize(x.shape)/max(r, 1), 1
		if r == 0 {
			outer = n.Size()
		}
	}
	switch {
	case n.DType == prim.Bool:
		v := convertTo(x.Buffer, x.dtype, prim.Bool).data.([]bool)
		out := make([]bool, outer*inner)
		reduceBool(op.Kind, v, out, outer, r, inner)
		return &Buffer{out}
	case n.DType == prim.Float64:
		out := make([]float64, outer*inner)
		reduceGeneric(op.Kind, x.data.([]float64), out, outer, r, inner)
		return &Buffer{out}
	case n.DType.IsFloat():
		out := make([]float32, outer*inner)
		reduceGeneric(op.Kind, f32(x.Buffer, x.dtype), out, outer, r, inner)
		return fromF32(out, n.DType)
	}
	switch d := x.data.(type) {
	case []int32:
		out := make([]int32, outer*inner)
		reduceGeneric(op.Kind, d, out, outer, r, inner)
		return &Buffer{out}
	case []int64:
		out := make([]int64, outer*inner)
		reduceGeneric(op.Kind, d, out, outer, r, inner)
		return &Buffer{out}
	case []uint32:
		out := make([]uint32, outer*inner)
		reduceGeneric(op.Kind, d, out, outer, r, inner)
		return &Buffer{out}
	case []uint8:
		out := make([]uint8, outer*inner)
		reduceGeneric(op.Kind, d, out, outer, r, inner)
		return &Buffer{out}
	}
	panic(fmt.Sprintf("reduce of %s", x.dtype))
}

func identityOf[T float | integer](k prim.ReduceKind) T {
	var z T
	switch k {
	case prim.ReduceProd:
		return 1
	case prim.ReduceMax:
		switch any(z).(type) {
		case float32, float64:
			return T(math.Inf(-1))
		case int32:
			v := int32(math.MinInt32)
			return T(v)
		case int64:
			v := int64(math.MinInt64)
			return T(v)
		}
		return 0
	case prim.ReduceMin:
		switch any(z).(type) {
		case float32, float64:
			return T(math.Inf(1))
		case int32:
			v := int32(math.MaxInt32)
			return T(v)
		case int64:
			v := int64(math.MaxInt64)
			return T(v)
		case uint8:
			v := uint8(255)
			return T(v)
		case uint32:
			v := uint32(math.MaxUint32)
			return T(v)
		}
	}
	return z
}

func combineFn[T float | integer](k prim.ReduceKind) func(a, b T) T {
	switch k {
	case prim.ReduceSum:
		return func(a, b T) T { return a + b }
	case prim.ReduceProd:
		return func(a, b T) T { return a * b }
	case prim.ReduceMax:
		return func(a, b T) T {
			if b > a || b != b {
				return b
			}
			return a
		}
	case prim.ReduceMin:
		return func(a, b T) T {
			if b < a || b != b {
				return b
			}
			return a
		}
	}
	panic(fmt.Sprintf("reduce kind %d", k))
}

// reduceGeneric reduces x viewed as (outer, r, inner) into out (outer, inner). Every output is
// accumulated by one goroutine in index order, so the result does not depend on the split.
func reduceGeneric[T float | integer](k prim.ReduceKind, x, out []T, outer, r, inner int) {
	id := identityOf[T](k)
	f := combineFn[T](k)
	if inner == 1 {
		parallelFor(outer, r, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				seg := x[o*r : o*r+r]
				if k == prim.ReduceSum {
					out[o] = sumSeg(seg)
					continue
				}
				acc := id
				for _, v := range seg {
					acc = f(acc, v)
				}
				out[o] = acc
			}
		})
		return
	}
	// Columns: for each outer block, accumulate rows of length inner; split over inner.
	parallelFor(outer*inner, r, func(lo, hi int) {
		for o := lo / inner; o*inner < hi; o++ {
			c0, c1 := max(lo-o*inner, 0), min(hi-o*inner, inner)
			acc := out[o*inner+c0 : o*inner+c1]
			for i := range acc {
				acc[i] = id
			}
			for j := 0; j < r; j++ {
				row := x[(o*r+j)*inner+c0 : (o*r+j)*inner+c1]
				if k == prim.ReduceSum {
					for i, v := range row {
						acc[i] += v
					}
				} else {
					for i, v := range row {
						acc[i] = f(acc[i], v)
					}
				}
			}
		}
	})
}

// sumSeg sums with four interleaved accumulators (faster, and more accurate than one).
func sumSeg[T float | integer](s []T) T {
	var a0, a1, a2, a3 T
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a0 += s[i]
		a1 += s[i+1]
		a2 += s[i+2]
		a3 += s[i+3]
	}
	for ; i < len(s); i++ {
		a0 += s[i]
	}
	return (a0 + a1) + (a2 + a3)
}

func reduceBool(k prim.ReduceKind, x, out []bool, outer, r, inner int) {
	all := k == prim.ReduceAll || k == prim.ReduceMin || k == prim.ReduceProd
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			acc := all
			for j := 0; j < r; j++ {
				v := x[(o*r+j)*inner+i]
				if all {
					acc = acc && v
				} else {
					acc = acc || v
				}
			}
			out[o*inner+i] = acc
		}
	}
}

func argReduceKernel(op prim.ArgReduce, n *prim.Node, in []operand) *Buffer {
	x := moveAxisLast(in[0], op.Axis)
	r := x.shape[len(x.shape)-1]
	rows := n.Size()
	v := f64OrF32(x)
	out := make([]int32, rows)
	parallelFor(rows, r, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			out[o] = int32(argSeg(v, o*r, r, op.Min))
		}
	})
	return &Buffer{out}
}

// f64OrF32 gives a float view for comparisons: float64 data stays, everything else widens to
// float64 (exact for all integer and float types used here but int64 beyond 2^53).
func f64OrF32(x operand) []float64 { return f64(x.Buffer, x.dtype) }

func argSeg(v []float64, off, r int, isMin bool) int {
	best := 0
	bv := v[off]
	for j := 1; j < r; j++ {
		c := v[off+j]
		if bv != bv { // NaN wins and stays
			break
		}
		if (isMin && c < bv) || (!isMin && c > bv) || c != c {
			best, bv = j, c
		}
	}
	return best
}

func scanKernel(op prim.Scan, n *prim.Node, in []operand) *Buffer {
	x := moveAxisLast(in[0], op.Axis)
	r := x.shape[len(x.shape)-1]
	var out *Buffer
	switch {
	case n.DType == prim.Float64:
		o := make([]float64, n.Size())
		scanRows(op, x.data.([]float64), o, r)
		out = &Buffer{o}
	case n.DType.IsFloat():
		o := make([]float32, n.Size())
		scanRows(op, f32(x.Buffer, x.dtype), o, r)
		out = fromF32(o, n.DType)
	default:
		switch d := x.data.(type) {
		case []int32:
			o := make([]int32, n.Size())
			scanRows(op, d, o, r)
			out = &Buffer{o}
		case []int64:
			o := make([]int64, n.Size())
			scanRows(op, d, o, r)
			out = &Buffer{o}
		case []uint32:
			o := make([]uint32, n.Size())
			scanRows(op, d, o, r)
			out = &Buffer{o}
		case []uint8:
			o := make([]uint8, n.Size())
			scanRows(op, d, o, r)
			out = &Buffer{o}
		default:
			panic(fmt.Sprintf("scan of %s", x.dtype))
		}
	}
	return moveLastAxisTo(out, x.shape, n.DType, op.Axis)
}

func scanRows[T float | integer](op prim.Scan, x, out []T, r int) {
	if r == 0 {
		return
	}
	id := identityOf[T](op.Kind)
	f := combineFn[T](op.Kind)
	rows := len(x) / r
	parallelFor(rows, r, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			s, o := x[row*r:row*r+r], out[row*r:row*r+r]
			acc := id
			for j := 0; j < r; j++ {
				i := j
				if op.Reverse {
					i = r - 1 - j
				}
				if op.Exclusive {
					o[i] = acc
					acc = f(acc, s[i])
				} else {
					acc = f(acc, s[i])
					o[i] = acc
				}
			}
		}
	})
}
