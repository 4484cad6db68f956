//go:build !amd64 || purego

package gemm

// hasAsm is false where no assembly micro-kernel exists; the pure-Go
// kernels are used.
const hasAsm = false

func sKernelAsm(k int, a, b, c []float32, ldc int, alpha, beta float32, load bool) {
	kernelGo(sMR, sNR, k, a, b, c, ldc, alpha, beta, load)
}

func dKernelAsm(k int, a, b, c []float64, ldc int, alpha, beta float64, load bool) {
	kernelGo(dMR, dNR, k, a, b, c, ldc, alpha, beta, load)
}

// No accelerated packing without assembly.
var (
	sPackColsAsm, sPackRowsAsm packFunc[float32]
	dPackColsAsm, dPackRowsAsm packFunc[float64]
)
