package random

import (
	"fmt"
	"github.com/lmxlab/lmxlab/internal/testenv"
	"math"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
)

const nSamples = 100000

// moments returns the sample mean and variance.
func moments(v []float64) (mean, variance float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v)-1)
}

// checkMoments fails unless the sample mean and variance of v match within 5 standard errors
// (the variance's standard error is estimated from the fourth central moment).
func checkMoments(t *testing.T, what string, v []float64, mean, variance float64) {
	t.Helper()
	m, s2 := moments(v)
	n := float64(len(v))
	m4 := 0.0
	for _, x := range v {
		d := x - m
		m4 += d * d * d * d
	}
	m4 /= n
	if se := math.Sqrt(variance / n); math.Abs(m-mean) > 5*se {
		t.Errorf("%s: mean %.5f, want %.5f ± %.5f", what, m, mean, 5*se)
	}
	if se := math.Sqrt(math.Max(m4-s2*s2, 0) / n); math.Abs(s2-variance) > 5*se+1e-12 {
		t.Errorf("%s: variance %.5f, want %.5f ± %.5f", what, s2, variance, 5*se)
	}
}

// mustPanic checks that f panics with a message naming every fragment.
var mustPanic = testenv.MustPanic

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// correlation is the sample correlation of x and y.
func correlation(x, y []float64) float64 {
	mx, vx := moments(x)
	my, vy := moments(y)
	c := 0.0
	for i := range x {
		c += (x[i] - mx) * (y[i] - my)
	}
	return c / float64(len(x)-1) / math.Sqrt(vx*vy)
}

func TestKeysAndSplit(t *testing.T) {
	k := Key(0x0123456789abcdef)
	if got := k.Uint32s(); got[0] != 0x01234567 || got[1] != 0x89abcdef || k.DType() != mx.Uint32 {
		t.Fatalf("Key = %s %x", k.DType(), got)
	}
	// Same key, same numbers; different keys, different numbers.
	a := Bits(Key(1), []int{1000}).Uint32s()
	if b := Bits(Key(1), []int{1000}).Uint32s(); !equalU32(a, b) {
		t.Fatal("the same key gave different bits")
	}
	if b := Bits(Key(2), []int{1000}).Uint32s(); equalU32(a, b) {
		t.Fatal("different keys gave the same bits")
	}
	keys := Split(Key(1), 4)
	if s := keys.Shape(); len(s) != 2 || s[0] != 4 || s[1] != 2 {
		t.Fatalf("Split shape %v", s)
	}
	kv := keys.Uint32s()
	seen := map[[2]uint32]bool{{0, 1}: true} // the parent key itself
	for i := 0; i < 4; i++ {
		ki := At(keys, i).Uint32s()
		if ki[0] != kv[2*i] || ki[1] != kv[2*i+1] {
			t.Fatalf("At(keys, %d) = %x, want %x", i, ki, kv[2*i:2*i+2])
		}
		if seen[[2]uint32{ki[0], ki[1]}] {
			t.Fatalf("split key %d repeats", i)
		}
		seen[[2]uint32{ki[0], ki[1]}] = true
	}
	if !equalU32(At(keys, -1).Uint32s(), At(keys, 3).Uint32s()) {
		t.Fatal("At(keys, -1) is not the last key")
	}
	// Draws from sibling keys, and from a key and its child, are uncorrelated.
	u0 := Uniform(At(keys, 0), 0, 1, []int{nSamples}, mx.Float64).Float64s()
	u1 := Uniform(At(keys, 1), 0, 1, []int{nSamples}, mx.Float64).Float64s()
	up := Uniform(Key(1), 0, 1, []int{nSamples}, mx.Float64).Float64s()
	for _, c := range []float64{correlation(u0, u1), correlation(u0, up), correlation(u1, up)} {
		if math.Abs(c) > 5/math.Sqrt(nSamples) {
			t.Fatalf("correlation %.4f between streams of split keys", c)
		}
	}
	if Split(Key(1), 0).Size() != 0 {
		t.Fatal("Split(key, 0) is not empty")
	}
	mustPanic(t, func() { Split(Key(1), -1) }, "random.Split", "-1")
	mustPanic(t, func() { At(keys, 4) }, "random.At", "4")
	mustPanic(t, func() { At(Key(1), 0) }, "random.At", "[2]")
	mustPanic(t, func() { Uniform(mx.FromSlice([]int32{1, 2}, 2), 0, 1, []int{3}, mx.Float32) }, "random.Uniform", "int32")
	mustPanic(t, func() { Normal(mx.FromSlice([]uint32{1, 2, 3}, 3), []int{3}, mx.Float32, 0, 1) }, "random.Normal", "[3]")
}

func TestDefaultKey(t *testing.T) {
	Seed(7)
	a := Uniform(nil, 0, 1, []int{100}, mx.Float32).Float64s()
	b := Uniform(nil, 0, 1, []int{100}, mx.Float32).Float64s()
	Seed(7)
	c := Uniform(nil, 0, 1, []int{100}, mx.Float32).Float64s()
	same := func(x, y []float64) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, c) {
		t.Fatal("reseeding did not repeat the draws")
	}
	if same(a, b) {
		t.Fatal("two draws from the default key are equal")
	}
	if Split(nil, 3).Size() != 6 {
		t.Fatal("Split(nil, 3)")
	}
}

func TestCompiledDrawMatchesEager(t *testing.T) {
	f := mx.Compile(func(args ...*mx.Array) []*mx.Array {
		k := Split(args[0], 2)
		return []*mx.Array{Normal(At(k, 0), []int{64}, mx.Float32, 0, 1), Randint(At(k, 1), -5, 5, []int{64}, mx.Int32)}
	})
	key := Key(11)
	got := f.Call(key)
	k := Split(key, 2)
	wantN := Normal(At(k, 0), []int{64}, mx.Float32, 0, 1).Float64s()
	wantR := Randint(At(k, 1), -5, 5, []int{64}, mx.Int32).Ints()
	gotN, gotR := got[0].Float64s(), got[1].Ints()
	for i := range wantN {
		if gotN[i] != wantN[i] || gotR[i] != wantR[i] {
			t.Fatalf("element %d: compiled %v %v, eager %v %v", i, gotN[i], gotR[i], wantN[i], wantR[i])
		}
	}
	if again := f.Call(Key(12))[0].Float64s(); again[0] == gotN[0] && again[1] == gotN[1] {
		t.Fatal("a compiled draw ignored its key argument")
	}
}

func TestUniform(t *testing.T) {
	for i, dt := range []mx.DType{mx.Float32, mx.Float64, mx.BFloat16, mx.Float16} {
		key := At(Split(Key(3), 4), i)
		u := Uniform(key, -2, 3, []int{nSamples}, dt)
		if u.DType() != dt {
			t.Fatalf("%s: dtype %s", dt, u.DType())
		}
		v := u.Float64s()
		for _, x := range v {
			if x < -2 || x >= 3 {
				t.Fatalf("%s: %v outside [-2, 3)", dt, x)
			}
		}
		checkMoments(t, "Uniform "+dt.String(), v, 0.5, 25.0/12)
		// [0, 1) is exact multiples of 2^-m, never 1.
		m := float64(significandBits(dt))
		for _, x := range Uniform(key, 0, 1, []int{10000}, dt).Float64s() {
			if x < 0 || x >= 1 || math.Ldexp(x, int(m)) != math.Floor(math.Ldexp(x, int(m))) {
				t.Fatalf("%s: unit uniform %v", dt, x)
			}
		}
	}
	// A narrow range where rounding to bfloat16 would reach high.
	for _, x := range Uniform(Key(4), 1, 1.01, []int{10000}, mx.BFloat16).Float64s() {
		if x < 1 || x >= 1.01 {
			t.Fatalf("bfloat16 %v outside [1, 1.01)", x)
		}
	}
	mx.Eval(Uniform(Key(1), 0, 1, []int{3, 0}, mx.Float32))
	mustPanic(t, func() { Uniform(Key(1), 1, 1, []int{3}, mx.Float32) }, "random.Uniform", "[1, 1)")
	mustPanic(t, func() { Uniform(Key(1), 0, 1, []int{3}, mx.Int32) }, "random.Uniform", "int32")
	mustPanic(t, func() { Uniform(Key(1), 0, 1, []int{-3}, mx.Float32) }, "random.Uniform", "[-3]")
}

func TestNormal(t *testing.T) {
	for i, dt := range []mx.DType{mx.Float32, mx.Float64, mx.BFloat16} {
		key := At(Split(Key(5), 3), i)
		z := Normal(key, []int{nSamples}, dt, 0, 1)
		if z.DType() != dt {
			t.Fatalf("%s: dtype %s", dt, z.DType())
		}
		v := z.Float64s()
		checkMoments(t, "Normal "+dt.String(), v, 0, 1)
		// The tails: about 4.55% beyond 2 sigma.
		out := 0
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("%s: non-finite normal %v", dt, x)
			}
			if math.Abs(x) > 2 {
				out++
			}
		}
		if p := float64(out) / nSamples; math.Abs(p-0.0455) > 0.004 {
			t.Errorf("%s: %.4f of draws beyond 2 sigma, want 0.0455", dt, p)
		}
	}
	v := Normal(Key(6), []int{nSamples}, mx.Float32, 3, 0.5).Float64s()
	checkMoments(t, "Normal(3, 0.5)", v, 3, 0.25)
}

func TestTruncatedNormal(t *testing.T) {
	phi := func(x float64) float64 {
		if math.IsInf(x, 0) {
			return 0
		}
		return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
	}
	xphi := func(x float64) float64 {
		if math.IsInf(x, 0) {
			return 0
		}
		return x * phi(x)
	}
	cdf := func(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }
	cases := []struct {
		lo, hi float64
		dt     mx.DType
	}{
		{-2, 2, mx.Float32},
		{0.5, 3, mx.Float64},
		{math.Inf(-1), 1, mx.Float32},
		{4, 6, mx.Float32},
		{-1, 0.25, mx.BFloat16},
	}
	for i, c := range cases {
		v := TruncatedNormal(At(Split(Key(8), len(cases)), i), c.lo, c.hi, []int{nSamples}, c.dt).Float64s()
		for _, x := range v {
			if !(x >= c.lo && x <= c.hi) {
				t.Fatalf("[%g, %g] %s: draw %v out of bounds", c.lo, c.hi, c.dt, x)
			}
		}
		z := cdf(c.hi) - cdf(c.lo)
		mean := (phi(c.lo) - phi(c.hi)) / z
		variance := 1 + (xphi(c.lo)-xphi(c.hi))/z - mean*mean
		if c.dt == mx.BFloat16 {
			// bfloat16 rounding (relative 2^-9) adds variance of order (x/2^9)^2/3.
			variance += 1.0 / (3 << 18)
		}
		checkMoments(t, fmt.Sprintf("TruncatedNormal[%g, %g] %s", c.lo, c.hi, c.dt), v, mean, variance)
	}
	mustPanic(t, func() { TruncatedNormal(Key(1), 2, 1, []int{3}, mx.Float32) }, "random.TruncatedNormal", "[2, 1]")
}

func TestGumbel(t *testing.T) {
	const euler = 0.5772156649015329
	for i, dt := range []mx.DType{mx.Float32, mx.Float64} {
		v := Gumbel(At(Split(Key(9), 2), i), []int{nSamples}, dt).Float64s()
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("non-finite Gumbel draw %v", x)
			}
		}
		checkMoments(t, "Gumbel "+dt.String(), v, euler, math.Pi*math.Pi/6)
	}
	if g := Gumbel(Key(1), []int{4}, mx.BFloat16); g.DType() != mx.BFloat16 {
		t.Fatalf("Gumbel bfloat16 dtype %s", g.DType())
	}
}

func TestBernoulli(t *testing.T) {
	for _, p := range []float64{0.5, 0.1, 0.97} {
		b := Bernoulli(Key(uint64(p*100)), p, []int{nSamples})
		if b.DType() != mx.Bool {
			t.Fatalf("dtype %s", b.DType())
		}
		checkMoments(t, fmt.Sprintf("Bernoulli(%g)", p), b.Float64s(), p, p*(1-p))
	}
	for _, x := range Bernoulli(Key(1), 0, []int{1000}).Bools() {
		if x {
			t.Fatal("Bernoulli(0) drew true")
		}
	}
	for _, x := range Bernoulli(Key(1), 1, []int{1000}).Bools() {
		if !x {
			t.Fatal("Bernoulli(1) drew false")
		}
	}
	// Per-column probabilities, broadcast.
	ps := []float64{0.2, 0.5, 0.9}
	b := BernoulliArray(Key(2), mx.FromSlice(ps, 3), []int{nSamples / 2, 3}).Float64s()
	for j, p := range ps {
		col := make([]float64, 0, nSamples/2)
		for i := j; i < len(b); i += 3 {
			col = append(col, b[i])
		}
		checkMoments(t, fmt.Sprintf("BernoulliArray column %d", j), col, p, p*(1-p))
	}
	if s := BernoulliArray(Key(2), mx.FromSlice(ps, 3), nil).Shape(); len(s) != 1 || s[0] != 3 {
		t.Fatalf("BernoulliArray with nil shape: %v", s)
	}
	mustPanic(t, func() { Bernoulli(Key(1), 1.5, []int{3}) }, "random.Bernoulli", "1.5")
	mustPanic(t, func() { BernoulliArray(Key(1), mx.FromSlice(ps, 3), []int{4}) }, "random.BernoulliArray", "[3]", "[4]")
}

// chiSquare is Pearson's statistic of counts against expected probabilities.
func chiSquare(counts []int, probs []float64, n int) float64 {
	s := 0.0
	for i, c := range counts {
		e := probs[i] * float64(n)
		s += (float64(c) - e) * (float64(c) - e) / e
	}
	return s
}

func TestRandint(t *testing.T) {
	for _, dt := range []mx.DType{mx.Int32, mx.Int64, mx.Uint32, mx.Uint8} {
		lo, hi := -3, 7
		if dt == mx.Uint32 || dt == mx.Uint8 {
			lo, hi = 5, 15
		}
		r := Randint(Key(13), lo, hi, []int{nSamples}, dt)
		if r.DType() != dt {
			t.Fatalf("dtype %s, want %s", r.DType(), dt)
		}
		counts := make([]int, hi-lo)
		for _, x := range r.Ints() {
			if x < lo || x >= hi {
				t.Fatalf("%s: %d outside [%d, %d)", dt, x, lo, hi)
			}
			counts[x-lo]++
		}
		probs := make([]float64, hi-lo)
		for i := range probs {
			probs[i] = 1 / float64(hi-lo)
		}
		// 9 degrees of freedom: P(chi² > 40) ≈ 7e-6.
		if c := chiSquare(counts, probs, nSamples); c > 40 {
			t.Errorf("%s: chi-square %.1f for uniform integers, counts %v", dt, c, counts)
		}
	}
	// A wide int64 range stays in range and spreads out.
	const lo, hi = -1 << 40, 1 << 50
	v := Randint(Key(14), lo, hi, []int{1000}, mx.Int64).Ints()
	neg := 0
	for _, x := range v {
		if x < lo || x >= hi {
			t.Fatalf("%d outside [%d, %d)", x, lo, hi)
		}
		if x < 0 {
			neg++
		}
	}
	if neg > 10 {
		t.Fatalf("%d of 1000 draws negative, expect about 1", neg)
	}
	mustPanic(t, func() { Randint(Key(1), 3, 3, []int{2}, mx.Int32) }, "random.Randint", "[3, 3)")
	mustPanic(t, func() { Randint(Key(1), 0, 300, []int{2}, mx.Uint8) }, "random.Randint", "uint8")
	mustPanic(t, func() { Randint(Key(1), 0, 3, []int{2}, mx.Float32) }, "random.Randint", "float32")
}

func TestCategorical(t *testing.T) {
	logits := []float64{1, 0, -1, 2, 0.5}
	probs := make([]float64, len(logits))
	z := 0.0
	for i, l := range logits {
		probs[i] = math.Exp(l)
		z += probs[i]
	}
	for i := range probs {
		probs[i] /= z
	}
	s := Categorical(Key(15), mx.FromSlice(logits, 5), -1, nSamples)
	if sh := s.Shape(); len(sh) != 1 || sh[0] != nSamples || s.DType() != mx.Int32 {
		t.Fatalf("samples %s%v", s.DType(), sh)
	}
	counts := make([]int, 5)
	for _, c := range s.Ints() {
		counts[c]++
	}
	// 4 degrees of freedom: P(chi² > 30) ≈ 5e-6.
	if c := chiSquare(counts, probs, nSamples); c > 30 {
		t.Errorf("chi-square %.1f, counts %v, probabilities %v", c, counts, probs)
	}
	// Along axis 0 of a (V, B) batch, one draw each: column b has logits logits + b, so every
	// column has the same distribution; -Inf is never drawn.
	const b = 1000
	batch := make([]float32, 6*b)
	for v := 0; v < 6; v++ {
		for j := 0; j < b; j++ {
			if v == 5 {
				batch[v*b+j] = float32(math.Inf(-1))
			} else {
				batch[v*b+j] = float32(logits[v]) + float32(j%7)
			}
		}
	}
	var all []int
	for r := 0; r < 20; r++ {
		d := Categorical(At(Split(Key(16), 20), r), mx.FromSlice(batch, 6, b), 0)
		if sh := d.Shape(); len(sh) != 1 || sh[0] != b {
			t.Fatalf("batched draw shape %v", sh)
		}
		all = append(all, d.Ints()...)
	}
	counts = make([]int, 5)
	for _, c := range all {
		if c == 5 {
			t.Fatal("drew a category with logit -Inf")
		}
		counts[c]++
	}
	if c := chiSquare(counts, probs, len(all)); c > 30 {
		t.Errorf("batched: chi-square %.1f, counts %v", c, counts)
	}
	if sh := Categorical(Key(1), mx.FromSlice(batch, 6, b), 0, 3).Shape(); len(sh) != 2 || sh[0] != b || sh[1] != 3 {
		t.Fatalf("batched draw with 3 samples has shape %v", sh)
	}
	mustPanic(t, func() { Categorical(Key(1), mx.FromSlice(logits, 5), 1) }, "random.Categorical", "axis 1")
	mustPanic(t, func() { Categorical(Key(1), mx.FromSlice(logits, 5), 0, 1, 2) }, "random.Categorical")
}

func TestPermutation(t *testing.T) {
	for _, n := range []int{0, 1, 2, 17, 1000} {
		p := Permutation(Key(uint64(n)), n)
		if p.DType() != mx.Int32 || p.Size() != n {
			t.Fatalf("n=%d: %s%v", n, p.DType(), p.Shape())
		}
		seen := make([]bool, n)
		for _, v := range p.Ints() {
			if v < 0 || v >= n || seen[v] {
				t.Fatalf("n=%d: %v is not a permutation", n, p.Ints())
			}
			seen[v] = true
		}
	}
	a, b := Permutation(Key(1), 1000).Ints(), Permutation(Key(2), 1000).Ints()
	fixed, same := 0, 0
	for i := range a {
		if a[i] == i {
			fixed++
		}
		if a[i] == b[i] {
			same++
		}
	}
	if fixed > 10 || same > 10 {
		t.Fatalf("%d fixed points and %d agreements between keys (expect about 1)", fixed, same)
	}
	// Each of the 6 permutations of 3 items is equally likely.
	const draws = 1200
	counts := map[[3]int]int{}
	for i := 0; i < draws; i++ {
		v := Permutation(Key(uint64(1000+i)), 3).Ints()
		counts[[3]int{v[0], v[1], v[2]}]++
	}
	if len(counts) != 6 {
		t.Fatalf("saw %d distinct permutations of 3 items", len(counts))
	}
	c := make([]int, 0, 6)
	for _, k := range counts {
		c = append(c, k)
	}
	if x := chiSquare(c, []float64{1. / 6, 1. / 6, 1. / 6, 1. / 6, 1. / 6, 1. / 6}, draws); x > 30 {
		t.Fatalf("chi-square %.1f over permutations of 3: %v", x, counts)
	}
	mustPanic(t, func() { Permutation(Key(1), -1) }, "random.Permutation", "-1")
}
