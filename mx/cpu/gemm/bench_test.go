package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The sizes the package is measured on against NumPy/OpenBLAS, as M×N×K.
// Side by side on one machine:
//
//	go test ./mx/cpu/gemm -run '^$' -bench '^BenchmarkSgemm$' -count 3
//	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 \
//		/work/shared/bench/peer_numpy_gemm.py 256x256x256 512x512x512 1024x1024x1024 \
//		4096x256x256 4096x1024x256 4096x256x1024
//
// (NumPy must be linked against OpenBLAS, e.g. Debian's libopenblas0-pthread;
// with the reference libblas3 it runs at about 3 GFLOP/s.)
var benchSizes = [][3]int{
	{256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024},
	{4096, 256, 256}, {4096, 1024, 256}, {4096, 256, 1024},
}

func benchGemm(b *testing.B, m, n, k int, tA, tB bool) {
	r := rand.New(rand.NewPCG(1, 1))
	a := randSlice[float32](r, m*k)
	bb := randSlice[float32](r, k*n)
	c := make([]float32, m*n)
	lda, ldb := k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	b.ResetTimer()
	for b.Loop() {
		Sgemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]), func(b *testing.B) {
			benchGemm(b, s[0], s[1], s[2], false, false)
		})
	}
}

// BenchmarkSgemmTrans covers the transposed packing paths.
func BenchmarkSgemmTrans(b *testing.B) {
	for _, tt := range [][2]bool{{true, false}, {false, true}, {true, true}} {
		b.Run(fmt.Sprintf("tA=%v,tB=%v/512", tt[0], tt[1]), func(b *testing.B) {
			benchGemm(b, 512, 512, 512, tt[0], tt[1])
		})
	}
}

func BenchmarkSgemmSmall(b *testing.B) {
	for _, s := range [][3]int{{16, 16, 16}, {32, 32, 32}, {64, 64, 64}, {128, 128, 128}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]), func(b *testing.B) {
			benchGemm(b, s[0], s[1], s[2], false, false)
		})
	}
}

func BenchmarkSgemmBatched(b *testing.B) {
	const m, n, k, batch = 64, 64, 64, 48
	r := rand.New(rand.NewPCG(1, 1))
	a := randSlice[float32](r, m*k*batch)
	bb := randSlice[float32](r, k*n*batch)
	c := make([]float32, m*n*batch)
	for b.Loop() {
		SgemmBatched(false, true, m, n, k, 1, a, k, m*k, bb, k, k*n, 0, c, n, m*n, batch)
	}
	b.ReportMetric(2*float64(m*n*k*batch)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkDgemm(b *testing.B) {
	for _, s := range [][3]int{{256, 256, 256}, {512, 512, 512}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a := randSlice[float64](r, m*k)
			bb := randSlice[float64](r, k*n)
			c := make([]float64, m*n)
			for b.Loop() {
				Dgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
