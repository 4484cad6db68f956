//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// sgemmKernel6x16 computes a 6×16 float32 tile from a packed A micro-panel
// (6 values per k step) and a packed B micro-panel (16 values per k step):
//
//	C[i][j] = alpha*acc[i][j]              (load == 0; C is not read)
//	C[i][j] = alpha*acc[i][j] + beta*C[i][j] (load != 0)
//
// where acc[i][j] = Σ_p a[p*6+i]*b[p*16+j], summed in order p = 0..k-1 with
// one fused multiply-add per step. ldc is C's row stride in elements.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)

// dgemmKernel6x8 is the float64 analogue of sgemmKernel6x16 with 8 columns.
//
//go:noescape
func dgemmKernel6x8(k int, a, b, c *float64, ldc int, alpha, beta float64, load int)

// hasAsm reports whether the CPU (and OS) support the AVX2/FMA kernels.
var hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

func sKernelAsm(k int, a, b, c []float32, ldc int, alpha, beta float32, load bool) {
	l := 0
	if load {
		l = 1
	}
	sgemmKernel6x16(k, &a[0], &b[0], &c[0], ldc, alpha, beta, l)
}

func dKernelAsm(k int, a, b, c []float64, ldc int, alpha, beta float64, load bool) {
	l := 0
	if load {
		l = 1
	}
	dgemmKernel6x8(k, &a[0], &b[0], &c[0], ldc, alpha, beta, l)
}
