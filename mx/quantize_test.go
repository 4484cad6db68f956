package mx

import (
	"fmt"
	"math"
	"testing"
)

// unpackRef unpacks quantized words (rows × words) into rows × (words·32/bits) integers.
func unpackRef(words []uint32, bits int) []int {
	per := 32 / bits
	out := make([]int, 0, len(words)*per)
	for _, w := range words {
		for j := 0; j < per; j++ {
			out = append(out, int(w>>(j*bits)&(1<<bits-1)))
		}
	}
	return out
}

// quantRef is the affine quantization of one row in float32 arithmetic (the kernels' precision):
// the scales and biases as float32, and the integers.
func quantRef(row []float64, gs, bits int) (scales, biases []float32, q []int) {
	return quantRefScaled(row, gs, bits, nil)
}

// quantRefScaled is quantRef with the scales given (nil: computed), to check the codes against
// the scales a device returned.
func quantRefScaled(row []float64, gs, bits int, given []float32) (scales, biases []float32, q []int) {
	levels := float32(int(1)<<bits - 1)
	for g := 0; g < len(row); g += gs {
		lo, hi := float32(row[g]), float32(row[g])
		for _, v := range row[g : g+gs] {
			lo, hi = min(lo, float32(v)), max(hi, float32(v))
		}
		s := (hi - lo) / levels
		if given != nil {
			s = given[g/gs]
		}
		scales, biases = append(scales, s), append(biases, lo)
		for _, v := range row[g : g+gs] {
			if s == 0 {
				q = append(q, 0)
				continue
			}
			r := math.RoundToEven(float64((float32(v) - lo) / s))
			q = append(q, int(min(max(r, 0), float64(levels))))
		}
	}
	return scales, biases, q
}

func TestQuantizeMatchesReference(t *testing.T) {
	rng := newRNG(31)
	for _, bits := range []int{2, 4, 8} {
		for _, gs := range []int{32, 64, 128} {
			name := fmt.Sprintf("bits %d group %d", bits, gs)
			const n, k = 5, 256
			w := AsType(randn(rng, n, k), Float32)
			wv := w.Float64s()
			// One constant group: scale 0, exact round trip.
			for j := 0; j < gs; j++ {
				wv[k+j] = 0.375
			}
			w = AsType(FromSlice(wv, n, k), Float32)
			wq, s, b := Quantize(w, gs, bits)
			assertShape(t, name+" words", wq, n, k*bits/32)
			assertShape(t, name+" scales", s, n, k/gs)
			assertShape(t, name+" biases", b, n, k/gs)
			if wq.DType() != Uint32 || s.DType() != Float32 || b.DType() != Float32 {
				t.Fatalf("%s: dtypes %s %s %s", name, wq.DType(), s.DType(), b.DType())
			}
			q := unpackRef(wq.Uint32s(), bits)
			sv, bv := s.Float64s(), b.Float64s()
			// The gpu device may round the scale's division differently in the last place (XLA
			// multiplies by the reciprocal of the constant); the codes must then follow the
			// scales it returned.
			ulps := 0.0
			if DefaultDevice().Name() == "gpu" {
				ulps = 1
			}
			for r := 0; r < n; r++ {
				rs, rb, _ := quantRef(wv[r*k:(r+1)*k], gs, bits)
				got := make([]float32, len(rs))
				for g := range got {
					got[g] = float32(sv[r*k/gs+g])
				}
				_, _, rq := quantRefScaled(wv[r*k:(r+1)*k], gs, bits, got)
				for g := range rs {
					ulp := float64(math.Nextafter32(rs[g], float32(math.Inf(1))) - rs[g])
					if math.Abs(sv[r*k/gs+g]-float64(rs[g])) > ulps*ulp || bv[r*k/gs+g] != float64(rb[g]) {
						t.Fatalf("%s: row %d group %d: scale %v bias %v, want %v %v", name, r, g, sv[r*k/gs+g], bv[r*k/gs+g], rs[g], rb[g])
					}
				}
				for j := range rq {
					if q[r*k+j] != rq[j] {
						t.Fatalf("%s: row %d element %d: q %d, want %d", name, r, j, q[r*k+j], rq[j])
					}
				}
			}
			// Dequantize is scale·q + bias, and the round trip is within half a step.
			d := Dequantize(wq, s, b, gs, bits)
			assertShape(t, name+" dequantized", d, n, k)
			dv := d.Float64s()
			for i, v := range wv {
				sc, bi := sv[i/gs], bv[i/gs]
				// float32 rounding of the product and the sum: relative to the terms, not the result.
				slack := 1e-6 * (sc*float64(q[i]) + math.Abs(bi))
				if want := sc*float64(q[i]) + bi; math.Abs(dv[i]-want) > slack {
					t.Fatalf("%s: dequantized[%d] = %v, want %v", name, i, dv[i], want)
				}
				if err := math.Abs(dv[i] - v); err > sc/2+slack {
					t.Fatalf("%s: element %d: |%v - %v| = %v > scale/2 = %v", name, i, v, dv[i], err, sc/2)
				}
			}
			if sv[k/gs] != 0 || bv[k/gs] != 0.375 {
				t.Fatalf("%s: constant group has scale %v bias %v", name, sv[k/gs], bv[k/gs])
			}
			for j := 0; j < gs; j++ {
				if dv[k+j] != 0.375 {
					t.Fatalf("%s: constant group dequantizes to %v", name, dv[k+j])
				}
			}
		}
	}
}

func TestQuantizeDTypesAndLayouts(t *testing.T) {
	rng := newRNG(32)
	// float64 round trip, on a transposed (non-contiguous) 2-D weight.
	w := Transpose(randn(rng, 64, 6))
	wq, s, b := Quantize(w, 32, 4)
	if s.DType() != Float64 {
		t.Fatalf("float64 scales have dtype %s", s.DType())
	}
	checkRoundTrip(t, "float64 transposed", w, Dequantize(wq, s, b, 32, 4), s, 32, 0)
	// bfloat16: scales and biases in bfloat16; the bound allows their rounding.
	wb := AsType(randn(rng, 4, 128), BFloat16)
	wq, s, b = Quantize(wb, 64, 8)
	d := Dequantize(wq, s, b, 64, 8)
	if s.DType() != BFloat16 || d.DType() != BFloat16 {
		t.Fatalf("bfloat16: scales %s, dequantized %s", s.DType(), d.DType())
	}
	checkRoundTrip(t, "bfloat16", wb, d, s, 64, 1.0/128)
	// 3-D weights and a single row.
	w3 := randn(rng, 2, 3, 64)
	wq, s, b = Quantize(w3, 32, 2)
	assertShape(t, "3-D words", wq, 2, 3, 4)
	assertShape(t, "3-D scales", s, 2, 3, 2)
	checkRoundTrip(t, "3-D", w3, Dequantize(wq, s, b, 32, 2), s, 32, 0)
	wq, s, _ = Quantize(randn(rng, 128), 128, 4)
	assertShape(t, "1-D words", wq, 16)
	assertShape(t, "1-D scales", s, 1)
	// Zero rows.
	wq, s, b = Quantize(Zeros([]int{0, 64}, Float32), 64, 4)
	assertShape(t, "empty words", wq, 0, 8)
	assertShape(t, "empty", Dequantize(wq, s, b, 64, 4), 0, 64)

	mustPanic(t, func() { Quantize(randn(rng, 2, 64), 32, 3) }, "mx.Quantize", "bits 3")
	mustPanic(t, func() { Quantize(randn(rng, 2, 64), 16, 4) }, "mx.Quantize", "group size 16")
	mustPanic(t, func() { Quantize(randn(rng, 2, 96), 64, 4) }, "mx.Quantize", "[2 96]", "64")
	mustPanic(t, func() { Quantize(FromSlice(make([]int32, 64), 1, 64), 32, 4) }, "mx.Quantize", "int32")
	wq, s, b = Quantize(randn(rng, 2, 64), 32, 4)
	mustPanic(t, func() { Dequantize(wq, s, b, 64, 4) }, "mx.Dequantize", "[2 8]", "[2 1]", "[2 2]")
	mustPanic(t, func() { Dequantize(wq, s, AsType(b, Float32), 32, 4) }, "mx.Dequantize", "float64", "float32")
	mustPanic(t, func() { Dequantize(AsType(wq, Int32), s, b, 32, 4) }, "mx.Dequantize", "int32")
}

// checkRoundTrip checks |w - d| <= scale/2 + rel·|w| elementwise (groups of gs along the last
// axis).
func checkRoundTrip(t *testing.T, what string, w, d, scales *Array, gs int, rel float64) {
	t.Helper()
	wv, dv, sv := w.Float64s(), d.Float64s(), scales.Float64s()
	for i := range wv {
		if err := math.Abs(wv[i] - dv[i]); err > sv[i/gs]/2*(1+rel)+(1e-12+rel)*math.Abs(wv[i]) {
			t.Fatalf("%s: element %d: |%v - %v| = %v > scale/2 = %v", what, i, wv[i], dv[i], err, sv[i/gs]/2)
		}
	}
}

// qmmRef is x·Wᵀ (transpose) or x·W in float64 from the affine formula, for W given by its
// unpacked integers, scales and biases (R × C, groups of gs along C).
func qmmRef(x []float64, m int, q []int, s, b []float64, r, c, gs int, transpose bool) []float64 {
	wAt := func(i, j int) float64 { g := i*(c/gs) + j/gs; return s[g]*float64(q[i*c+j]) + b[g] }
	if transpose {
		out := make([]float64, m*r)
		for i := 0; i < m; i++ {
			for n := 0; n < r; n++ {
				for k := 0; k < c; k++ {
					out[i*r+n] += x[i*c+k] * wAt(n, k)
				}
			}
		}
		return out
	}
	out := make([]float64, m*c)
	for i := 0; i < m; i++ {
		for n := 0; n < c; n++ {
			for k := 0; k < r; k++ {
				out[i*c+n] += x[i*r+k] * wAt(k, n)
			}
		}
	}
	return out
}

func TestQuantizedMatmul(t *testing.T) {
	rng := newRNG(33)
	cases := []struct {
		batch        []int // leading dimensions of x
		r, c, gs, b  int   // weight R × C
		transpose    bool
		dt           DType
		atol, rtol   float64
		wantGEMMPath bool
	}{
		{[]int{1}, 40, 128, 32, 4, true, Float32, 1e-4, 1e-4, false},
		{[]int{3}, 300, 256, 64, 8, true, Float32, 1e-4, 1e-4, false},
		{[]int{2, 19}, 300, 256, 128, 2, true, Float32, 1e-4, 1e-4, true},
		{[]int{37}, 9, 512, 32, 4, true, Float64, 1e-10, 1e-10, true},
		{nil, 24, 64, 64, 4, true, Float32, 1e-4, 1e-4, false},
		{[]int{2}, 96, 256, 32, 4, false, Float32, 1e-4, 1e-4, false},
		{[]int{5, 9}, 200, 384, 128, 8, false, Float32, 1e-4, 1e-4, true},
		{[]int{7}, 40, 64, 32, 2, false, Float64, 1e-10, 1e-10, true},
		{[]int{3}, 33, 128, 64, 4, true, BFloat16, 2e-2, 2e-2, false},
		{[]int{6}, 33, 128, 64, 4, false, BFloat16, 2e-2, 2e-2, true},
	}
	for _, c := range cases {
		name := fmt.Sprintf("x%v W %dx%d gs %d bits %d transpose %v %s", c.batch, c.r, c.c, c.gs, c.b, c.transpose, c.dt)
		wdt := c.dt
		if wdt == BFloat16 {
			wdt = Float32 // scales in a different dtype from x
		}
		wq, s, b := Quantize(AsType(randn(rng, c.r, c.c), wdt), c.gs, c.b)
		k, n := c.c, c.r
		if !c.transpose {
			k, n = c.r, c.c
		}
		x := AsType(randn(rng, append(append([]int{}, c.batch...), k)...), c.dt)
		got := QuantizedMatmul(x, wq, s, b, c.transpose, c.gs, c.b)
		assertShape(t, name, got, append(append([]int{}, c.batch...), n)...)
		if got.DType() != c.dt {
			t.Fatalf("%s: dtype %s", name, got.DType())
		}
		m := x.Size() / k
		want := qmmRef(x.Float64s(), m, unpackRef(wq.Uint32s(), c.b), s.Float64s(), b.Float64s(), c.r, c.c, c.gs, c.transpose)
		assertClose(t, name+" vs float64 reference", got.Float64s(), want, c.atol*float64(k), c.rtol)
		w := Dequantize(wq, s, b, c.gs, c.b)
		if c.transpose {
			w = Transpose(w)
		}
		assertClose(t, name+" vs Matmul(Dequantize)", got.Float64s(), Matmul(x, AsType(w, c.dt)).Float64s(), c.atol*float64(k), c.rtol)
		if (m > 4) != c.wantGEMMPath {
			t.Fatalf("%s: case does not exercise the intended path", name)
		}
	}
	// Zero sizes: no rows of x, no rows of W.
	wq, s, b := Quantize(randn(rng, 8, 64), 32, 4)
	assertShape(t, "no rows", QuantizedMatmul(Zeros([]int{0, 64}, Float32), wq, s, b, true, 32, 4), 0, 8)
	wq0, s0, b0 := Quantize(Zeros([]int{0, 64}, Float32), 32, 4)
	out := QuantizedMatmul(randn(rng, 3, 64), wq0, s0, b0, true, 32, 4)
	assertShape(t, "empty weight", out, 3, 0)
	z := QuantizedMatmul(Zeros([]int{3, 0}, Float32), wq0, s0, b0, false, 32, 4)
	assertShape(t, "empty inner", z, 3, 64)
	assertClose(t, "empty inner", z.Float64s(), make([]float64, 3*64), 0, 0)

	mustPanic(t, func() { QuantizedMatmul(randn(rng, 3, 32), wq, s, b, true, 32, 4) }, "mx.QuantizedMatmul", "[3 32]")
	mustPanic(t, func() { QuantizedMatmul(randn(rng, 3, 64), wq, s, b, false, 32, 4) }, "mx.QuantizedMatmul", "[3 64]")
	mustPanic(t, func() { QuantizedMatmul(FromSlice(make([]int32, 64), 64), wq, s, b, true, 32, 4) }, "mx.QuantizedMatmul", "int32")
	mustPanic(t, func() { QuantizedMatmul(randn(rng, 64), wq, s, b, true, 32, 8) }, "mx.QuantizedMatmul", "[8 8]")
	mustPanic(t, func() { QuantizedMatmul(randn(rng, 64), Reshape(wq, 2, 4, 8), s, b, true, 32, 4) }, "mx.QuantizedMatmul")
}

func TestQuantizedMatmulGrad(t *testing.T) {
	rng := newRNG(34)
	wq, s, b := Quantize(randn(rng, 6, 64), 32, 4)
	checkGrad(t, "QuantizedMatmul transpose", func(a ...*Array) *Array {
		return QuantizedMatmul(a[0], wq, s, b, true, 32, 4)
	}, randn(rng, 2, 64))
	wq, s, b = Quantize(randn(rng, 5, 64), 64, 8)
	checkGrad(t, "QuantizedMatmul", func(a ...*Array) *Array {
		return QuantizedMatmul(a[0], wq, s, b, false, 64, 8)
	}, randn(rng, 3, 5))
	// The quantized weight gets no gradient, even when asked for.
	_, g := ValueAndGrad(func(a ...*Array) *Array {
		return Sum(QuantizedMatmul(a[0], wq, a[1], a[2], false, 64, 8), nil, false)
	})(randn(rng, 3, 5), s, b)
	for _, gi := range g[1:] {
		for _, v := range gi.Float64s() {
			if v != 0 {
				t.Fatalf("scales or biases got gradient %v", v)
			}
		}
	}
}
