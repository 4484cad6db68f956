package cpu

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// binaryKernel computes a Binary op. mx has already promoted both inputs to one dtype.
func binaryKernel(op prim.Binary, n *prim.Node, in []operand) *Buffer {
	a, b := in[0], in[1]
	it := newRowIter(n.Shape, prim.BroadcastStrides(a.shape, n.Shape), prim.BroadcastStrides(b.shape, n.Shape))
	k := op.Kind
	dt := a.dtype
	switch {
	case dt.IsFloat() && k.IsComparison():
		out := make([]bool, n.Size())
		if dt == prim.Float64 {
			binaryRows(it, out, a.data.([]float64), b.data.([]float64), compareFn[float64](k))
		} else {
			binaryRows(it, out, f32(a.Buffer, dt), f32(b.Buffer, dt), compareFn[float32](k))
		}
		return &Buffer{out}
	case dt == prim.Float64:
		out := make([]float64, n.Size())
		binaryRows(it, out, a.data.([]float64), b.data.([]float64), floatBinaryFn[float64](k))
		return &Buffer{out}
	case dt.IsFloat():
		out := make([]float32, n.Size())
		x, y := f32(a.Buffer, dt), f32(b.Buffer, dt)
		if !arithF32(k, it, out, x, y) {
			binaryRows(it, out, x, y, floatBinaryFn[float32](k))
		}
		return fromF32(out, n.DType)
	case dt == prim.Bool:
		return boolBinary(k, it, n, a.data.([]bool), b.data.([]bool))
	}
	switch x := a.data.(type) {
	case []int32:
		return intBinary(k, it, n, x, b.data.([]int32))
	case []int64:
		return intBinary(k, it, n, x, b.data.([]int64))
	case []uint8:
		return intBinary(k, it, n, x, b.data.([]uint8))
	case []uint32:
		return intBinary(k, it, n, x, b.data.([]uint32))
	}
	panic(fmt.Sprintf("%s is not defined for %s", k, dt))
}

// binaryRows applies f row by row, with the operands' own strides along the row.
func binaryRows[T, U any](it *rowIter, out []U, a, b []T, f func(x, y T) U) {
	n, sa, sb := it.n, it.inner[0], it.inner[1]
	it.forRows(func(r int, offs []int) {
		o := out[r*n : r*n+n]
		ia, ib := offs[0], offs[1]
		for i := range o {
			o[i] = f(a[ia], b[ib])
			ia += sa
			ib += sb
		}
	})
}

// arithF32 runs the float32 loops below over contiguous or scalar-broadcast rows; it reports
// false (computing nothing) for other strides.
func arithF32(k prim.BinaryKind, it *rowIter, out, a, b []float32) bool {
	n, sa, sb := it.n, it.inner[0], it.inner[1]
	if (sa != 1 && sa != 0) || (sb != 1 && sb != 0) {
		return false
	}
	it.forRows(func(r int, offs []int) {
		o := out[r*n : r*n+n]
		switch {
		case sa == 1 && sb == 1:
			binaryF32VV(k, o, a[offs[0]:offs[0]+n], b[offs[1]:offs[1]+n])
		case sa == 1:
			binaryF32VS(k, o, a[offs[0]:offs[0]+n], b[offs[1]])
		case sb == 1:
			binaryF32SV(k, o, a[offs[0]], b[offs[1]:offs[1]+n])
		default:
			binaryF32SV(k, o[:1], a[offs[0]], b[offs[1]:offs[1]+1])
			for i := range o {
				o[i] = o[0]
			}
		}
	})
	return true
}

// binaryF32VV computes o[i] = x[i] k y[i]. The four arithmetic kinds run in AVX assembly where
// available (fuse_amd64.s), else, like Maximum and Minimum, in plain loops; the others call
// their float32 function per element. Fused and unfused kernels both compute through these
// loops, so they agree bitwise.
func binaryF32VV(k prim.BinaryKind, o, x, y []float32) {
	x, y = x[:len(o)], y[:len(o)]
	if arithVVAsm(k, o, x, y) {
		return
	}
	switch k {
	case prim.Add:
		for i := range o {
			o[i] = x[i] + y[i]
		}
	case prim.Sub:
		for i := range o {
			o[i] = x[i] - y[i]
		}
	case prim.Mul:
		for i := range o {
			o[i] = x[i] * y[i]
		}
	case prim.Div:
		for i := range o {
			o[i] = x[i] / y[i]
		}
	case prim.Maximum:
		for i := range o {
			o[i] = maxNaN(x[i], y[i])
		}
	case prim.Minimum:
		for i := range o {
			o[i] = minNaN(x[i], y[i])
		}
	default:
		f := floatBinaryFn[float32](k)
		for i := range o {
			o[i] = f(x[i], y[i])
		}
	}
}

// binaryF32VS computes o[i] = x[i] k y.
func binaryF32VS(k prim.BinaryKind, o, x []float32, y float32) {
	x = x[:len(o)]
	if arithVSAsm(k, o, x, y) {
		return
	}
	switch k {
	case prim.Add:
		for i := range o {
			o[i] = x[i] + y
		}
	case prim.Sub:
		for i := range o {
			o[i] = x[i] - y
		}
	case prim.Mul:
		for i := range o {
			o[i] = x[i] * y
		}
	case prim.Div:
		for i := range o {
			o[i] = x[i] / y
		}
	case prim.Maximum:
		for i := range o {
			o[i] = maxNaN(x[i], y)
		}
	case prim.Minimum:
		for i := range o {
			o[i] = minNaN(x[i], y)
		}
	default:
		f := floatBinaryFn[float32](k)
		for i := range o {
			o[i] = f(x[i], y)
		}
	}
}

// binaryF32SV computes o[i] = x k y[i].
func binaryF32SV(k prim.BinaryKind, o []float32, x float32, y []float32) {
	y = y[:len(o)]
	if arithSVAsm(k, o, x, y) {
		return
	}
	switch k {
	case prim.Add:
		for i := range o {
			o[i] = x + y[i]
		}
	case prim.Sub:
		for i := range o {
			o[i] = x - y[i]
		}
	case prim.Mul:
		for i := range o {
			o[i] = x * y[i]
		}
	case prim.Div:
		for i := range o {
			o[i] = x / y[i]
		}
	default:
		f := floatBinaryFn[float32](k)
		for i := range o {
			o[i] = f(x, y[i])
		}
	}
}

// maxNaN is the larger of x and y, or x if x is NaN (y if only y is NaN).
func maxNaN[T float](x, y T) T {
	if x > y || x != x {
		return x
	}
	return y
}

// minNaN is the smaller of x and y, NaN-propagating like maxNaN.
func minNaN[T float](x, y T) T {
	if x < y || x != x {
		return x
	}
	return y
}

type float interface{ ~float32 | ~float64 }

func floatBinaryFn[T float](k prim.BinaryKind) func(x, y T) T {
	switch k {
	case prim.Add:
		return func(x, y T) T { return x + y }
	case prim.Sub:
		return func(x, y T) T { return x - y }
	case prim.Mul:
		return func(x, y T) T { return x * y }
	case prim.Div:
		return func(x, y T) T { return x / y }
	case prim.Pow:
		return func(x, y T) T { return T(math.Pow(float64(x), float64(y))) }
	case prim.Maximum:
		return maxNaN[T]
	case prim.Minimum:
		return minNaN[T]
	case prim.Remainder:
		return func(x, y T) T {
			r := T(math.Mod(float64(x), float64(y)))
			if r != 0 && (r < 0) != (y < 0) {
				r += y
			}
			return r
		}
	case prim.Atan2:
		return func(x, y T) T { return T(math.Atan2(float64(x), float64(y))) }
	}
	panic(fmt.Sprintf("%s is not defined for floats", k))
}

func compareFn[T float | integer](k prim.BinaryKind) func(x, y T) bool {
	switch k {
	case prim.Equal:
		return func(x, y T) bool { return x == y }
	case prim.NotEqual:
		return func(x, y T) bool { return x != y }
	case prim.Less:
		return func(x, y T) bool { return x < y }
	case prim.LessEqual:
		return func(x, y T) bool { return x <= y }
	case prim.Greater:
		return func(x, y T) bool { return x > y }
	case prim.GreaterEqual:
		return func(x, y T) bool { return x >= y }
	case prim.LogicalAnd:
		return func(x, y T) bool { return x != 0 && y != 0 }
	case prim.LogicalOr:
		return func(x, y T) bool { return x != 0 || y != 0 }
	}
	panic(fmt.Sprintf("%s is not a comparison", k))
}

func intBinary[T integer](k prim.BinaryKind, it *rowIter, n *prim.Node, a, b []T) *Buffer {
	if k.IsComparison() {
		out := make([]bool, n.Size())
		binaryRows(it, out, a, b, compareFn[T](k))
		return &Buffer{out}
	}
	var f func(x, y T) T
	switch k {
	case prim.Add:
		f = func(x, y T) T { return x + y }
	case prim.Sub:
		f = func(x, y T) T { return x - y }
	case prim.Mul:
		f = func(x, y T) T { return x * y }
	case prim.Div: // floor division, like NumPy's // for integers
		f = func(x, y T) T {
			if y == 0 {
				return 0
			}
			q := x / y
			if (x%y != 0) && ((x < 0) != (y < 0)) {
				q--
			}
			return q
		}
	case prim.Remainder:
		f = func(x, y T) T {
			if y == 0 {
				return 0
			}
			r := x % y
			if r != 0 && ((r < 0) != (y < 0)) {
				r += y
			}
			return r
		}
	case prim.Maximum:
		f = func(x, y T) T { return max(x, y) }
	case prim.Minimum:
		f = func(x, y T) T { return min(x, y) }
	case prim.Pow:
		f = func(x, y T) T {
			r := T(1)
			for e := int64(y); e > 0; e-- {
				r *= x
			}
			return r
		}
	case prim.BitwiseAnd:
		f = func(x, y T) T { return x & y }
	case prim.BitwiseOr:
		f = func(x, y T) T { return x | y }
	case prim.BitwiseXor:
		f = func(x, y T) T { return x ^ y }
	case prim.ShiftLeft:
		f = func(x, y T) T { return x << uint64(y) }
	case prim.ShiftRight:
		f = func(x, y T) T { return x >> uint64(y) }
	default:
		panic(fmt.Sprintf("%s is not defined for integers", k))
	}
	out := make([]T, n.Size())
	binaryRows(it, out, a, b, f)
	return &Buffer{out}
}

func boolBinary(k prim.BinaryKind, it *rowIter, n *prim.Node, a, b []bool) *Buffer {
	var f func(x, y bool) bool
	switch k {
	case prim.Equal:
		f = func(x, y bool) bool { return x == y }
	case prim.NotEqual, prim.BitwiseXor:
		f = func(x, y bool) bool { return x != y }
	case prim.LogicalAnd, prim.BitwiseAnd, prim.Mul, prim.Minimum:
		f = func(x, y bool) bool { return x && y }
	case prim.LogicalOr, prim.BitwiseOr, prim.Add, prim.Maximum:
		f = func(x, y bool) bool { return x || y }
	case prim.Less:
		f = func(x, y bool) bool { return !x && y }
	case prim.LessEqual:
		f = func(x, y bool) bool { return !x || y }
	case prim.Greater:
		f = func(x, y bool) bool { return x && !y }
	case prim.GreaterEqual:
		f = func(x, y bool) bool { return x || !y }
	default:
		panic(fmt.Sprintf("%s is not defined for bool", k))
	}
	out := make([]bool, n.Size())
	binaryRows(it, out, a, b, f)
	return &Buffer{out}
}

func whereKernel(_ prim.Where, n *prim.Node, in []operand) *Buffer {
	c, x, y := in[0], in[1], in[2]
	it := newRowIter(n.Shape, prim.BroadcastStrides(c.shape, n.Shape),
		prim.BroadcastStrides(x.shape, n.Shape), prim.BroadcastStrides(y.shape, n.Shape))
	cond := c.data.([]bool)
	out := alloc(n.DType, n.Size())
	switch o := out.data.(type) {
	case []float32:
		whereRows(it, o, cond, x.data.([]float32), y.data.([]float32))
	case []float64:
		whereRows(it, o, cond, x.data.([]float64), y.data.([]float64))
	case []uint16:
		whereRows(it, o, cond, x.data.([]uint16), y.data.([]uint16))
	case []int32:
		whereRows(it, o, cond, x.data.([]int32), y.data.([]int32))
	case []int64:
		whereRows(it, o, cond, x.data.([]int64), y.data.([]int64))
	case []uint8:
		whereRows(it, o, cond, x.data.([]uint8), y.data.([]uint8))
	case []uint32:
		whereRows(it, o, cond, x.data.([]uint32), y.data.([]uint32))
	case []bool:
		whereRows(it, o, cond, x.data.([]bool), y.data.([]bool))
	}
	return out
}

func whereRows[T any](it *rowIter, out []T, c []bool, a, b []T) {
	n, sc, sa, sb := it.n, it.inner[0], it.inner[1], it.inner[2]
	it.forRows(func(r int, offs []int) {
		o := out[r*n : r*n+n]
		ic, ia, ib := offs[0], offs[1], offs[2]
		for i := range o {
			if c[ic] {
				o[i] = a[ia]
			} else {
				o[i] = b[ib]
			}
			ic += sc
			ia += sa
			ib += sb
		}
	})
}
