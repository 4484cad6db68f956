package cpu

import "math"

// Float32 transcendental functions. Each works in float64 internally, where a short polynomial
// is accurate to 1e-9 relative or better, and rounds once at the end, so the float32 result is
// within 1 ulp of the exact value across the whole float32 range, subnormal results, ±Inf and NaN
// included. On the dense sweeps of fastmath_test.go (every 4099th float32 and a 5e-5 grid over
// [-20, 20], against package math in float64) the worst errors are 0.5 ulp for Exp, Log, Tanh,
// Sigmoid, SiLU and GELU, 0.52 for Erf, and 0.56–0.96 ulp for the derivative kinds SiLUGrad,
// GELUGrad and GELUTanhGrad, whose worst cases sit next to their zeros (x ≈ -1.28, -0.75,
// -0.75): there the bound is 1 ulp or 1e-9 absolute, whichever is larger. Go has no vector
// intrinsics, so scalar float64 arithmetic costs the same as float32; the bodies are short and
// branch-free on the common path, so the compiler keeps them in registers. On amd64 with AVX2
// and FMA, the GELU and sigmoid families run instead as fuse_math_amd64.s, which computes the
// same functions four lanes at a time within the same bounds (the test checks both).

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
	if !(a <= 10.5) { // erf rounds to ±1 long before
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
