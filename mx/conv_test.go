package mx

import (
	"testing"
)

// convCase is one Conv1d configuration.
type convCase struct {
	name                     string
	n, l, cin, cout, k       int
	stride, pad, dil, groups int
}

// refConv1d is the direct definition of Conv1d in float64.
func refConv1d(c convCase, x, w []float64) []float64 {
	lout := (c.l+2*c.pad-c.dil*(c.k-1)-1)/c.stride + 1
	cgi, cgo := c.cin/c.groups, c.cout/c.groups
	out := make([]float64, c.n*lout*c.cout)
	for b := 0; b < c.n; b++ {
		for t := 0; t < lout; t++ {
			for o := 0; o < c.cout; o++ {
				g := o / cgo
				s := 0.0
				for kk := 0; kk < c.k; kk++ {
					p := t*c.stride - c.pad + kk*c.dil
					if p < 0 || p >= c.l {
						continue
					}
					for i := 0; i < cgi; i++ {
						s += x[(b*c.l+p)*c.cin+g*cgi+i] * w[(o*c.k+kk)*cgi+i]
					}
				}
				out[(b*lout+t)*c.cout+o] = s
			}
		}
	}
	return out
}

var convCases = []convCase{
	{name: "plain", n: 2, l: 9, cin: 4, cout: 6, k: 3, stride: 1, dil: 1, groups: 1},
	{name: "strided dilated padded", n: 2, l: 11, cin: 3, cout: 5, k: 3, stride: 2, pad: 2, dil: 2, groups: 1},
	{name: "stride leaves a tail", n: 1, l: 10, cin: 2, cout: 3, k: 2, stride: 3, dil: 1, groups: 1},
	{name: "groups", n: 2, l: 8, cin: 6, cout: 4, k: 2, stride: 1, pad: 1, dil: 1, groups: 2},
	{name: "depthwise", n: 2, l: 10, cin: 5, cout: 5, k: 4, stride: 1, pad: 3, dil: 1, groups: 5},
	{name: "depthwise strided", n: 1, l: 9, cin: 3, cout: 3, k: 3, stride: 2, pad: 1, dil: 2, groups: 3},
	{name: "channel multiplier", n: 1, l: 7, cin: 3, cout: 6, k: 2, stride: 1, dil: 1, groups: 3},
	{name: "pointwise", n: 3, l: 5, cin: 4, cout: 2, k: 1, stride: 1, dil: 1, groups: 1},
	{name: "empty batch", n: 0, l: 5, cin: 2, cout: 2, k: 2, stride: 1, dil: 1, groups: 1},
	{name: "long depthwise", n: 2, l: 300, cin: 64, cout: 64, k: 4, stride: 1, pad: 3, dil: 1, groups: 64},
	{name: "long", n: 2, l: 100, cin: 32, cout: 48, k: 5, stride: 2, pad: 2, dil: 1, groups: 4},
}

func TestConv1dMatchesReference(t *testing.T) {
	rng := newRNG(50)
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			// x is built as the transpose of (N, Cin, L): a non-contiguous input.
			x := Transpose(randn(rng, c.n, c.cin, c.l), 0, 2, 1)
			w := randn(rng, c.cout, c.k, c.cin/c.groups)
			conv := func(a ...*Array) *Array { return Conv1d(a[0], a[1], c.stride, c.pad, c.dil, c.groups) }
			want := refConv1d(c, x.Float64s(), w.Float64s())
			got := conv(x, w)
			lout := (c.l+2*c.pad-c.dil*(c.k-1)-1)/c.stride + 1
			assertShape(t, "Conv1d", got, c.n, lout, c.cout)
			assertClose(t, "Conv1d f64", got.Float64s(), want, 1e-12, 1e-12)
			got32 := conv(AsType(x, Float32), AsType(w, Float32))
			if got32.DType() != Float32 {
				t.Fatalf("float32 Conv1d gave %s", got32.DType())
			}
			assertClose(t, "Conv1d f32", got32.Float64s(), want, 1e-4, 1e-5)
			xb, wb := AsType(x, BFloat16), AsType(w, BFloat16)
			assertClose(t, "Conv1d bf16", conv(xb, wb).Float64s(), refConv1d(c, xb.Float64s(), wb.Float64s()), 5e-2, 1e-2)
			if x.Size()+w.Size() < 200 {
				checkGrad(t, "Conv1d "+c.name, conv, x, w)
			} else {
				// Large shapes: the gradients are the transposes of the (linear) convolution, so
				// <c, conv(dx, w)> must equal <GradInput(c), dx>, and likewise for w.
				cot := randn(rng, got.Shape()...)
				_, g := VJP(func(a ...*Array) []*Array { return []*Array{conv(a...)} }, []*Array{x, w}, []*Array{cot})
				dx, dw := randn(rng, x.Shape()...), randn(rng, w.Shape()...)
				lhs := Sum(Mul(cot, Add(conv(dx, w), conv(x, dw))), nil, false).Item()
				rhs := Add(Sum(Mul(g[0], dx), nil, false), Sum(Mul(g[1], dw), nil, false)).Item()
				assertClose(t, "Conv1d adjoint", []float64{lhs}, []float64{rhs}, 1e-9, 1e-12)
			}
		})
	}
}

func TestConv1dCausalDepthwise(t *testing.T) {
	// A causal depthwise convolution: left-pad by K-1, then convolve without padding. Output t
	// depends on inputs t-K+1 .. t only.
	rng := newRNG(51)
	const n, l, ch, k = 2, 12, 8, 4
	x, w := randn(rng, n, l, ch), randn(rng, ch, k, 1)
	xv := x.Float64s()
	padded := make([]float64, n*(l+k-1)*ch)
	for b := 0; b < n; b++ {
		copy(padded[(b*(l+k-1)+k-1)*ch:], xv[b*l*ch:(b+1)*l*ch])
	}
	xp := FromSlice(padded, n, l+k-1, ch)
	got := Conv1d(xp, w, 1, 0, 1, ch)
	assertShape(t, "causal Conv1d", got, n, l, ch)
	c := convCase{n: n, l: l, cin: ch, cout: ch, k: k, stride: 1, pad: k - 1, dil: 1, groups: ch}
	full := refConv1d(c, xv, w.Float64s()) // symmetric padding: the first l outputs are causal
	want := full[:0]
	lfull := l + k - 1
	for b := 0; b < n; b++ {
		want = append(want, full[b*lfull*ch:(b*lfull+l)*ch]...)
	}
	assertClose(t, "causal Conv1d", got.Float64s(), want, 1e-12, 1e-12)
	checkGrad(t, "causal Conv1d", func(a ...*Array) *Array { return Conv1d(a[0], a[1], 1, 0, 1, 3) }, randn(rng, 1, 6, 3), randn(rng, 3, 3, 1))
}

func TestConv1dSecondOrder(t *testing.T) {
	// The gradient kernels have VJPs of their own: differentiate a function of the gradients.
	rng := newRNG(52)
	for _, c := range []convCase{convCases[1], convCases[3], convCases[5]} {
		cot := randn(rng, c.n, (c.l+2*c.pad-c.dil*(c.k-1)-1)/c.stride+1, c.cout)
		inner := func(a ...*Array) *Array {
			return Sum(Mul(Conv1d(a[0], a[1], c.stride, c.pad, c.dil, c.groups), cot), nil, false)
		}
		outer := func(a ...*Array) *Array {
			g := Grad(inner)(a[0], a[1])
			return Add(Sum(Mul(g[0], Sin(a[0])), nil, false), Sum(Square(g[1]), nil, false))
		}
		checkGrad(t, "Conv1d second order "+c.name, outer, randn(rng, c.n, c.l, c.cin), randn(rng, c.cout, c.k, c.cin/c.groups))
	}
}

func TestConv1dShapeErrors(t *testing.T) {
	rng := newRNG(53)
	x, w := randn(rng, 2, 8, 4), randn(rng, 6, 3, 4)
	mustPanic(t, func() { Conv1d(randn(rng, 8, 4), w, 1, 0, 1, 1) }, "mx.Conv1d", "[8 4]", "[6 3 4]")
	mustPanic(t, func() { Conv1d(x, randn(rng, 6, 3, 3), 1, 0, 1, 1) }, "mx.Conv1d", "[2 8 4]", "[6 3 3]", "groups")
	mustPanic(t, func() { Conv1d(x, randn(rng, 6, 3, 2), 1, 0, 1, 3) }, "mx.Conv1d", "3 groups")
	mustPanic(t, func() { Conv1d(x, randn(rng, 6, 9, 4), 1, 0, 1, 1) }, "mx.Conv1d", "9 taps", "[2 8 4]")
	mustPanic(t, func() { Conv1d(x, w, 0, 0, 1, 1) }, "mx.Conv1d", "stride 0")
	mustPanic(t, func() { Conv1d(x, w, 1, -1, 1, 1) }, "mx.Conv1d", "padding -1")
}
