package gemm

import "fmt"

// Cache blocking, tuned for a Zen 3 core (32 KiB L1d, 512 KiB L2, large
// shared L3): a kc×NR B micro-panel (16 KiB for float32) stays in L1, the
// mc×kc packed A block (144 KiB) in L2, and the kc×nc packed B block in L3.
const (
	sKC, sMC, sNC = 256, 144, 4096
	dKC, dMC, dNC = 256, 60, 2048
)

func sConfig() *config[float32] {
	if useAsm() {
		return &s32Asm
	}
	return &s32Go
}

func dConfig() *config[float64] {
	if useAsm() {
		return &d64Asm
	}
	return &d64Go
}

var (
	s32Asm = config[float32]{mr: sMR, nr: sNR, kc: sKC, mc: sMC, nc: sNC, kern: sKernelAsm, packCols: sPackColsAsm, packRows: sPackRowsAsm}
	s32Go  = config[float32]{mr: sMR, nr: sNR, kc: sKC, mc: sMC, nc: sNC, kern: sKernelGo}
	d64Asm = config[float64]{mr: dMR, nr: dNR, kc: dKC, mc: dMC, nc: dNC, kern: dKernelAsm, packCols: dPackColsAsm, packRows: dPackRowsAsm}
	d64Go  = config[float64]{mr: dMR, nr: dNR, kc: dKC, mc: dMC, nc: dNC, kern: dKernelGo}
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices.
// op(A) is m×k, op(B) is k×n, C is m×n. lda/ldb/ldc are row strides (elements).
// transA means A is stored k×m (row-major) and op(A)=Aᵀ; likewise transB (B stored n×k).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := problem[float32]{transA, transB, m, n, k, alpha, beta, a, lda, 0, b, ldb, 0, c, ldc, 0, 1}
	gemm(sConfig(), &p)
}

// Dgemm is Sgemm for float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	p := problem[float64]{transA, transB, m, n, k, alpha, beta, a, lda, 0, b, ldb, 0, c, ldc, 0, 1}
	gemm(dConfig(), &p)
}

// SgemmBatched runs batch independent GEMMs where the operands are at offsets strideA*i, strideB*i, strideC*i
// (a stride of 0 means the operand is broadcast across the batch). Parallelism spans the batch and the blocks.
// The C matrices of different batch entries must not overlap.
func SgemmBatched(transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	p := problem[float32]{transA, transB, m, n, k, alpha, beta, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch}
	gemm(sConfig(), &p)
}

// DgemmBatched is SgemmBatched for float64.
func DgemmBatched(transA, transB bool, m, n, k int, alpha float64, a []float64, lda, strideA int, b []float64, ldb, strideB int, beta float64, c []float64, ldc, strideC int, batch int) {
	p := problem[float64]{transA, transB, m, n, k, alpha, beta, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch}
	gemm(dConfig(), &p)
}

func gemm[T float](cfg *config[T], p *problem[T]) {
	p.validate()
	if p.m == 0 || p.n == 0 || p.batch == 0 {
		return
	}
	if p.k == 0 || p.alpha == 0 {
		for i := 0; i < p.batch; i++ {
			scale(p.m, p.n, p.beta, p.c[i*p.strideC:], p.ldc)
		}
		return
	}
	run(cfg, p)
}

// scale sets C = beta*C; beta == 0 writes zeros without reading C.
func scale[T float](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// validate panics unless the shapes, strides and slice lengths describe
// matrices that lie inside the given slices.
func (p *problem[T]) validate() {
	if p.m < 0 || p.n < 0 || p.k < 0 || p.batch < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d batch=%d", p.m, p.n, p.k, p.batch))
	}
	ar, ac := p.m, p.k
	if p.transA {
		ar, ac = ac, ar
	}
	br, bc := p.k, p.n
	if p.transB {
		br, bc = bc, br
	}
	checkOperand("A", p.a, ar, ac, p.lda, p.strideA, p.batch)
	checkOperand("B", p.b, br, bc, p.ldb, p.strideB, p.batch)
	checkOperand("C", p.c, p.m, p.n, p.ldc, p.strideC, p.batch)
	if p.batch > 1 && p.m > 0 && p.n > 0 && p.strideC < (p.m-1)*p.ldc+p.n {
		panic(fmt.Sprintf("gemm: strideC=%d makes the %d×%d C matrices of the batch overlap (ldc=%d)", p.strideC, p.m, p.n, p.ldc))
	}
}

func checkOperand[T float](name string, s []T, rows, cols, ld, stride, batch int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("gemm: ld%s=%d < %d columns", name, ld, cols))
	}
	if stride < 0 {
		panic(fmt.Sprintf("gemm: negative stride%s=%d", name, stride))
	}
	if rows == 0 || cols == 0 || batch == 0 {
		return
	}
	need := (batch-1)*stride + (rows-1)*ld + cols
	if len(s) < need {
		panic(fmt.Sprintf("gemm: len(%s)=%d < %d needed for %d×%d (ld=%d, stride=%d, batch=%d)",
			name, len(s), need, rows, cols, ld, stride, batch))
	}
}
