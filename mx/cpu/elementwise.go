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
	out := alloc(x.dtype, prim.ShapeSize(shape))
	it := newRowIter(shape, prim.BroadcastStrides(x.shape, shape))
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
		panic(fmt.Sprintf("broadcast of %T", x.data))
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
// GELU, GELUTanh and the derivative kinds use the float32 functions below; the rarer
// transcendental kinds round package math's float64 result.
func unaryF32(k prim.UnaryKind, out, src []float32) {
	out = out[:len(src)]
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

// Float32 transcendental functions. Each works in float64 internally, where a short polynomial
// is accurate to about 1e-9 relative, and rounds once at the end, so the float32 result is
// within 1 ulp of the exact value (in practice it is the correctly rounded value except near
// halfway cases) across the whole float32 range, including subnormal results, ±Inf and NaN.
// The exceptions are the derivative kinds SiLUGrad and GELUGrad near their zeros (x ≈ -1.28 and
// x ≈ -0.75), where the error is below 1e-9 absolute rather than relative. fastmath_test.go checks
// the bounds against package math on dense sweeps. Go has no vector intrinsics, so scalar float64
// arithmetic costs the same as float32, and the compiler keeps these short bodies in registers.

// exp2Tab[j] is 2^(j/32).
var exp2Tab = func() (t [32]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 32)
	}
	return t
}()

// exp64 is e^x to about 2e-15 relative for the float32 functions: x = (32k+j)·ln2/32 + r with
// |r| <= ln2/64, e^r by its Taylor polynomial of degree 5 (in Estrin's scheme, for a short
// dependency chain), times 2^(j/32) from the table and 2^k put into the exponent bits. Beyond
// |x| = 708, where e^x is far outside the float32 range, it returns +Inf or 0; NaN stays NaN.
func exp64(x float64) float64 {
	const (
		magic = 0x1.8p52 // adding it rounds to an integer held in the low mantissa bits
		invL  = 32 / math.Ln2
		l     = math.Ln2 / 32
	)
	if !(math.Abs(x) < 708) {
		return expOutOfRange(x)
	}
	t := x*invL + magic
	n := int64(math.Float64bits(t) - math.Float64bits(magic))
	r := x - (t-magic)*l
	r2 := r * r
	p := (1 + r) + r2*((0.5+r*(1.0/6))+r2*(1.0/24+r*(1.0/120)))
	return exp2Tab[n&31] * math.Float64frombits(uint64(n>>5+1023)<<52) * p
}

func expOutOfRange(x float64) float64 {
	if x != x || x > 0 {
		return x + math.Inf(1) // NaN or +Inf
	}
	return 0
}

// logF32 is the natural logarithm: x = 2^e·m with m in [√½, √2), log m = 2·atanh(s) with
// s = (m-1)/(m+1), |s| <= 0.172, by its series to s^13 (truncation below 1e-10 relative).
func logF32(x float32) float32 {
	b := math.Float32bits(x)
	e := int(b>>23) - 127
	if b-0x00800000 >= 0x7f000000 { // not a positive normal number
		switch {
		case x != x || x > math.MaxFloat32:
			return x
		case x == 0:
			return float32(math.Inf(-1))
		case x < 0:
			return float32(math.NaN())
		}
		b = math.Float32bits(x * 0x1p23) // subnormal: scale into the normal range
		e = int(b>>23) - 127 - 23
	}
	m := float64(math.Float32frombits(b&0x7fffff | 0x3f800000))
	if m > math.Sqrt2 {
		m *= 0.5
		e++
	}
	f := m - 1
	s := f / (2 + f)
	s2 := s * s
	p := s2 * (1.0/3 + s2*(1.0/5+s2*(1.0/7+s2*(1.0/9+s2*(1.0/11+s2*(1.0/13))))))
	return float32(float64(e)*math.Ln2 + (2*s + 2*s*p))
}

// tanhF32 is (e^2|x| - 1)/(e^2|x| + 1) with the sign of x; below |x| = 0.004, where that
// difference would lose digits, its Taylor polynomial x - x³/3 + 2x⁵/15.
func tanhF32(x float32) float32 {
	a := math.Abs(float64(x))
	if a < 0.004 {
		a2 := a * a
		return float32(float64(x) * (1 - a2*(1.0/3-a2*(2.0/15))))
	}
	if a > 9.1 { // tanh rounds to ±1 (also ±Inf)
		return float32(math.Copysign(1, float64(x)))
	}
	e := exp64(2 * a)
	return float32(math.Copysign((e-1)/(e+1), float64(x))) // NaN stays NaN
}

// The normal tail. phiTail(a) = Φ(-a)·e^(a²/2) is smooth and slowly varying (about
// 1/(a·√(2π)) for large a), so it is tabulated as 60 degree-6 polynomials on [0, 15) in steps of
// 0.25: each interval's Chebyshev interpolant of the function computed with math.Erfc, built at
// start-up (relative error 5e-11). Then Φ(-a) = e^(-a²/2)·phiTail(a) and erfc(z) = 2·Φ(-√2·z),
// with no division and no branch.
const (
	phiStep = 0.25
	phiN    = 60
	phiDeg  = 6
)

var phiTab = func() (t [phiN][phiDeg + 1]float64) {
	g := func(a float64) float64 { return 0.5 * math.Erfc(a/math.Sqrt2) * math.Exp(0.5*a*a) }
	for i := range t {
		lo := float64(i) * phiStep
		copy(t[i][:], chebMonomials(g, lo, lo+phiStep, phiDeg))
	}
	return t
}()

// phiTail is Φ(-a)·e^(a²/2) for a >= 0, evaluated at min(a, 15) (past 15, Φ(-a) < 4e-51 and
// only its size matters); NaN stays NaN.
func phiTail(a float64) float64 {
	a = min(a, 15)
	i := min(uint(int64(a*(1/phiStep))), phiN-1) // NaN converts to some integer: clamped
	s := a*(2/phiStep) - float64(2*i+1)          // the interval mapped to [-1, 1]
	c := &phiTab[i]
	s2 := s * s
	return (c[0] + s*c[1]) + s2*((c[2]+s*c[3])+s2*((c[4]+s*c[5])+s2*c[6]))
}

// chebMonomials returns the coefficients, in s ∈ [-1, 1] mapped linearly onto [lo, hi], of the
// degree-deg polynomial interpolating f at the Chebyshev points.
func chebMonomials(f func(float64) float64, lo, hi float64, deg int) []float64 {
	n := deg + 1
	fv := make([]float64, n)
	for k := range fv {
		fv[k] = f((lo+hi)/2 + (hi-lo)/2*math.Cos(math.Pi*(float64(k)+0.5)/float64(n)))
	}
	mono := make([]float64, n)
	tPrev, tCur := make([]float64, n), make([]float64, n) // T_{j-1}, T_j in monomials
	tCur[0] = 1
	for j := range n {
		c := 0.0
		for k, v := range fv {
			c += v * math.Cos(math.Pi*float64(j)*(float64(k)+0.5)/float64(n))
		}
		c *= 2 / float64(n)
		if j == 0 {
			c /= 2
		}
		for i := range mono {
			mono[i] += c * tCur[i]
		}
		next := make([]float64, n) // T_{j+1} = 2s·T_j - T_{j-1} (T_1 = s)
		for i := range n - 1 {
			next[i+1] = 2 * tCur[i]
		}
		if j == 0 {
			next[1] = 1
		}
		for i := range next {
			if j > 0 {
				next[i] -= tPrev[i]
			}
		}
		tPrev, tCur = tCur, next
	}
	return mono
}

// erfSmallCoef: erf(z)/z as a polynomial in w = 8z² - 1, the degree-4 Chebyshev interpolant on
// z ∈ [0, 0.5] (relative error 1.4e-9).
var erfSmallCoef = [5]float64{1.0830752376761712, -0.043642051549116843, 0.0016130715390581863,
	-4.7652717677593159e-05, 1.1521197667008209e-06}

// erfF32 is the error function: z·P(z²) below |z| = 0.5, else ±(1 - erfc(|z|)).
func erfF32(x float32) float32 {
	z := float64(x)
	a := math.Abs(z)
	if a < 0.5 {
		c := &erfSmallCoef
		w := 8*z*z - 1
		return float32(z * (c[0] + w*(c[1]+w*(c[2]+w*(c[3]+w*c[4])))))
	}
	if !(a <= 10.5) {
		if z != z {
			return x
		}
		return float32(math.Copysign(1, z))
	}
	return float32(math.Copysign(1-2*exp64(-z*z)*phiTail(math.Sqrt2*a), z))
}

// normCDF is Φ(x), given e = e^(-x²/2).
func normCDF(x, e float64) float64 {
	h := e * phiTail(math.Abs(x)) // Φ(-|x|)
	// h for negative x, else 1-h: selected on the bits, since a branch on the sign of
	// activations mispredicts half the time.
	neg := uint64(int64(math.Float64bits(x)) >> 63)
	hb, ob := math.Float64bits(h), math.Float64bits(1-h)
	return math.Float64frombits(ob ^ (hb^ob)&neg)
}

// Near zero, where activations mostly are, the activations come from tables of degree-7
// polynomials on 32 intervals, which cost no exponential and no division: Φ and GELU's
// derivative Φ(x) + x·φ(x) on [-4, 4) in steps of 0.25 (relative error below 4e-11 for Φ,
// absolute 1.3e-10 for the derivative), and σ on [-8, 8) in steps of 0.5 (relative error 2e-11).
// Each interval's polynomial is the Chebyshev interpolant of the float64 definition, built at
// start-up. Outside those ranges, the formulas above.
const nearN = 32

type nearTable [nearN][8]float64

var phiNear, geluGradNear, sigmoidNear = func() (p, g, s nearTable) {
	phi := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	grad := func(x float64) float64 { return phi(x) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi) }
	for i := range nearN {
		copy(p[i][:], chebMonomials(phi, float64(i)/4-4, float64(i+1)/4-4, 7))
		copy(g[i][:], chebMonomials(grad, float64(i)/4-4, float64(i+1)/4-4, 7))
		copy(s[i][:], chebMonomials(sigmoid, float64(i)/2-8, float64(i+1)/2-8, 7))
	}
	return p, g, s
}()

// nearPoly evaluates a table of polynomials on [-l, l) at x, |x| < l, where the intervals are
// 1/inv long.
func nearPoly(t *nearTable, x, l, inv float64) float64 {
	y := (x + l) * inv
	i := int(y)
	s := 2*(y-float64(i)) - 1
	c := &t[i&(nearN-1)]
	s2 := s * s
	return ((c[0] + s*c[1]) + s2*(c[2]+s*c[3])) + s2*s2*((c[4]+s*c[5])+s2*(c[6]+s*c[7]))
}

// sigmoid64 is σ(x) for the float32 functions.
func sigmoid64(x float64) float64 {
	if math.Abs(x) < 8 {
		return nearPoly(&sigmoidNear, x, 8, 2)
	}
	return 1 / (1 + exp64(-x))
}

// geluF32 is x·Φ(x).
func geluF32(v float32) float32 {
	x := float64(v)
	if math.Abs(x) < 4 {
		return float32(x * nearPoly(&phiNear, x, 4, 4))
	}
	return float32(x * normCDF(x, exp64(-0.5*x*x)))
}

// geluGradF32 is Φ(x) + x·φ(x).
func geluGradF32(v float32) float32 {
	x := float64(v)
	if math.Abs(x) < 4 {
		return float32(nearPoly(&geluGradNear, x, 4, 4))
	}
	if math.IsInf(x, 0) {
		return float32(gradAtInf(x))
	}
	e := exp64(-0.5 * x * x)
	return float32(normCDF(x, e) + x*e*(1/math.Sqrt(2*math.Pi)))
}

// geluTanhF32 is 0.5·x·(1 + tanh(u)) = x·σ(2u) with u = k0·(x + k1·x³).
func geluTanhF32(v float32) float32 {
	x := float64(v)
	return float32(x * sigmoid64(2*geluK0*(x+geluK1*x*x*x)))
}

// geluTanhGradF32 is d/dx x·σ(2u) = σ(2u) + 2x·u'·σ(2u)·(1-σ(2u)). Where σ(2u) rounds to 1,
// 1-σ(2u) is off by up to 1e-16 absolutely, which is negligible next to σ(2u).
func geluTanhGradF32(v float32) float32 {
	x := float64(v)
	if math.IsInf(x, 0) {
		return float32(gradAtInf(x))
	}
	s := sigmoid64(2 * geluK0 * (x + geluK1*x*x*x))
	return float32(s + 2*x*geluK0*(1+3*geluK1*x*x)*s*(1-s))
}

// siluGradF32 is σ(x) + x·σ(x)·(1-σ(x)), computed like geluTanhGradF32.
func siluGradF32(v float32) float32 {
	x := float64(v)
	if math.IsInf(x, 0) {
		return float32(gradAtInf(x))
	}
	s := sigmoid64(x)
	return float32(s + x*s*(1-s))
}
