package cpu

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

func init() {
	defKernel(func(_ prim.Identity, _ *prim.Node, in []operand) *Buffer { return in[0].Buffer })
	defKernel(func(_ prim.StopGradient, _ *prim.Node, in []operand) *Buffer { return in[0].Buffer })
	defKernel(func(_ prim.Reshape, _ *prim.Node, in []operand) *Buffer { return in[0].Buffer })
	defKernel(func(_ prim.AsType, n *prim.Node, in []operand) *Buffer {
		return convertTo(in[0].Buffer, in[0].dtype, n.DType)
	})
	defKernel(func(op prim.Full, n *prim.Node, _ []operand) *Buffer {
		v := make([]float64, n.Size())
		for i := range v {
			v[i] = op.Value
		}
		return fromF64(v, n.DType)
	})
	defKernel(func(op prim.Arange, n *prim.Node, _ []operand) *Buffer {
		v := make([]float64, n.Size())
		for i := range v {
			v[i] = op.Start + float64(i)*op.Step
		}
		return fromF64(v, n.DType)
	})
	defKernel(func(_ prim.Broadcast, n *prim.Node, in []operand) *Buffer { return broadcast(in[0], n.Shape) })
	defKernel(unaryKernel)
	defKernel(binaryKernel)
	defKernel(whereKernel)
}

// broadcast materializes x broadcast to shape.
func broadcast(x operand, shape []int) *Buffer {
	return gatherStrided(x, shape, prim.BroadcastStrides(x.shape, shape))
}

// gatherStrided materializes the contiguous array of the given shape whose element at index i
// is x's element at offset Σ i_d·strides[d] (broadcasts, transposes).
func gatherStrided(x operand, shape, strides []int) *Buffer {
	out := alloc(x.dtype, prim.ShapeSize(shape))
	it := newRowIter(shape, strides)
	switch d := x.data.(type) {
	case []float32:
		gather(it, out.data.([]float32), d)
	case []float64:
		gather(it, out.data.([]float64), d)
	case []uint16:
		gather(it, out.data.([]uint16), d)
	case []int32:
		gather(it, out.data.([]int32), d)
	case []int64:
		gather(it, out.data.([]int64), d)
	case []uint8:
		gather(it, out.data.([]uint8), d)
	case []uint32:
		gather(it, out.data.([]uint32), d)
	case []bool:
		gather(it, out.data.([]bool), d)
	default:
		panic(fmt.Sprintf("gather of %T", x.data))
	}
	return out
}

// gather copies src read through a one-operand row iterator into contiguous dst.
func gather[T any](it *rowIter, dst, src []T) {
	n, s := it.n, it.inner[0]
	it.forRows(func(r int, offs []int) {
		o := dst[r*n : r*n+n]
		off := offs[0]
		switch s {
		case 1:
			copy(o, src[off:off+n])
		case 0:
			v := src[off]
			for i := range o {
				o[i] = v
			}
		default:
			for i := range o {
				o[i] = src[off+i*s]
			}
		}
	})
}

// floatFn returns the float64 definition of a float unary kind.
func floatFn(k prim.UnaryKind) func(float64) float64 {
	switch k {
	case prim.Neg:
		return func(x float64) float64 { return -x }
	case prim.Abs:
		return math.Abs
	case prim.Sign:
		return func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return x // keeps 0, -0 and NaN
		}
	case prim.Exp:
		return math.Exp
	case prim.Log:
		return math.Log
	case prim.Log1p:
		return math.Log1p
	case prim.Expm1:
		return math.Expm1
	case prim.Sqrt:
		return math.Sqrt
	case prim.Rsqrt:
		return func(x float64) float64 { return 1 / math.Sqrt(x) }
	case prim.Square:
		return func(x float64) float64 { return x * x }
	case prim.Sin:
		return math.Sin
	case prim.Cos:
		return math.Cos
	case prim.Tanh:
		return math.Tanh
	case prim.Sigmoid:
		return sigmoid
	case prim.Erf:
		return math.Erf
	case prim.ErfInv:
		return math.Erfinv
	case prim.Floor:
		return math.Floor
	case prim.Ceil:
		return math.Ceil
	case prim.Round:
		return math.RoundToEven
	case prim.Reciprocal:
		return func(x float64) float64 { return 1 / x }
	case prim.SiLU:
		return func(x float64) float64 { return x * sigmoid(x) }
	case prim.GELU:
		return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	case prim.GELUTanh:
		return func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}
	case prim.Softplus:
		return softplus
	case prim.ReLU:
		return func(x float64) float64 {
			if x > 0 {
				return x
			}
			if x != x {
				return x
			}
			return 0
		}
	case prim.SiLUGrad:
		return func(x float64) float64 {
			if math.IsInf(x, 0) {
				return gradAtInf(x)
			}
			s := sigmoid(x)
			return s * (1 + x*(1-s))
		}
	case prim.GELUGrad:
		return func(x float64) float64 {
			if math.IsInf(x, 0) {
				return gradAtInf(x)
			}
			return 0.5*math.Erfc(-x/math.Sqrt2) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
		}
	case prim.GELUTanhGrad:
		return func(x float64) float64 {
			if math.IsInf(x, 0) {
				return gradAtInf(x)
			}
			th := math.Tanh(geluK0 * (x + geluK1*x*x*x))
			return 0.5*(1+th) + 0.5*x*(1-th*th)*geluK0*(1+3*geluK1*x*x)
		}
	}
	return nil
}

// The constants of the tanh approximation of GELU: sqrt(2/π) and the cubic coefficient.
const geluK0, geluK1 = 0.7978845608028654, 0.044715

// gradAtInf is the derivative of the SiLU and GELU family at ±Inf: 1 at +Inf, 0 at -Inf.
func gradAtInf(x float64) float64 {
	if x > 0 {
		return 1
	}
	return 0
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softplus is log(1+e^x) without overflow: max(x,0) + log1p(e^-|x|).
func softplus(x float64) float64 {
	return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

func unaryKernel(op prim.Unary, n *prim.Node, in []operand) *Buffer {
	x := in[0]
	if n.DType.IsFloat() {
		f := floatFn(op.Kind)
		if f == nil {
			panic(fmt.Sprintf("%s is not defined for %s", op.Kind, n.DType))
		}
		if n.DType == prim.Float64 {
			src := x.data.([]float64)
			out := make([]float64, len(src))
			mapSlice(out, src, f)
			return &Buffer{out}
		}
		src := f32(x.Buffer, x.dtype)
		out := make([]float32, len(src))
		parallelFor(len(src), unaryCost(op.Kind), func(lo, hi int) {
			unaryF32(op.Kind, out[lo:hi], src[lo:hi])
		})
		return fromF32(out, n.DType)
	}
	switch d := x.data.(type) {
	case []bool:
		if op.Kind != prim.LogicalNot {
			break
		}
		out := make([]bool, len(d))
		for i, v := range d {
			out[i] = !v
		}
		return &Buffer{out}
	case []int32:
		return &Buffer{unaryInt(op.Kind, d)}
	case []int64:
		return &Buffer{unaryInt(op.Kind, d)}
	case []uint8:
		return &Buffer{unaryInt(op.Kind, d)}
	case []uint32:
		return &Buffer{unaryInt(op.Kind, d)}
	}
	panic(fmt.Sprintf("%s is not defined for %s", op.Kind, n.DType))
}

// unaryCost is a rough cost per element of a float32 unary kind, for parallelFor.
func unaryCost(k prim.UnaryKind) int {
	switch k {
	case prim.Neg, prim.Abs, prim.Square, prim.ReLU, prim.Sign:
		return 1
	}
	return 16
}

// unaryF32 computes out[i] = f(src[i]) for a float unary kind in float32 (len(out) == len(src)).
// The kind is switched on once; each case is a plain loop. Exp, Log, Tanh, Sigmoid, Erf, SiLU,
// GELU, GELUTanh and the derivative kinds use the float32 functions in fastmath.go; the rarer
// transcendental kinds round package math's float64 result. On amd64, Sqrt and Square run in
// AVX assembly with the same results (fuse_amd64.s), and the sigmoid and GELU families in
// AVX2/FMA assembly that computes the same functions to the same accuracy in four lanes
// (fuse_math_amd64.s); results may then differ from the Go functions' in the last bit.
func unaryF32(k prim.UnaryKind, out, src []float32) {
	out = out[:len(src)]
	if unaryAsm(k, out, src) || activationAsm(k, out, src) {
		return
	}
	switch k {
	case prim.Neg:
		for i, v := range src {
			out[i] = -v
		}
	case prim.Abs:
		for i, v := range src {
			out[i] = math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
		}
	case prim.Square:
		for i, v := range src {
			out[i] = v * v
		}
	case prim.Sqrt:
		for i, v := range src {
			out[i] = float32(math.Sqrt(float64(v)))
		}
	case prim.Rsqrt:
		for i, v := range src {
			out[i] = float32(1 / math.Sqrt(float64(v)))
		}
	case prim.Reciprocal:
		for i, v := range src {
			out[i] = 1 / v
		}
	case prim.ReLU:
		for i, v := range src {
			if !(v <= 0) { // keeps NaN
				out[i] = v
			} else {
				out[i] = 0
			}
		}
	case prim.Exp:
		for i, v := range src {
			out[i] = float32(exp64(float64(v)))
		}
	case prim.Log:
		for i, v := range src {
			out[i] = logF32(v)
		}
	case prim.Tanh:
		for i, v := range src {
			out[i] = tanhF32(v)
		}
	case prim.Sigmoid:
		for i, v := range src {
			out[i] = float32(sigmoid64(float64(v)))
		}
	case prim.SiLU:
		for i, v := range src {
			x := float64(v)
			out[i] = float32(x * sigmoid64(x))
		}
	case prim.Erf:
		for i, v := range src {
			out[i] = erfF32(v)
		}
	case prim.GELU:
		for i, v := range src {
			out[i] = geluF32(v)
		}
	case prim.GELUTanh:
		for i, v := range src {
			out[i] = geluTanhF32(v)
		}
	case prim.SiLUGrad:
		for i, v := range src {
			out[i] = siluGradF32(v)
		}
	case prim.GELUGrad:
		for i, v := range src {
			out[i] = geluGradF32(v)
		}
	case prim.GELUTanhGrad:
		for i, v := range src {
			out[i] = geluTanhGradF32(v)
		}
	default:
		f := floatFn(k)
		for i, v := range src {
			out[i] = float32(f(float64(v)))
		}
	}
}

func mapSlice[T, U any](out []U, src []T, f func(T) U) {
	parallelFor(len(src), 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = f(src[i])
		}
	})
}

type integer interface {
	~int32 | ~int64 | ~uint8 | ~uint32
}

func unaryInt[T integer](k prim.UnaryKind, d []T) []T {
	out := make([]T, len(d))
	var f func(T) T
	switch k {
	case prim.Neg:
		f = func(x T) T { return -x }
	case prim.Abs:
		f = func(x T) T {
			if x < 0 {
				return -x
			}
			return x
		}
	case prim.Sign:
		f = func(x T) T {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return ^T(0) // -1 for signed types
			}
			return 0
		}
	case prim.Square:
		f = func(x T) T { return x * x }
	case prim.BitwiseNot:
		f = func(x T) T { return ^x }
	case prim.Floor, prim.Ceil, prim.Round:
		f = func(x T) T { return x }
	default:
		panic(fmt.Sprintf("%s is not defined for integers", k))
	}
	mapSlice(out, d, f)
	return out
}
