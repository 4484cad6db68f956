package mx

import (
	"fmt"
	"math"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

func unary(k prim.UnaryKind, a *Array) *Array {
	dt := a.dtype
	switch k {
	case prim.LogicalNot:
		if dt != Bool {
			a = AsType(a, Bool)
		}
		return newArray(prim.Unary{Kind: k}, a.shape, Bool, a)
	case prim.Neg, prim.Abs, prim.Sign, prim.Square, prim.Floor, prim.Ceil, prim.Round, prim.BitwiseNot:
		if dt == Bool && k != prim.BitwiseNot {
			a, dt = AsType(a, Int32), Int32
		}
	default: // transcendental: integers compute in float32
		if !dt.IsFloat() {
			a, dt = AsType(a, Float32), Float32
		}
	}
	return newArray(prim.Unary{Kind: k}, a.shape, dt, a)
}

// Neg is -a.
func Neg(a *Array) *Array { return unary(prim.Neg, a) }

// Abs is |a|.
func Abs(a *Array) *Array { return unary(prim.Abs, a) }

// Sign is -1, 0 or 1 (NaN stays NaN).
func Sign(a *Array) *Array { return unary(prim.Sign, a) }

// Exp is e^a.
func Exp(a *Array) *Array { return unary(prim.Exp, a) }

// Log is the natural logarithm.
func Log(a *Array) *Array { return unary(prim.Log, a) }

// Log1p is log(1+a), accurate near 0.
func Log1p(a *Array) *Array { return unary(prim.Log1p, a) }

// Expm1 is e^a - 1, accurate near 0.
func Expm1(a *Array) *Array { return unary(prim.Expm1, a) }

// Sqrt is the square root.
func Sqrt(a *Array) *Array { return unary(prim.Sqrt, a) }

// Rsqrt is 1/sqrt(a).
func Rsqrt(a *Array) *Array { return unary(prim.Rsqrt, a) }

// Square is a².
func Square(a *Array) *Array { return unary(prim.Square, a) }

// Sin is the sine.
func Sin(a *Array) *Array { return unary(prim.Sin, a) }

// Cos is the cosine.
func Cos(a *Array) *Array { return unary(prim.Cos, a) }

// Tanh is the hyperbolic tangent.
func Tanh(a *Array) *Array { return unary(prim.Tanh, a) }

// Sigmoid is 1/(1+e^-a).
func Sigmoid(a *Array) *Array { return unary(prim.Sigmoid, a) }

// Erf is the error function.
func Erf(a *Array) *Array { return unary(prim.Erf, a) }

// ErfInv is the inverse error function.
func ErfInv(a *Array) *Array { return unary(prim.ErfInv, a) }

// Floor rounds down.
func Floor(a *Array) *Array { return unary(prim.Floor, a) }

// Ceil rounds up.
func Ceil(a *Array) *Array { return unary(prim.Ceil, a) }

// Round rounds to the nearest integer, ties to even.
func Round(a *Array) *Array { return unary(prim.Round, a) }

// Reciprocal is 1/a.
func Reciprocal(a *Array) *Array { return unary(prim.Reciprocal, a) }

// SiLU is a·sigmoid(a).
func SiLU(a *Array) *Array { return unary(prim.SiLU, a) }

// GELU is the exact GELU, a·Φ(a) with the normal CDF Φ.
func GELU(a *Array) *Array { return unary(prim.GELU, a) }

// GELUTanh is the tanh approximation of GELU (as in GPT-2).
func GELUTanh(a *Array) *Array { return unary(prim.GELUTanh, a) }

// Softplus is log(1+e^a), computed without overflow.
func Softplus(a *Array) *Array { return unary(prim.Softplus, a) }

// ReLU is max(a, 0).
func ReLU(a *Array) *Array { return unary(prim.ReLU, a) }

// LogicalNot is !a (as bool).
func LogicalNot(a *Array) *Array { return unary(prim.LogicalNot, a) }

// BitwiseNot is ^a for integers (! for bool).
func BitwiseNot(a *Array) *Array { return unary(prim.BitwiseNot, a) }

// resultType is the dtype two operands promote to: any float beats any integer; two floats of
// the same width but different kinds (float16, bfloat16) meet at float32; otherwise the wider.
func resultType(a, b DType) DType {
	switch {
	case a == b:
		return a
	case a.IsFloat() && !b.IsFloat():
		return a
	case b.IsFloat() && !a.IsFloat():
		return b
	case (a == Float16 && b == BFloat16) || (a == BFloat16 && b == Float16):
		return Float32
	}
	return max(a, b)
}

// BroadcastShapes gives the NumPy broadcast of the shapes, panicking (naming op) if they clash.
func BroadcastShapes(op string, shapes ...[]int) []int {
	n := 0
	for _, s := range shapes {
		n = max(n, len(s))
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := n - len(s)
		for i, d := range s {
			switch {
			case d == out[off+i] || d == 1:
			case out[off+i] == 1:
				out[off+i] = d
			default:
				panic(fmt.Sprintf("mx.%s: shapes %v cannot be broadcast together", op, shapes))
			}
		}
	}
	return out
}

func binary(k prim.BinaryKind, a, b *Array) *Array {
	shape := BroadcastShapes(k.String(), a.shape, b.shape)
	dt := resultType(a.dtype, b.dtype)
	switch k {
	case prim.Pow, prim.Atan2:
		if !dt.IsFloat() && k == prim.Atan2 {
			dt = Float32
		}
	case prim.LogicalAnd, prim.LogicalOr:
		dt = Bool
	case prim.BitwiseAnd, prim.BitwiseOr, prim.BitwiseXor, prim.ShiftLeft, prim.ShiftRight:
		if dt.IsFloat() {
			panic(fmt.Sprintf("mx.%s: needs integer or bool inputs, got %s and %s", k, a.dtype, b.dtype))
		}
	}
	if a.dtype != dt {
		a = AsType(a, dt)
	}
	if b.dtype != dt {
		b = AsType(b, dt)
	}
	out := dt
	if k.IsComparison() {
		out = Bool
	}
	return newArray(prim.Binary{Kind: k}, shape, out, a, b)
}

// Add is a+b with broadcasting.
func Add(a, b *Array) *Array { return binary(prim.Add, a, b) }

// Sub is a-b.
func Sub(a, b *Array) *Array { return binary(prim.Sub, a, b) }

// Mul is a*b.
func Mul(a, b *Array) *Array { return binary(prim.Mul, a, b) }

// Div is a/b (floor division for integers).
func Div(a, b *Array) *Array { return binary(prim.Div, a, b) }

// Pow is a^b.
func Pow(a, b *Array) *Array { return binary(prim.Pow, a, b) }

// Maximum is the elementwise max (NaN propagates).
func Maximum(a, b *Array) *Array { return binary(prim.Maximum, a, b) }

// Minimum is the elementwise min (NaN propagates).
func Minimum(a, b *Array) *Array { return binary(prim.Minimum, a, b) }

// Remainder is a mod b with the sign of b.
func Remainder(a, b *Array) *Array { return binary(prim.Remainder, a, b) }

// Atan2 is the angle of (b, a): atan(a/b) in the right quadrant.
func Atan2(a, b *Array) *Array { return binary(prim.Atan2, a, b) }

// Equal is a == b.
func Equal(a, b *Array) *Array { return binary(prim.Equal, a, b) }

// NotEqual is a != b.
func NotEqual(a, b *Array) *Array { return binary(prim.NotEqual, a, b) }

// Less is a < b.
func Less(a, b *Array) *Array { return binary(prim.Less, a, b) }

// LessEqual is a <= b.
func LessEqual(a, b *Array) *Array { return binary(prim.LessEqual, a, b) }

// Greater is a > b.
func Greater(a, b *Array) *Array { return binary(prim.Greater, a, b) }

// GreaterEqual is a >= b.
func GreaterEqual(a, b *Array) *Array { return binary(prim.GreaterEqual, a, b) }

// LogicalAnd is a && b.
func LogicalAnd(a, b *Array) *Array { return binary(prim.LogicalAnd, a, b) }

// LogicalOr is a || b.
func LogicalOr(a, b *Array) *Array { return binary(prim.LogicalOr, a, b) }

// BitwiseAnd is a & b.
func BitwiseAnd(a, b *Array) *Array { return binary(prim.BitwiseAnd, a, b) }

// BitwiseOr is a | b.
func BitwiseOr(a, b *Array) *Array { return binary(prim.BitwiseOr, a, b) }

// BitwiseXor is a ^ b.
func BitwiseXor(a, b *Array) *Array { return binary(prim.BitwiseXor, a, b) }

// ShiftLeft is a << b.
func ShiftLeft(a, b *Array) *Array { return binary(prim.ShiftLeft, a, b) }

// ShiftRight is a >> b.
func ShiftRight(a, b *Array) *Array { return binary(prim.ShiftRight, a, b) }

// scalarFor is v as a 0-d array of a's dtype (a "weak" scalar that does not promote a).
func scalarFor(a *Array, v float64) *Array {
	s := newArray(prim.Full{Value: v}, nil, a.dtype)
	s.dev = a.dev
	return s
}

// AddScalar is a+v in a's dtype.
func AddScalar(a *Array, v float64) *Array { return Add(a, scalarFor(a, v)) }

// SubScalar is a-v in a's dtype.
func SubScalar(a *Array, v float64) *Array { return Sub(a, scalarFor(a, v)) }

// MulScalar is a*v in a's dtype.
func MulScalar(a *Array, v float64) *Array { return Mul(a, scalarFor(a, v)) }

// DivScalar is a/v in a's dtype.
func DivScalar(a *Array, v float64) *Array { return Div(a, scalarFor(a, v)) }

// PowScalar is a^v in a's dtype.
func PowScalar(a *Array, v float64) *Array { return Pow(a, scalarFor(a, v)) }

// MaximumScalar is max(a, v).
func MaximumScalar(a *Array, v float64) *Array { return Maximum(a, scalarFor(a, v)) }

// MinimumScalar is min(a, v).
func MinimumScalar(a *Array, v float64) *Array { return Minimum(a, scalarFor(a, v)) }

// Where picks x where cond is true, else y, broadcasting all three.
func Where(cond, x, y *Array) *Array {
	shape := BroadcastShapes("Where", cond.shape, x.shape, y.shape)
	dt := resultType(x.dtype, y.dtype)
	if cond.dtype != Bool {
		cond = AsType(cond, Bool)
	}
	if x.dtype != dt {
		x = AsType(x, dt)
	}
	if y.dtype != dt {
		y = AsType(y, dt)
	}
	return newArray(prim.Where{}, shape, dt, cond, x, y)
}

// Clip limits a to [lo, hi]; a nil bound is open.
func Clip(a, lo, hi *Array) *Array {
	if lo != nil {
		a = Maximum(a, lo)
	}
	if hi != nil {
		a = Minimum(a, hi)
	}
	return a
}

// ClipScalar limits a to [lo, hi].
func ClipScalar(a *Array, lo, hi float64) *Array {
	return MinimumScalar(MaximumScalar(a, lo), hi)
}

// AsType converts a to dtype (a itself if it already has it).
func AsType(a *Array, dtype DType) *Array {
	if a.dtype == dtype {
		return a
	}
	return newArray(prim.AsType{}, a.shape, dtype, a)
}

// StopGradient is a, but transforms treat it as a constant.
func StopGradient(a *Array) *Array { return newArray(prim.StopGradient{}, a.shape, a.dtype, a) }

func init() {
	defVJP(func(op prim.Unary, node, c *Array) []*Array {
		x := node.inputs[0]
		if !x.dtype.IsFloat() {
			return nil
		}
		// Each rule is c times the derivative, written with as few elementwise passes as
		// possible: the activations have derivative kinds computed in one kernel, and constants
		// are 0-d scalars broadcast by the kernels rather than full arrays.
		var g *Array
		switch op.Kind {
		case prim.Neg:
			g = Neg(c)
		case prim.Abs:
			g = Mul(c, Sign(x))
		case prim.Sign, prim.Floor, prim.Ceil, prim.Round:
			return nil
		case prim.Exp:
			g = Mul(c, node)
		case prim.Log:
			g = Div(c, x)
		case prim.Log1p:
			g = Div(c, AddScalar(x, 1))
		case prim.Expm1:
			g = Mul(c, AddScalar(node, 1))
		case prim.Sqrt:
			g = Div(MulScalar(c, 0.5), node)
		case prim.Rsqrt:
			g = Mul(c, MulScalar(Div(node, x), -0.5))
		case prim.Square:
			g = Mul(c, MulScalar(x, 2))
		case prim.Sin:
			g = Mul(c, Cos(x))
		case prim.Cos:
			g = Neg(Mul(c, Sin(x)))
		case prim.Tanh:
			g = Mul(c, oneMinus(Square(node)))
		case prim.Sigmoid:
			g = Mul(c, Mul(node, oneMinus(node)))
		case prim.Erf:
			g = Mul(c, MulScalar(Exp(Neg(Square(x))), 2/math.Sqrt(math.Pi)))
		case prim.ErfInv:
			g = Mul(c, MulScalar(Exp(Square(node)), math.Sqrt(math.Pi)/2))
		case prim.Reciprocal:
			g = Neg(Mul(c, Square(node)))
		case prim.SiLU:
			g = Mul(c, unary(prim.SiLUGrad, x))
		case prim.GELU:
			g = Mul(c, unary(prim.GELUGrad, x))
		case prim.GELUTanh:
			g = Mul(c, unary(prim.GELUTanhGrad, x))
		case prim.Softplus:
			g = Mul(c, Sigmoid(x))
		case prim.ReLU:
			g = Where(Greater(x, scalarFor(x, 0)), c, scalarFor(c, 0))
		case prim.SiLUGrad:
			// σ'(x)·(2 + x·(1 - 2σ(x))) with σ' = σ(1-σ)
			s := Sigmoid(x)
			ds := Mul(s, oneMinus(s))
			g = Mul(c, Mul(ds, Add(Mul(x, oneMinus(MulScalar(s, 2))), scalarFor(x, 2))))
		case prim.GELUGrad:
			// φ(x)·(2 - x²)
			pdf := MulScalar(Exp(MulScalar(Square(x), -0.5)), 1/math.Sqrt(2*math.Pi))
			g = Mul(c, Mul(pdf, Sub(scalarFor(x, 2), Square(x))))
		case prim.GELUTanhGrad:
			g = Mul(c, geluTanhSecond(x))
		default:
			return nil
		}
		return []*Array{g}
	})
	defVJP(func(op prim.Binary, node, c *Array) []*Array {
		a, b := node.inputs[0], node.inputs[1]
		if !node.dtype.IsFloat() {
			return nil
		}
		var ga, gb *Array
		switch op.Kind {
		case prim.Add:
			ga, gb = c, c
		case prim.Sub:
			ga, gb = c, Neg(c)
		case prim.Mul:
			ga, gb = Mul(c, b), Mul(c, a)
		case prim.Div:
			ga = Div(c, b)
			gb = Neg(Mul(ga, Div(a, b)))
		case prim.Pow:
			ga = Mul(c, Mul(b, Pow(a, SubScalar(b, 1))))
			// d/db a^b = a^b log a; define it as 0 where a == 0 (the limit for b > 0).
			logA := Where(Equal(a, ZerosLike(a)), ZerosLike(a), Log(a))
			gb = Mul(c, Mul(node, logA))
		case prim.Maximum:
			m, z := GreaterEqual(a, b), scalarFor(c, 0)
			ga, gb = Where(m, c, z), Where(m, z, c)
		case prim.Minimum:
			m, z := LessEqual(a, b), scalarFor(c, 0)
			ga, gb = Where(m, c, z), Where(m, z, c)
		case prim.Remainder:
			ga, gb = c, Neg(Mul(c, Floor(Div(a, b))))
		case prim.Atan2:
			den := Add(Square(a), Square(b))
			ga, gb = Mul(c, Div(b, den)), Neg(Mul(c, Div(a, den)))
		default:
			return nil
		}
		return []*Array{sumToShape(ga, a.shape), sumToShape(gb, b.shape)}
	})
	defVJP(func(_ prim.Where, node, c *Array) []*Array {
		cond, x, y := node.inputs[0], node.inputs[1], node.inputs[2]
		z := scalarFor(c, 0)
		return []*Array{nil, sumToShape(Where(cond, c, z), x.shape), sumToShape(Where(cond, z, c), y.shape)}
	})
	defVJP(func(_ prim.AsType, node, c *Array) []*Array {
		if !node.inputs[0].dtype.IsFloat() || !node.dtype.IsFloat() {
			return nil
		}
		return []*Array{AsType(c, node.inputs[0].dtype)}
	})
	defVJP(func(_ prim.Identity, _, c *Array) []*Array { return []*Array{c} })
	defVJP(func(_ prim.StopGradient, _, _ *Array) []*Array { return nil })
	defVJP(func(_ prim.Full, _, _ *Array) []*Array { return nil })
	defVJP(func(_ prim.Arange, _, _ *Array) []*Array { return nil })
}

// oneMinus is 1 - a, with the 1 a broadcast scalar.
func oneMinus(a *Array) *Array { return Sub(scalarFor(a, 1), a) }

// geluTanhSecond is the second derivative of GELUTanh(x) = x·S with S = σ(2u),
// u = k0·(x + k1·x³): with D = S·(1-S), it is D·(4u' + 2x·u” + 4x·u'²·(1 - 2S)).
func geluTanhSecond(x *Array) *Array {
	const k0, k1 = 0.7978845608028654, 0.044715
	x2 := Square(x)
	du := MulScalar(AddScalar(MulScalar(x2, 3*k1), 1), k0) // u'
	d2u := MulScalar(x, 6*k0*k1)                           // u''
	s := Sigmoid(MulScalar(Mul(x, AddScalar(MulScalar(x2, k1), 1)), 2*k0))
	d := Mul(s, oneMinus(s))
	t := Add(MulScalar(du, 4), MulScalar(Mul(x, d2u), 2))
	t = Add(t, Mul(MulScalar(Mul(x, Square(du)), 4), oneMinus(MulScalar(s, 2))))
	return Mul(d, t)
}

// sumToShape sums g over the dimensions that broadcasting added to reach g's shape from shape.
func sumToShape(g *Array, shape []int) *Array {
	if slices.Equal(g.shape, shape) {
		return g
	}
	off := len(g.shape) - len(shape)
	var axes []int
	for i := range g.shape {
		if i < off || (shape[i-off] == 1 && g.shape[i] != 1) {
			axes = append(axes, i)
		}
	}
	return Reshape(Sum(g, axes, true), shape...)
}
