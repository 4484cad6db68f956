package gemm

// Micro-tile shapes. The float32 kernel computes 6×16 tiles (12 AVX2
// accumulators of 8 lanes), the float64 kernel 6×8 tiles (12 accumulators of
// 4 lanes). The pure-Go kernels use the same shapes and packed layouts.
const (
	sMR, sNR = 6, 16
	dMR, dNR = 6, 8
)

// float is the element constraint of the generic driver.
type float interface{ ~float32 | ~float64 }

// kernelFunc computes one MR×NR tile of C from packed micro-panels:
// C = alpha*(a·b) + beta*C when load is set, C = alpha*(a·b) otherwise
// (C is then never read). c holds the tile's first element; ldc is the row
// stride of C in elements.
type kernelFunc[T float] func(k int, a, b, c []T, ldc int, alpha, beta T, load bool)

// forceGo makes the package use the pure-Go kernels even where an assembly
// kernel is available. Tests flip it to cover the portable path; it must
// not change while a GEMM is running.
var forceGo = false

func useAsm() bool { return hasAsm && !forceGo }

func sKernel() kernelFunc[float32] {
	if useAsm() {
		return sKernelAsm
	}
	return sKernelGo
}

func dKernel() kernelFunc[float64] {
	if useAsm() {
		return dKernelAsm
	}
	return dKernelGo
}

func sKernelGo(k int, a, b, c []float32, ldc int, alpha, beta float32, load bool) {
	kernelGo(sMR, sNR, k, a, b, c, ldc, alpha, beta, load)
}

func dKernelGo(k int, a, b, c []float64, ldc int, alpha, beta float64, load bool) {
	kernelGo(dMR, dNR, k, a, b, c, ldc, alpha, beta, load)
}

// kernelGo is the portable micro-kernel. It walks the tile in 1×4 strips,
// each accumulated over the whole k range in registers; every element is
// still summed in order p = 0..k-1, so the result does not depend on how
// the tile is traversed. nr must be a multiple of 4.
func kernelGo[T float](mr, nr, k int, a, b, c []T, ldc int, alpha, beta T, load bool) {
	a = a[:k*mr]
	b = b[:k*nr]
	for i := 0; i < mr; i++ {
		crow := c[i*ldc : i*ldc+nr]
		for j := 0; j < nr; j += 4 {
			var s0, s1, s2, s3 T
			ai := i
			for bj := j; bj < len(b); bj += nr {
				av := a[ai]
				bp := b[bj : bj+4 : bj+4]
				s0 += av * bp[0]
				s1 += av * bp[1]
				s2 += av * bp[2]
				s3 += av * bp[3]
				ai += mr
			}
			cp := crow[j : j+4 : j+4]
			if load {
				cp[0] = alpha*s0 + beta*cp[0]
				cp[1] = alpha*s1 + beta*cp[1]
				cp[2] = alpha*s2 + beta*cp[2]
				cp[3] = alpha*s3 + beta*cp[3]
			} else {
				cp[0] = alpha * s0
				cp[1] = alpha * s1
				cp[2] = alpha * s2
				cp[3] = alpha * s3
			}
		}
	}
}
