package nn

import (
	"math"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

// TestMixedPrecisionNorms checks the norms on bf16 activations with float32 parameters: the
// output is bf16, equal to the float32 norm rounded once, and the parameters' gradients are
// float32.
func TestMixedPrecisionNorms(t *testing.T) {
	x32 := random.Normal(random.Key(1), []int{3, 5, 16}, mx.Float32, 0.5, 2)
	x := mx.AsType(x32, mx.BFloat16)
	wide := mx.AsType(x, mx.Float32) // the bf16 input, exactly, in float32
	ln := NewLayerNorm(16, 1e-5, true)
	ln.Weight = random.Normal(random.Key(2), []int{16}, mx.Float32, 1, 0.3)
	ln.Bias = random.Normal(random.Key(3), []int{16}, mx.Float32, 0, 0.3)
	rms := NewRMSNorm(16, 1e-5)
	rms.Weight = ln.Weight
	cases := []struct {
		name   string
		f      func(x *mx.Array, ps ...*mx.Array) *mx.Array
		params []*mx.Array
	}{
		{"layer_norm", func(x *mx.Array, ps ...*mx.Array) *mx.Array {
			return (&LayerNorm{Weight: ps[0], Bias: ps[1], Eps: 1e-5}).Forward(x)
		}, []*mx.Array{ln.Weight, ln.Bias}},
		{"rms_norm", func(x *mx.Array, ps ...*mx.Array) *mx.Array {
			return (&RMSNorm{Weight: ps[0], Eps: 1e-5}).Forward(x)
		}, []*mx.Array{rms.Weight}},
	}
	for _, c := range cases {
		got, want := c.f(x, c.params...), mx.AsType(c.f(wide, c.params...), mx.BFloat16)
		if got.DType() != mx.BFloat16 {
			t.Fatalf("%s on bf16: dtype %s", c.name, got.DType())
		}
		mx.Eval(got, want)
		gb, wb := got.Bits(), want.Bits()
		for i := range gb {
			if gb[i] != wb[i] {
				t.Fatalf("%s: element %d differs from the float32 norm rounded once", c.name, i)
			}
		}
		loss := func(ps ...*mx.Array) *mx.Array {
			return mx.Sum(mx.AsType(mx.Square(c.f(x, ps...)), mx.Float32), nil, false)
		}
		grads := mx.Grad(loss)(c.params...)
		ref := mx.Grad(func(ps ...*mx.Array) *mx.Array { return mx.Sum(mx.Square(c.f(wide, ps...)), nil, false) })(c.params...)
		mx.Eval(append(grads, ref...)...)
		for i, g := range grads {
			if g.DType() != mx.Float32 {
				t.Fatalf("%s: parameter %d gradient is %s", c.name, i, g.DType())
			}
			gv, rv := g.Float32s(), ref[i].Float32s()
			for j := range gv {
				if math.Abs(float64(gv[j]-rv[j])) > 2e-2*(math.Abs(float64(rv[j]))+1) {
					t.Fatalf("%s: parameter %d gradient %d = %v, float32 %v", c.name, i, j, gv[j], rv[j])
				}
			}
		}
	}
}
