package mx

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// pyIndices lists range(n)[start:stop:step] the way Python does, written as a plain loop.
func pyIndices(n, start, stop, step int) []int {
	adj := func(i int) int {
		if i < 0 {
			i += n
		}
		return i
	}
	s, e := adj(start), adj(stop)
	out := []int{}
	if step > 0 {
		s = max(s, 0)
		for i := s; i < e && i < n; i += step {
			out = append(out, i)
		}
		return out
	}
	s = min(s, n-1)
	for i := s; i > e && i >= 0; i += step {
		out = append(out, i)
	}
	return out
}

// refGather picks x[idxs[0][i0], idxs[1][i1], ...] for every output multi-index.
func refGather(x []float64, shape []int, idxs [][]int) []float64 {
	oshape := make([]int, len(idxs))
	n := 1
	for i, ix := range idxs {
		oshape[i] = len(ix)
		n *= len(ix)
	}
	out := make([]float64, n)
	for f := range out {
		mi := unravel(f, oshape)
		src := 0
		for d, j := range mi {
			src = src*shape[d] + idxs[d][j]
		}
		out[f] = x[src]
	}
	return out
}

func seqInts(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestPySliceMatchesPython(t *testing.T) {
	// Expected values printed by Python: list(range(n)[start:stop:step]).
	cases := []struct {
		n, start, stop, step int
		want                 []int
	}{
		{5, 1, 4, 1, []int{1, 2, 3}}, {5, -2, 100, 1, []int{3, 4}}, {5, -100, 2, 1, []int{0, 1}},
		{5, 4, 1, -1, []int{4, 3, 2}}, {5, -1, -6, -1, []int{4, 3, 2, 1, 0}}, {5, -1, -100, -2, []int{4, 2, 0}},
		{5, 10, 0, -1, []int{4, 3, 2, 1}}, {5, 3, 3, 1, []int{}}, {5, 0, 5, 2, []int{0, 2, 4}},
		{5, 0, 5, 3, []int{0, 3}}, {5, 4, -100, -3, []int{4, 1}}, {5, -7, -6, 1, []int{}},
		{5, 2, -1, -1, []int{}}, {0, 0, 5, 1, []int{}}, {0, -1, -100, -1, []int{}}, {1, 0, 1, -1, []int{}},
		{7, 6, 0, -4, []int{6, 2}}, {6, -3, 10, 2, []int{3, 5}},
		{5, math.MaxInt, math.MinInt, -1, []int{4, 3, 2, 1, 0}}, {5, math.MinInt, math.MaxInt, 2, []int{0, 2, 4}},
	}
	for _, c := range cases {
		ref := pyIndices(c.n, c.start, c.stop, c.step)
		first, count := pySlice(c.n, c.start, c.stop, c.step)
		got := []int{}
		for i := 0; i < count; i++ {
			got = append(got, first+i*c.step)
		}
		if !slices.Equal(got, c.want) || !slices.Equal(ref, c.want) {
			t.Fatalf("range(%d)[%d:%d:%d]: pySlice %v, reference %v, want %v", c.n, c.start, c.stop, c.step, got, ref, c.want)
		}
	}
}

// randomSlice draws slice lists for shape: some leading axes, bounds past both ends, any step.
func randomSlice(rng *rand.Rand, shape []int) (start, stop, step []int, idxs [][]int) {
	k := rng.IntN(len(shape) + 1)
	for i, n := range shape {
		if i >= k {
			idxs = append(idxs, seqInts(n))
			continue
		}
		s := []int{-3, -2, -1, 1, 1, 2, 3}[rng.IntN(7)]
		a, b := rng.IntN(2*n+5)-n-2, rng.IntN(2*n+5)-n-2
		if rng.IntN(4) == 0 { // whole axis, either way
			a, b = 0, math.MaxInt
			if s < 0 {
				a, b = -1, math.MinInt
			}
		}
		start, stop, step = append(start, a), append(stop, b), append(step, s)
		idxs = append(idxs, pyIndices(n, a, b, s))
	}
	return start, stop, step, idxs
}

func TestSliceMatchesReference(t *testing.T) {
	rng := newRNG(11)
	shapes := [][]int{{7}, {3, 4}, {2, 3, 5}, {1, 5, 1}, {2, 0, 3}, {4, 1, 3, 2}}
	for _, shape := range shapes {
		x := randn(rng, shape...)
		xv := x.Float64s()
		xb := AsType(x, BFloat16)
		xbv := xb.Float64s()
		for trial := 0; trial < 12; trial++ {
			start, stop, step, idxs := randomSlice(rng, shape)
			got := Slice(x, start, stop, step)
			want := refGather(xv, shape, idxs)
			oshape := make([]int, len(idxs))
			for i, ix := range idxs {
				oshape[i] = len(ix)
			}
			assertShape(t, "Slice", got, oshape...)
			assertClose(t, "Slice f64", got.Float64s(), want, 0, 0)
			assertClose(t, "Slice f32", Slice(AsType(x, Float32), start, stop, step).Float64s(), want, 1e-7, 1e-7)
			assertClose(t, "Slice bf16", Slice(xb, start, stop, step).Float64s(), refGather(xbv, shape, idxs), 0, 0)
			assertClose(t, "Slice int32", Slice(AsType(x, Int32), start, stop, step).Float64s(), refGather(AsType(x, Int32).Float64s(), shape, idxs), 0, 0)
		}
	}
	// A transposed input, and a slice of a slice.
	x := randn(rng, 4, 6)
	xt := Transpose(x)
	got := Slice(xt, []int{1, -1}, []int{6, 0}, []int{2, -1})
	want := refGather(xt.Float64s(), []int{6, 4}, [][]int{{1, 3, 5}, {3, 2, 1}})
	assertClose(t, "Slice of transpose", got.Float64s(), want, 0, 0)
	got = SliceAxis(Slice(x, []int{1}, []int{4}, nil), 1, -4, -1)
	assertClose(t, "Slice of slice", got.Float64s(), refGather(x.Float64s(), []int{4, 6}, [][]int{{1, 2, 3}, {2, 3, 4}}), 0, 0)
	if Slice(x, []int{0, 0}, []int{4, 6}, nil) != x || SliceAxis(x, -1, -100, 100) != x {
		t.Fatal("a full slice should return its input")
	}
	// A large contiguous window exercises the parallel row copy.
	big := randn(rng, 8, 64, 96)
	bs := Slice(big, []int{0, 3, 16}, []int{8, 61, 80}, nil)
	assertClose(t, "Slice big", bs.Float64s(), refGather(big.Float64s(), []int{8, 64, 96}, [][]int{seqInts(8), pyIndices(64, 3, 61, 1), pyIndices(96, 16, 80, 1)}), 0, 0)
	mustPanic(t, func() { Slice(x, []int{0}, []int{1}, []int{0}) }, "mx.Slice", "zero step")
	mustPanic(t, func() { Slice(x, []int{0, 0}, []int{1}, nil) }, "mx.Slice", "[0 0]", "[1]")
	mustPanic(t, func() { Slice(x, []int{0, 0, 0}, []int{1, 1, 1}, nil) }, "mx.Slice", "[4 6]")
	mustPanic(t, func() { SliceAxis(x, 2, 0, 1) }, "mx.SliceAxis", "axis 2")
}

func TestSliceGrad(t *testing.T) {
	rng := newRNG(12)
	x := randn(rng, 3, 4, 5)
	for _, s := range [][3][]int{
		{{1}, {3}, nil},
		{{0, 1}, {2, 3}, nil},
		{{0, 1, -4}, {3, 4, 5}, {2, 1, 1}},
		{{-1, 3, 0}, {math.MinInt, 0, 5}, {-1, -2, 2}},
		{{0, 4}, {3, 4}, nil}, // empty window
	} {
		checkGrad(t, "Slice", func(a ...*Array) *Array { return Slice(a[0], s[0], s[1], s[2]) }, x)
	}
}

// refSliceUpdate writes u (the window's shape, row-major) into a copy of x at idxs.
func refSliceUpdate(x []float64, shape []int, idxs [][]int, u []float64) []float64 {
	out := append([]float64(nil), x...)
	wshape := make([]int, len(idxs))
	for i, ix := range idxs {
		wshape[i] = len(ix)
	}
	for f, v := range u {
		mi := unravel(f, wshape)
		dst := 0
		for d, j := range mi {
			dst = dst*shape[d] + idxs[d][j]
		}
		out[dst] = v
	}
	return out
}

func TestSliceUpdate(t *testing.T) {
	rng := newRNG(13)
	for _, shape := range [][]int{{6}, {3, 5}, {2, 4, 3}, {2, 1, 4}} {
		x := randn(rng, shape...)
		for trial := 0; trial < 10; trial++ {
			start, stop, step, idxs := randomSlice(rng, shape)
			wshape := make([]int, len(idxs))
			for i, ix := range idxs {
				wshape[i] = len(ix)
			}
			u := randn(rng, wshape...)
			got := SliceUpdate(x, u, start, stop, step)
			want := refSliceUpdate(x.Float64s(), shape, idxs, u.Float64s())
			assertClose(t, "SliceUpdate", got.Float64s(), want, 0, 0)
			assertClose(t, "SliceUpdate f32", SliceUpdate(AsType(x, Float32), u, start, stop, step).Float64s(), want, 1e-7, 1e-7)
			checkGrad(t, "SliceUpdate", func(a ...*Array) *Array { return SliceUpdate(a[0], a[1], start, stop, step) }, x, u)
		}
	}
	// Broadcast update, KV-cache style: write one position of (B, H, L, D).
	cache := Zeros([]int{2, 3, 8, 4}, Float32)
	row := randn(rng, 3, 1, 4)
	got := SliceUpdate(cache, row, []int{0, 0, 5}, []int{2, 3, 6}, nil)
	want := make([]float64, 2*3*8*4)
	rv := row.Float64s()
	for b := 0; b < 2; b++ {
		for h := 0; h < 3; h++ {
			for d := 0; d < 4; d++ {
				want[((b*3+h)*8+5)*4+d] = float64(float32(rv[h*4+d]))
			}
		}
	}
	assertClose(t, "SliceUpdate broadcast", got.Float64s(), want, 0, 0)
	x := randn(rng, 3, 4)
	checkGrad(t, "SliceUpdate broadcast", func(a ...*Array) *Array {
		return SliceUpdate(a[0], a[1], []int{0, 1}, []int{3, 4}, []int{2, 2})
	}, x, randn(rng, 1))
	mustPanic(t, func() { SliceUpdate(x, randn(rng, 3, 3), []int{0}, []int{2}, nil) }, "mx.SliceUpdate", "[3 3]", "[2 4]")
}

// refConcat joins row-major arrays along axis.
func refConcat(vals [][]float64, shapes [][]int, axis int) []float64 {
	outer := 1
	for _, d := range shapes[0][:axis] {
		outer *= d
	}
	var out []float64
	for o := 0; o < outer; o++ {
		for _, v := range vals {
			run := len(v) / outer
			out = append(out, v[o*run:(o+1)*run]...)
		}
	}
	return out
}

func TestConcatenateStackSplit(t *testing.T) {
	rng := newRNG(14)
	for _, c := range []struct {
		shapes [][]int
		axis   int
	}{
		{[][]int{{2, 3}, {2, 4}}, 1},
		{[][]int{{2, 3}, {2, 4}, {2, 1}}, -1},
		{[][]int{{1, 3}, {4, 3}}, 0},
		{[][]int{{2, 0, 3}, {2, 2, 3}, {2, 1, 3}}, 1},
		{[][]int{{3, 2, 2}, {3, 2, 2}}, 2},
		{[][]int{{5}}, 0},
		{[][]int{{64, 300}, {64, 212}}, 1}, // large enough to run in parallel
	} {
		var arrs []*Array
		var vals [][]float64
		for _, s := range c.shapes {
			a := randn(rng, s...)
			arrs = append(arrs, a)
			vals = append(vals, a.Float64s())
		}
		ax := normAxis("test", c.axis, len(c.shapes[0]))
		got := Concatenate(arrs, c.axis)
		want := refConcat(vals, c.shapes, ax)
		assertClose(t, "Concatenate", got.Float64s(), want, 0, 0)
		var half []*Array
		for _, a := range arrs {
			half = append(half, AsType(a, BFloat16))
		}
		hv := Concatenate(half, c.axis).Float64s()
		var hvals [][]float64
		for _, a := range half {
			hvals = append(hvals, a.Float64s())
		}
		assertClose(t, "Concatenate bf16", hv, refConcat(hvals, c.shapes, ax), 0, 0)
		if got.Size() < 100 {
			checkGrad(t, "Concatenate", func(a ...*Array) *Array { return Concatenate(a, c.axis) }, arrs...)
		}
		// Split back with SplitAt at the running offsets.
		var cuts []int
		off := 0
		for _, s := range c.shapes[:len(c.shapes)-1] {
			off += s[ax]
			cuts = append(cuts, off)
		}
		for k, p := range SplitAt(got, cuts, c.axis) {
			assertShape(t, "SplitAt", p, c.shapes[k]...)
			assertClose(t, "SplitAt", p.Float64s(), vals[k], 0, 0)
		}
	}
	// Mixed dtypes promote; transposed inputs.
	a, b := randn(rng, 3, 2), FromSlice([]int32{1, 2, 3}, 3, 1)
	got := Concatenate([]*Array{Transpose(Transpose(a)), b}, 1)
	if got.DType() != Float64 {
		t.Fatalf("Concatenate dtype %s", got.DType())
	}
	av := a.Float64s()
	assertClose(t, "Concatenate mixed", got.Float64s(), []float64{av[0], av[1], 1, av[2], av[3], 2, av[4], av[5], 3}, 0, 0)
	mustPanic(t, func() { Concatenate([]*Array{a, randn(rng, 2, 2)}, 1) }, "mx.Concatenate", "[3 2]", "[2 2]")
	mustPanic(t, func() { Concatenate(nil, 0) }, "mx.Concatenate")

	// Stack = Concatenate of expanded arrays.
	x, y := randn(rng, 2, 3), randn(rng, 2, 3)
	for _, axis := range []int{0, 1, 2, -1, -3} {
		ax := normAxis("test", axis, 3)
		want := Concatenate([]*Array{ExpandDims(x, ax), ExpandDims(y, ax)}, ax)
		got := Stack([]*Array{x, y}, axis)
		assertShape(t, "Stack", got, want.Shape()...)
		assertClose(t, "Stack", got.Float64s(), want.Float64s(), 0, 0)
	}
	checkGrad(t, "Stack", func(a ...*Array) *Array { return Stack(a, 1) }, x, y)
	mustPanic(t, func() { Stack([]*Array{x, randn(rng, 3, 2)}, 0) }, "mx.Stack", "[2 3]", "[3 2]")

	// Split into equal parts; SplitAt with Python-style indices.
	z := randn(rng, 4, 6)
	zv := z.Float64s()
	for k, p := range Split(z, 3, -1) {
		assertClose(t, "Split", p.Float64s(), refGather(zv, []int{4, 6}, [][]int{seqInts(4), {2 * k, 2*k + 1}}), 0, 0)
	}
	parts := SplitAt(z, []int{1, -1, 2}, 1)
	for k, ix := range [][]int{{0}, {1, 2, 3, 4}, {}, {2, 3, 4, 5}} {
		assertClose(t, "SplitAt", parts[k].Float64s(), refGather(zv, []int{4, 6}, [][]int{seqInts(4), ix}), 0, 0)
	}
	mustPanic(t, func() { Split(z, 4, 1) }, "mx.Split", "[4 6]", "4 equal parts")
}

func TestPadRepeatTile(t *testing.T) {
	rng := newRNG(15)
	x := randn(rng, 2, 3)
	xv := x.Float64s()
	got := Pad(x, []int{1, 0}, []int{0, 2}, -1.5)
	want := []float64{
		-1.5, -1.5, -1.5, -1.5, -1.5,
		xv[0], xv[1], xv[2], -1.5, -1.5,
		xv[3], xv[4], xv[5], -1.5, -1.5,
	}
	assertShape(t, "Pad", got, 3, 5)
	assertClose(t, "Pad", got.Float64s(), want, 0, 0)
	assertClose(t, "Pad f32", Pad(AsType(x, Float32), []int{1, 0}, []int{0, 2}, -1.5).Float64s(), want, 1e-6, 1e-6)
	assertClose(t, "Pad int", Pad(FromSlice([]int32{1, 2}, 2), []int{2}, []int{1}, 7.9).Float64s(), []float64{7, 7, 1, 2, 7}, 0, 0)
	assertClose(t, "Pad bf16", Pad(AsType(FromSlice([]float32{1, 2}, 1, 2), BFloat16), []int{0, 1}, nil, 0.5).Float64s(), []float64{0.5, 1, 2}, 0, 0)
	assertClose(t, "Pad empty", Pad(Zeros([]int{0, 2}, Float32), []int{1, 0}, nil, 3).Float64s(), []float64{3, 3}, 0, 0)
	checkGrad(t, "Pad", func(a ...*Array) *Array { return Pad(a[0], []int{1, 2}, []int{2, 0}, 3) }, x)
	mustPanic(t, func() { Pad(x, []int{-1, 0}, nil, 0) }, "mx.Pad", "[2 3]")
	mustPanic(t, func() { Pad(x, []int{1}, nil, 0) }, "mx.Pad", "[2 3]")

	// Repeat: out[..., i, ...] = x[..., i/r, ...].
	y := randn(rng, 2, 3, 2)
	yv := y.Float64s()
	for _, axis := range []int{0, 1, -1} {
		for _, r := range []int{0, 1, 3} {
			ax := normAxis("test", axis, 3)
			idxs := [][]int{seqInts(2), seqInts(3), seqInts(2)}
			var rep []int
			for i := 0; i < y.Dim(ax)*r; i++ {
				rep = append(rep, i/r)
			}
			idxs[ax] = rep
			assertClose(t, "Repeat", Repeat(y, r, axis).Float64s(), refGather(yv, []int{2, 3, 2}, idxs), 0, 0)
		}
	}
	checkGrad(t, "Repeat", func(a ...*Array) *Array { return Repeat(a[0], 2, 1) }, y)

	// Tile: out[i] = x[i mod shape], with numpy's rules for mismatched ranks.
	for _, reps := range [][]int{{2}, {2, 1}, {1, 2, 3}, {3, 1, 1, 2}, {0, 2}} {
		nd := max(len(reps), 3)
		r, s := make([]int, nd), make([]int, nd)
		for i := range r {
			r[i], s[i] = 1, 1
		}
		copy(r[nd-len(reps):], reps)
		copy(s[nd-3:], []int{2, 3, 2})
		idxs := make([][]int, nd)
		for i := range idxs {
			idxs[i] = []int{}
			for j := 0; j < r[i]*s[i]; j++ {
				idxs[i] = append(idxs[i], j%s[i])
			}
		}
		got := Tile(y, reps)
		assertClose(t, "Tile", got.Float64s(), refGather(yv, s, idxs), 0, 0)
	}
	checkGrad(t, "Tile", func(a ...*Array) *Array { return Tile(a[0], []int{2, 1, 2}) }, y)
}

func TestTrilTriu(t *testing.T) {
	rng := newRNG(16)
	x := randn(rng, 2, 3, 4)
	xv := x.Float64s()
	for _, k := range []int{-2, -1, 0, 1, 3} {
		lo, up := make([]float64, len(xv)), make([]float64, len(xv))
		for f, v := range xv {
			mi := unravel(f, []int{2, 3, 4})
			if mi[2] <= mi[1]+k {
				lo[f] = v
			}
			if mi[2] >= mi[1]+k {
				up[f] = v
			}
		}
		assertClose(t, "Tril", Tril(x, k).Float64s(), lo, 0, 0)
		assertClose(t, "Triu", Triu(x, k).Float64s(), up, 0, 0)
	}
	checkGrad(t, "Tril", func(a ...*Array) *Array { return Tril(a[0], 0) }, x)
	checkGrad(t, "Triu", func(a ...*Array) *Array { return Triu(a[0], 1) }, x)
	mustPanic(t, func() { Tril(randn(rng, 3), 0) }, "mx.Tril", "[3]")
}
