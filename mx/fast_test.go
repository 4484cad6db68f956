package mx

import (
	"math"
	"testing"
)

// refSoftmax is softmax (or log-softmax) of x (shape) along axis, by plain loops in float64.
func refSoftmax(x []float64, shape []int, axis int, log bool) []float64 {
	out := make([]float64, len(x))
	stride := 1
	for _, d := range shape[axis+1:] {
		stride *= d
	}
	n := shape[axis]
	for i := range x {
		idx := unravel(i, shape)
		if idx[axis] != 0 {
			continue
		}
		m := math.Inf(-1)
		for j := 0; j < n; j++ {
			m = math.Max(m, x[i+j*stride])
		}
		s := 0.0
		for j := 0; j < n; j++ {
			s += math.Exp(x[i+j*stride] - m)
		}
		for j := 0; j < n; j++ {
			k := i + j*stride
			if log {
				out[k] = x[k] - m - math.Log(s)
			} else {
				out[k] = math.Exp(x[k]-m) / s
			}
		}
	}
	return out
}

func TestSoftmaxMatchesReference(t *testing.T) {
	rng := newRNG(20)
	cases := []struct {
		shape []int
		axis  int
	}{{[]int{3, 5}, -1}, {[]int{2, 3, 4}, 1}, {[]int{2, 3, 4}, 0}, {[]int{4, 1, 3}, -2}, {[]int{7}, 0},
		{[]int{2, 0, 3}, 2}, {[]int{2, 0, 3}, 1}, {[]int{3, 70}, -1}}
	for _, c := range cases {
		x := MulScalar(randn(rng, c.shape...), 3)
		ax := normAxis("test", c.axis, len(c.shape))
		for _, log := range []bool{false, true} {
			f, name := Softmax, "Softmax"
			if log {
				f, name = LogSoftmax, "LogSoftmax"
			}
			want := refSoftmax(x.Float64s(), c.shape, ax, log)
			got := f(x, c.axis)
			assertShape(t, name, got, c.shape...)
			assertClose(t, name+" f64", got.Float64s(), want, 1e-12, 1e-12)
			assertClose(t, name+" f32", f(AsType(x, Float32), c.axis).Float64s(), want, 1e-6, 1e-5)
			xb := AsType(x, BFloat16)
			gb := f(xb, c.axis)
			if gb.DType() != BFloat16 {
				t.Fatalf("%s of bfloat16 gave %s", name, gb.DType())
			}
			wantB := refSoftmax(xb.Float64s(), c.shape, ax, log)
			assertClose(t, name+" bf16", gb.Float64s(), wantB, 1e-2, 1e-2)
			xh := AsType(x, Float16)
			assertClose(t, name+" f16", f(xh, c.axis).Float64s(), refSoftmax(xh.Float64s(), c.shape, ax, log), 2e-3, 2e-3)
			if x.Size() > 0 && x.Size() < 30 {
				checkGrad(t, name, func(a ...*Array) *Array { return f(a[0], c.axis) }, x)
			}
		}
	}
	// Non-contiguous input, and large logits do not overflow.
	x := MulScalar(randn(rng, 5, 4), 400)
	xt := Transpose(x)
	want := refSoftmax(xt.Float64s(), []int{4, 5}, 1, false)
	assertClose(t, "Softmax transposed f32", Softmax(AsType(xt, Float32), -1).Float64s(), want, 1e-6, 1e-5)
	assertClose(t, "LogSoftmax large", LogSoftmax(xt, 0).Float64s(), refSoftmax(xt.Float64s(), []int{4, 5}, 0, true), 1e-9, 1e-12)
	// Integers give float32.
	if got := Softmax(FromSlice([]int32{1, 2, 3}, 3), 0); got.DType() != Float32 {
		t.Fatalf("Softmax of int32 gave %s", got.DType())
	}
	mustPanic(t, func() { Softmax(x, 2) }, "mx.Softmax", "axis 2")
	mustPanic(t, func() { LogSoftmax(x, -3) }, "mx.LogSoftmax", "axis -3")
}

// refNorm normalizes each row of x (rows × d) like RMSNorm (rms) or LayerNorm, then applies the
// optional weight and bias.
func refNorm(x []float64, d int, w, b []float64, eps float64, rms bool) []float64 {
	out := make([]float64, len(x))
	for r := 0; r*d < len(x); r++ {
		row := x[r*d : r*d+d]
		mean, sq := 0.0, 0.0
		if !rms {
			for _, v := range row {
				mean += v
			}
			mean /= float64(d)
		}
		for _, v := range row {
			sq += (v - mean) * (v - mean)
		}
		inv := 1 / math.Sqrt(sq/float64(d)+eps)
		for i, v := range row {
			y := (v - mean) * inv
			if w != nil {
				y *= w[i]
			}
			if b != nil {
				y += b[i]
			}
			out[r*d+i] = y
		}
	}
	return out
}

func asTypeOrNil(a *Array, dt DType) *Array {
	if a == nil {
		return nil
	}
	return AsType(a, dt)
}

func floatsOrNil(a *Array) []float64 {
	if a == nil {
		return nil
	}
	return a.Float64s()
}

func TestRMSNormMatchesReference(t *testing.T) {
	rng := newRNG(21)
	for _, shape := range [][]int{{3, 4, 8}, {5, 1}, {2, 0, 6}, {7}, {300, 16}} {
		d := shape[len(shape)-1]
		x := randn(rng, shape...)
		for _, w := range []*Array{nil, randn(rng, d)} {
			want := refNorm(x.Float64s(), d, floatsOrNil(w), nil, 1e-5, true)
			got := RMSNorm(x, w, 1e-5)
			assertShape(t, "RMSNorm", got, shape...)
			assertClose(t, "RMSNorm f64", got.Float64s(), want, 1e-12, 1e-12)
			got32 := RMSNorm(AsType(x, Float32), asTypeOrNil(w, Float32), 1e-5)
			if got32.DType() != Float32 {
				t.Fatalf("RMSNorm of float32 gave %s", got32.DType())
			}
			assertClose(t, "RMSNorm f32", got32.Float64s(), want, 1e-5, 1e-5)
			xb, wb := AsType(x, BFloat16), asTypeOrNil(w, BFloat16)
			gb := RMSNorm(xb, wb, 1e-5)
			if gb.DType() != BFloat16 {
				t.Fatalf("RMSNorm of bfloat16 gave %s", gb.DType())
			}
			assertClose(t, "RMSNorm bf16", gb.Float64s(), refNorm(xb.Float64s(), d, floatsOrNil(wb), nil, 1e-5, true), 2e-2, 1e-2)
		}
	}
	// Non-contiguous input.
	x, w := randn(rng, 6, 5), randn(rng, 6)
	xt := Transpose(x)
	assertClose(t, "RMSNorm transposed", RMSNorm(xt, w, 1e-6).Float64s(), refNorm(xt.Float64s(), 6, w.Float64s(), nil, 1e-6, true), 1e-12, 1e-12)
	// Mixed dtypes promote.
	if got := RMSNorm(AsType(x, BFloat16), AsType(randn(rng, 5), Float32), 1e-5); got.DType() != Float32 {
		t.Fatalf("RMSNorm(bf16, f32) gave %s", got.DType())
	}
	// Gradients, with and without weight, over several row blocks.
	xs, ws := randn(rng, 3, 5), randn(rng, 5)
	checkGrad(t, "RMSNorm", func(a ...*Array) *Array { return RMSNorm(a[0], a[1], 1e-5) }, xs, ws)
	checkGrad(t, "RMSNorm no weight", func(a ...*Array) *Array { return RMSNorm(a[0], nil, 1e-5) }, randn(rng, 2, 3, 4))
	checkNormGradAgainstComposite(t, true)
	mustPanic(t, func() { RMSNorm(x, randn(rng, 4), 1e-5) }, "mx.RMSNorm", "[4]", "[6 5]")
	mustPanic(t, func() { RMSNorm(Scalar(1, Float32), nil, 1e-5) }, "mx.RMSNorm", "[]")
}

func TestLayerNormMatchesReference(t *testing.T) {
	rng := newRNG(22)
	for _, shape := range [][]int{{3, 4, 8}, {5, 1}, {2, 0, 6}, {7}} {
		d := shape[len(shape)-1]
		x := AddScalar(randn(rng, shape...), 2)
		for _, wb := range [][2]*Array{{nil, nil}, {randn(rng, d), nil}, {nil, randn(rng, d)}, {randn(rng, d), randn(rng, d)}} {
			w, b := wb[0], wb[1]
			want := refNorm(x.Float64s(), d, floatsOrNil(w), floatsOrNil(b), 1e-5, false)
			got := LayerNorm(x, w, b, 1e-5)
			assertShape(t, "LayerNorm", got, shape...)
			assertClose(t, "LayerNorm f64", got.Float64s(), want, 1e-12, 1e-12)
			assertClose(t, "LayerNorm f32", LayerNorm(AsType(x, Float32), asTypeOrNil(w, Float32), asTypeOrNil(b, Float32), 1e-5).Float64s(), want, 1e-5, 1e-5)
			if x.Size() > 0 && x.Size() < 40 {
				f := func(a ...*Array) *Array {
					var ww, bb *Array
					if w != nil {
						ww = a[1]
					}
					if b != nil {
						bb = a[2]
					}
					return LayerNorm(a[0], ww, bb, 1e-5)
				}
				wArg, bArg := w, b
				if wArg == nil {
					wArg = Zeros([]int{d}, Int32) // unused placeholders, skipped by checkGrad
				}
				if bArg == nil {
					bArg = Zeros([]int{d}, Int32)
				}
				checkGrad(t, "LayerNorm", f, x, wArg, bArg)
			}
		}
	}
	xb := AsType(randn(rng, 4, 16), BFloat16)
	gb := LayerNorm(xb, nil, nil, 1e-5)
	assertClose(t, "LayerNorm bf16", gb.Float64s(), refNorm(xb.Float64s(), 16, nil, nil, 1e-5, false), 2e-2, 1e-2)
	xt := Transpose(randn(rng, 6, 5))
	assertClose(t, "LayerNorm transposed", LayerNorm(xt, nil, nil, 1e-6).Float64s(), refNorm(xt.Float64s(), 6, nil, nil, 1e-6, false), 1e-12, 1e-12)
	checkNormGradAgainstComposite(t, false)
	mustPanic(t, func() { LayerNorm(xt, nil, randn(rng, 5), 1e-5) }, "mx.LayerNorm", "bias", "[5]", "[5 6]")
}

// checkNormGradAgainstComposite compares the fused gradients with those of the same
// normalization written with plain ops, on enough rows (float32 and bfloat16) to span several
// row blocks of the kernel.
func checkNormGradAgainstComposite(t *testing.T, rms bool) {
	t.Helper()
	rng := newRNG(23)
	x, w, b, c := randn(rng, 300, 12), randn(rng, 12), randn(rng, 12), randn(rng, 300, 12)
	composite := func(a ...*Array) *Array {
		x := a[0]
		if rms {
			return Mul(Mul(x, Rsqrt(AddScalar(Mean(Square(x), []int{-1}, true), 1e-5))), a[1])
		}
		xc := Sub(x, Mean(x, []int{-1}, true))
		return Add(Mul(Mul(xc, Rsqrt(AddScalar(Mean(Square(xc), []int{-1}, true), 1e-5))), a[1]), a[2])
	}
	fused := func(a ...*Array) *Array {
		if rms {
			return RMSNorm(a[0], a[1], 1e-5)
		}
		return LayerNorm(a[0], a[1], a[2], 1e-5)
	}
	_, want := VJP(func(a ...*Array) []*Array { return []*Array{composite(a...)} }, []*Array{x, w, b}, []*Array{c})
	for _, dt := range []DType{Float64, Float32, BFloat16} {
		tol := map[DType]float64{Float64: 1e-10, Float32: 1e-5, BFloat16: 3e-2}[dt]
		args := []*Array{AsType(x, dt), AsType(w, dt), AsType(b, dt)}
		_, got := VJP(func(a ...*Array) []*Array { return []*Array{fused(a...)} }, args, []*Array{AsType(c, dt)})
		n := 3
		if rms {
			n = 2
		}
		for i := 0; i < n; i++ {
			if got[i].DType() != dt {
				t.Fatalf("gradient %d has dtype %s, want %s", i, got[i].DType(), dt)
			}
			w := want[i].Float64s()
			scale := 0.0
			for _, v := range w {
				scale = math.Max(scale, math.Abs(v))
			}
			assertClose(t, "norm gradient "+dt.String(), got[i].Float64s(), w, tol*scale, tol)
		}
	}
}

// refRoPE rotates rows of x (…, L, D) the way RoPE is documented, in float64.
func refRoPE(x []float64, shape []int, dims int, traditional bool, base, scale float64, offset int, theta []float64) []float64 {
	nd := len(shape)
	l, d := shape[nd-2], shape[nd-1]
	out := append([]float64(nil), x...)
	if theta == nil {
		theta = make([]float64, dims/2)
		for i := range theta {
			theta[i] = math.Pow(base, -2*float64(i)/float64(dims))
		}
	}
	for r := 0; r*d < len(x); r++ {
		pos := float64(offset + r%l)
		for i := 0; i < dims/2; i++ {
			a, b := i, i+dims/2
			if traditional {
				a, b = 2*i, 2*i+1
			}
			ang := pos * scale * theta[i]
			x0, x1 := x[r*d+a], x[r*d+b]
			out[r*d+a] = x0*math.Cos(ang) - x1*math.Sin(ang)
			out[r*d+b] = x0*math.Sin(ang) + x1*math.Cos(ang)
		}
	}
	return out
}

func TestRoPEMatchesReference(t *testing.T) {
	rng := newRNG(24)
	theta := []float64{1, 0.3, 0.05}
	cases := []struct {
		shape []int
		opts  RoPEOptions
	}{
		{[]int{2, 3, 5, 8}, RoPEOptions{}},
		{[]int{2, 3, 5, 8}, RoPEOptions{Traditional: true}},
		{[]int{4, 10}, RoPEOptions{Dims: 6, Base: 500, Scale: 0.5, Offset: 7}},
		{[]int{4, 10}, RoPEOptions{Dims: 6, Traditional: true, Offset: 3, Freqs: FromSlice(theta, 3)}},
		{[]int{1, 6}, RoPEOptions{OffsetArray: FromSlice([]int32{12}, 1)}},
		{[]int{3, 0, 4}, RoPEOptions{}},
	}
	for _, c := range cases {
		x := randn(rng, c.shape...)
		o := c.opts
		dims, base, scale, offset := o.Dims, o.Base, o.Scale, o.Offset
		if dims == 0 {
			dims = c.shape[len(c.shape)-1]
		}
		if base == 0 {
			base = 10000
		}
		if scale == 0 {
			scale = 1
		}
		if o.OffsetArray != nil {
			offset = o.OffsetArray.Ints()[0]
		}
		var th []float64
		if o.Freqs != nil {
			th = theta
		}
		want := refRoPE(x.Float64s(), c.shape, dims, o.Traditional, base, scale, offset, th)
		got := RoPE(x, o)
		assertShape(t, "RoPE", got, c.shape...)
		assertClose(t, "RoPE f64", got.Float64s(), want, 1e-12, 1e-12)
		assertClose(t, "RoPE f32", RoPE(AsType(x, Float32), o).Float64s(), want, 1e-5, 1e-5)
		xb := AsType(x, BFloat16)
		wantB := refRoPE(xb.Float64s(), c.shape, dims, o.Traditional, base, scale, offset, th)
		assertClose(t, "RoPE bf16", RoPE(xb, o).Float64s(), wantB, 2e-2, 1e-2)
		if x.Size() > 0 && x.Size() < 100 {
			checkGrad(t, "RoPE", func(a ...*Array) *Array { return RoPE(a[0], o) }, x)
		}
	}
	// Non-contiguous input: (L, H, D) transposed to (H, L, D).
	x := randn(rng, 5, 2, 8)
	xt := Transpose(x, 1, 0, 2)
	assertClose(t, "RoPE transposed", RoPE(xt, RoPEOptions{Offset: 2}).Float64s(),
		refRoPE(xt.Float64s(), []int{2, 5, 8}, 8, false, 10000, 1, 2, nil), 1e-12, 1e-12)
	// A compiled decode step takes the position as an argument and does not retrace.
	step := Compile(func(a ...*Array) []*Array { return []*Array{RoPE(a[0], RoPEOptions{OffsetArray: a[1]})} })
	q := AsType(randn(rng, 2, 1, 8), Float32)
	for _, pos := range []int{0, 5, 100} {
		got := step.Call(q, FromSlice([]int32{int32(pos)}))
		want := refRoPE(q.Float64s(), []int{2, 1, 8}, 8, false, 10000, 1, pos, nil)
		assertClose(t, "RoPE compiled", got[0].Float64s(), want, 1e-5, 1e-5)
	}
	if step.Traces() != 1 {
		t.Fatalf("RoPE with an offset array retraced: %d traces", step.Traces())
	}
	mustPanic(t, func() { RoPE(x, RoPEOptions{Dims: 5}) }, "mx.RoPE", "dims 5", "[5 2 8]")
	mustPanic(t, func() { RoPE(x, RoPEOptions{Dims: 10}) }, "mx.RoPE", "dims 10")
	mustPanic(t, func() { RoPE(randn(rng, 4), RoPEOptions{}) }, "mx.RoPE", "[4]")
	mustPanic(t, func() { RoPE(x, RoPEOptions{Freqs: randn(rng, 3)}) }, "mx.RoPE", "freqs", "[3]")
	mustPanic(t, func() { RoPE(x, RoPEOptions{OffsetArray: randn(rng)}) }, "mx.RoPE", "offset")
}
