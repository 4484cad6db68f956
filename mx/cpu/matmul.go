package cpu

import (
	"github.com/lmxlab/lmxlab/mx/prim"
)

func init() { defKernel(matmulKernel) }

// matmulKernel multiplies (..., M, K) by (..., K, N) with broadcast batch dimensions. Each batch
// pair is one GEMM; batches whose operand offsets follow one stride go to the batched GEMM.
func matmulKernel(op prim.Matmul, n *prim.Node, in []operand) *Buffer {
	a, b := in[0], in[1]
	nd := len(n.Shape)
	m, nn := n.Shape[nd-2], n.Shape[nd-1]
	var k int
	if op.TransA {
		k = a.shape[len(a.shape)-2]
	} else {
		k = a.shape[len(a.shape)-1]
	}
	batchShape := n.Shape[:nd-2]
	batch := prim.ShapeSize(batchShape)
	aBatch := prim.BroadcastStrides(a.shape[:len(a.shape)-2], batchShape)
	bBatch := prim.BroadcastStrides(b.shape[:len(b.shape)-2], batchShape)
	aOffs, bOffs := batchOffsets(batchShape, aBatch, m*k), batchOffsets(batchShape, bBatch, k*nn)
	lda, ldb := k, nn
	if op.TransA {
		lda = m
	}
	if op.TransB {
		ldb = k
	}
	if n.DType == prim.Float64 {
		out := make([]float64, n.Size())
		x, y := a.data.([]float64), b.data.([]float64)
		for i := 0; i < batch; i++ {
			dgemm(op.TransA, op.TransB, m, nn, k, x[aOffs[i]:], lda, y[bOffs[i]:], ldb, out[i*m*nn:], nn)
		}
		return &Buffer{out}
	}
	out := make([]float32, n.Size())
	x, y := f32(a.Buffer, a.dtype), f32(b.Buffer, b.dtype)
	for i := 0; i < batch; i++ {
		sgemm(op.TransA, op.TransB, m, nn, k, x[aOffs[i]:], lda, y[bOffs[i]:], ldb, out[i*m*nn:], nn)
	}
	return fromF32(out, n.DType)
}

// batchOffsets gives each batch element's starting offset in an operand whose batch dimensions
// have the given (broadcast, in units of matrices) strides.
func batchOffsets(batchShape, strides []int, matSize int) []int {
	n := prim.ShapeSize(batchShape)
	offs := make([]int, n)
	for i := range offs {
		r, off := i, 0
		for d := len(batchShape) - 1; d >= 0; d-- {
			off += (r % batchShape[d]) * strides[d]
			r /= batchShape[d]
		}
		offs[i] = off * matSize
	}
	return offs
}

// sgemm is C = op(A)·op(B) for row-major float32 matrices (C is overwritten).
func sgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	parallelFor(m, n*k, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] = 0
			}
			for p := 0; p < k; p++ {
				var av float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					for j := range row {
						row[j] += av * b[j*ldb+p]
					}
				} else {
					br := b[p*ldb : p*ldb+n]
					for j := range row {
						row[j] += av * br[j]
					}
				}
			}
		}
	})
}

// dgemm is sgemm for float64.
func dgemm(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	parallelFor(m, n*k, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] = 0
			}
			for p := 0; p < k; p++ {
				var av float64
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					for j := range row {
						row[j] += av * b[j*ldb+p]
					}
				} else {
					br := b[p*ldb : p*ldb+n]
					for j := range row {
						row[j] += av * br[j]
					}
				}
			}
		}
	})
}
