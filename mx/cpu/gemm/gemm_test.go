package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// refGemm is the float64 triple-loop reference. It returns the result and,
// per element, the magnitude |alpha|*Σ|a||b| + |beta*c| that scales the
// rounding error of a correct implementation.
func refGemm[T float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			v := float64(alpha) * s
			mg := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
				mg += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j] = v
			mag[i*n+j] = mg
		}
	}
	return want, mag
}

func randSlice[T float](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.Float64()*2 - 1)
	}
	return s
}

func eps[T float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-24
	}
	return 0x1p-53
}

// checkC compares C (m×n, stride ldc) with the reference; padding past n in
// each row must still equal orig (it must not be touched).
func checkC[T float](t *testing.T, name string, k int, c, orig []T, ldc, m, n int, want, mag []float64) {
	t.Helper()
	tol := 2 * float64(k+2) * eps[T]()
	bad := 0
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			idx := i*ldc + j
			if idx >= len(c) {
				break
			}
			got := float64(c[idx])
			if j >= n {
				if c[idx] != orig[idx] && !(math.IsNaN(float64(orig[idx])) && math.IsNaN(got)) {
					t.Errorf("%s: padding C[%d][%d] changed to %v", name, i, j, got)
					return
				}
				continue
			}
			w := want[i*n+j]
			if math.IsNaN(got) || math.Abs(got-w) > tol*mag[i*n+j]+1e-30 {
				if bad < 5 {
					t.Errorf("%s: C[%d][%d] = %v, want %v (mag %v)", name, i, j, got, w, mag[i*n+j])
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d bad elements", name, bad)
	}
}

type gemmFunc[T float] func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// testOne runs one product with strides padded by extra elements.
func testOne[T float](t *testing.T, f gemmFunc[T], r *rand.Rand, tA, tB bool, m, n, k int, alpha, beta T, extra int, nanC bool) {
	t.Helper()
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+extra, bc+extra, n+extra
	a := randSlice[T](r, max(0, (ar-1)*lda+ac))
	b := randSlice[T](r, max(0, (br-1)*ldb+bc))
	c := randSlice[T](r, max(0, (m-1)*ldc+n))
	pad := T(7)
	for i := range c {
		if i%ldc >= n {
			c[i] = pad
		} else if nanC {
			c[i] = T(math.NaN())
		}
	}
	orig := append([]T(nil), c...)
	want, mag := refGemm(tA, tB, m, n, k, alpha, a, max(lda, 1), b, max(ldb, 1), beta, c, ldc)
	f(tA, tB, m, n, k, alpha, a, max(lda, 1), b, max(ldb, 1), beta, c, ldc)
	name := fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%v beta=%v extra=%d", tA, tB, m, n, k, alpha, beta, extra)
	checkC(t, name, k, c, orig, ldc, m, n, want, mag)
}

var oddSizes = []int{1, 2, 3, 5, 7, 16, 17, 31, 33, 63, 65, 127, 255, 257}

// withPaths runs f on the assembly path (when present) and the pure-Go path.
func withPaths(t *testing.T, f func(t *testing.T)) {
	if hasAsm {
		t.Run("asm", f)
	}
	t.Run("go", func(t *testing.T) {
		old := forceGo
		forceGo = true
		defer func() { forceGo = old }()
		f(t)
	})
}

func testSizes[T float](t *testing.T, f gemmFunc[T]) {
	r := rand.New(rand.NewPCG(1, 2))
	// All square odd sizes with every transposition.
	for _, s := range oddSizes {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				testOne(t, f, r, tA, tB, s, s, s, 1, 0, 0, false)
			}
		}
	}
	// Mixed shapes.
	for _, m := range []int{1, 5, 17, 65, 257} {
		for _, n := range []int{1, 7, 33, 257} {
			for _, k := range []int{1, 3, 16, 63, 300} {
				tA, tB := r.IntN(2) == 1, r.IntN(2) == 1
				testOne(t, f, r, tA, tB, m, n, k, 1, 0, r.IntN(3), false)
			}
		}
	}
	testOne(t, f, r, false, false, 1, 257, 3, 1, 0, 0, false)
	testOne(t, f, r, true, true, 257, 1, 3, 1, 0, 0, false)
	testOne(t, f, r, false, true, 3, 1, 257, 1, 0, 0, false)
	// Deep k spanning several k blocks, with uneven last block.
	testOne(t, f, r, false, false, 13, 37, 1000, 1, 0, 5, false)
	testOne(t, f, r, true, true, 37, 13, 777, 0.5, 2, 5, false)
}

func testAlphaBeta[T float](t *testing.T, f gemmFunc[T]) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, ab := range [][2]T{{1, 0}, {1, 1}, {2, 0}, {-0.5, 1}, {1.5, -2}, {0.25, 0.75}, {0, 3}, {0, 0}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, sz := range [][3]int{{7, 17, 33}, {65, 33, 300}, {6, 16, 5}} {
					testOne(t, f, r, tA, tB, sz[0], sz[1], sz[2], ab[0], ab[1], 3, false)
				}
			}
		}
	}
}

func testBetaZeroNaN[T float](t *testing.T, f gemmFunc[T]) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{1, 1, 1}, {6, 16, 8}, {7, 17, 300}, {65, 129, 70}, {200, 200, 200}} {
		for _, tA := range []bool{false, true} {
			testOne(t, f, r, tA, !tA, sz[0], sz[1], sz[2], 1.5, 0, 2, true)
		}
		// k == 0 and alpha == 0 with beta == 0 must also clear NaNs.
		testOne(t, f, r, false, false, sz[0], sz[1], 0, 1, 0, 2, true)
		testOne(t, f, r, false, false, sz[0], sz[1], sz[2], 0, 0, 2, true)
	}
}

func testKZero[T float](t *testing.T, f gemmFunc[T]) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, beta := range []T{0, 1, 2.5} {
		testOne(t, f, r, false, false, 5, 9, 0, 1, beta, 1, false)
		testOne(t, f, r, true, true, 33, 17, 0, 2, beta, 0, false)
	}
	// Empty outputs must not touch anything (nil slices are fine).
	f(false, false, 0, 5, 3, 1, nil, 3, make([]T, 15), 5, 0, nil, 5)
	f(false, false, 5, 0, 3, 1, make([]T, 15), 3, nil, 1, 0, nil, 1)
}

func TestSgemm(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		t.Run("sizes", func(t *testing.T) { testSizes[float32](t, Sgemm) })
		t.Run("alphabeta", func(t *testing.T) { testAlphaBeta[float32](t, Sgemm) })
		t.Run("beta0nan", func(t *testing.T) { testBetaZeroNaN[float32](t, Sgemm) })
		t.Run("k0", func(t *testing.T) { testKZero[float32](t, Sgemm) })
	})
}

func TestDgemm(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		t.Run("sizes", func(t *testing.T) { testSizes[float64](t, Dgemm) })
		t.Run("alphabeta", func(t *testing.T) { testAlphaBeta[float64](t, Dgemm) })
		t.Run("beta0nan", func(t *testing.T) { testBetaZeroNaN[float64](t, Dgemm) })
		t.Run("k0", func(t *testing.T) { testKZero[float64](t, Dgemm) })
	})
}

type batchedFunc[T float] func(transA, transB bool, m, n, k int, alpha T, a []T, lda, strideA int, b []T, ldb, strideB int, beta T, c []T, ldc, strideC int, batch int)

func testBatched[T float](t *testing.T, f batchedFunc[T]) {
	r := rand.New(rand.NewPCG(9, 10))
	type tc struct {
		m, n, k, batch int
		bcastA, bcastB bool
	}
	cases := []tc{
		{7, 9, 5, 3, false, false}, {17, 33, 65, 4, true, false}, {33, 17, 31, 5, false, true},
		{65, 65, 65, 3, false, false}, {1, 257, 3, 2, true, false}, {128, 64, 64, 7, false, true},
		{6, 16, 300, 9, true, false}, {200, 100, 50, 1, false, false}, {5, 5, 0, 3, false, false},
	}
	for _, c := range cases {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, beta := range []T{0, 0.5} {
					ar, ac := c.m, c.k
					if tA {
						ar, ac = c.k, c.m
					}
					br, bc := c.k, c.n
					if tB {
						br, bc = c.n, c.k
					}
					lda, ldb, ldc := ac+2, bc+1, c.n+3
					sa := max(0, (ar-1)*lda+ac) + 5
					sb := max(0, (br-1)*ldb+bc) + 3
					sc := (c.m-1)*ldc + c.n + 4
					if c.bcastA {
						sa = 0
					}
					if c.bcastB {
						sb = 0
					}
					a := randSlice[T](r, sa*(c.batch-1)+max(0, (ar-1)*lda+ac))
					b := randSlice[T](r, sb*(c.batch-1)+max(0, (br-1)*ldb+bc))
					cc := randSlice[T](r, sc*c.batch)
					if beta == 0 {
						for i := range cc {
							cc[i] = T(math.NaN())
						}
					}
					orig := append([]T(nil), cc...)
					alpha := T(1.25)
					f(tA, tB, c.m, c.n, c.k, alpha, a, lda, sa, b, ldb, sb, beta, cc, ldc, sc, c.batch)
					for i := 0; i < c.batch; i++ {
						want, mag := refGemm(tA, tB, c.m, c.n, c.k, alpha, a[i*sa:], lda, b[i*sb:], ldb, beta, orig[i*sc:], ldc)
						name := fmt.Sprintf("batched %+v tA=%v tB=%v beta=%v entry %d", c, tA, tB, beta, i)
						checkC(t, name, c.k, cc[i*sc:i*sc+(c.m-1)*ldc+c.n], orig[i*sc:], ldc, c.m, c.n, want, mag)
						// The gap between entries must be untouched.
						for j := i*sc + (c.m-1)*ldc + c.n; j < (i+1)*sc; j++ {
							if cc[j] != orig[j] && !(math.IsNaN(float64(cc[j])) && math.IsNaN(float64(orig[j]))) {
								t.Fatalf("%s: gap element %d changed", name, j)
							}
						}
					}
				}
			}
		}
	}
}

func TestSgemmBatched(t *testing.T) {
	withPaths(t, func(t *testing.T) { testBatched[float32](t, SgemmBatched) })
}

func TestDgemmBatched(t *testing.T) {
	withPaths(t, func(t *testing.T) { testBatched[float64](t, DgemmBatched) })
}

// TestDeterminism checks that repeated runs, and runs with different
// GOMAXPROCS, give bitwise identical results.
func TestDeterminism(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, sz := range [][3]int{{257, 255, 513}, {1000, 40, 300}, {40, 1000, 300}, {64, 64, 64}} {
			m, n, k := sz[0], sz[1], sz[2]
			a := randSlice[float32](r, m*k)
			b := randSlice[float32](r, k*n)
			c0 := randSlice[float32](r, m*n)
			runOnce := func(procs int) []float32 {
				old := runtime.GOMAXPROCS(procs)
				defer runtime.GOMAXPROCS(old)
				c := append([]float32(nil), c0...)
				Sgemm(false, true, m, n, k, 0.75, a, k, b, k, 0.5, c, n)
				return c
			}
			ref := runOnce(runtime.NumCPU())
			for _, procs := range []int{runtime.NumCPU(), 1, 2, 3, 4, 7} {
				got := runOnce(procs)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("%v GOMAXPROCS=%d: element %d = %v, want %v", sz, procs, i, got[i], ref[i])
					}
				}
			}
		}
	})
}

func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	a := make([]float32, 32*32)
	b := make([]float32, 32*32)
	c := make([]float32, 32*32)
	Sgemm(false, false, 32, 32, 32, 1, a, 32, b, 32, 0, c, 32)
	n := testing.AllocsPerRun(100, func() {
		Sgemm(false, false, 32, 32, 32, 1, a, 32, b, 32, 0, c, 32)
	})
	if n != 0 {
		t.Errorf("small Sgemm allocates %v times per call", n)
	}
}

func TestValidation(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	s := make([]float32, 100)
	mustPanic("short A", func() { Sgemm(false, false, 10, 10, 10, 1, s[:99], 10, s, 10, 0, s, 10) })
	mustPanic("short C", func() { Sgemm(false, false, 10, 10, 10, 1, s, 10, s, 10, 0, s[:95], 10) })
	mustPanic("small lda", func() { Sgemm(false, false, 10, 10, 10, 1, s, 9, s, 10, 0, s, 10) })
	mustPanic("negative m", func() { Sgemm(false, false, -1, 10, 10, 1, s, 10, s, 10, 0, s, 10) })
	mustPanic("overlapping C", func() {
		SgemmBatched(false, false, 2, 2, 2, 1, s, 2, 0, s, 2, 0, 0, s, 2, 3, 2)
	})
}

// TestConcurrentCallers runs many products at once from several goroutines
// (exercising the helper pool, including jobs taken back by their callers)
// and checks each against a single-threaded run.
func TestConcurrentCallers(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const m, n, k = 150, 70, 90
	a := randSlice[float32](r, m*k)
	b := randSlice[float32](r, k*n)
	old := runtime.GOMAXPROCS(1)
	want := make([]float32, m*n)
	Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	runtime.GOMAXPROCS(max(old, 2))
	defer runtime.GOMAXPROCS(old)
	const callers, rounds = 6, 30
	errs := make(chan error, callers)
	for g := 0; g < callers; g++ {
		go func() {
			c := make([]float32, m*n)
			for i := 0; i < rounds; i++ {
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				for j := range c {
					if math.Float32bits(c[j]) != math.Float32bits(want[j]) {
						errs <- fmt.Errorf("round %d: element %d = %v, want %v", i, j, c[j], want[j])
						return
					}
				}
				if i%7 == 3 {
					time.Sleep(time.Duration(i) * 100 * time.Microsecond) // let helpers park
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < callers; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
