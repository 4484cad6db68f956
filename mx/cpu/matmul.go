package cpu

import (
	"github.com/lmxlab/lmxlab/mx/cpu/gemm"
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
	if n.Size() == 0 || k == 0 {
		return alloc(n.DType, n.Size()) // an empty sum is zero
	}
	sa, okA := uniformStride(aOffs)
	sb, okB := uniformStride(bOffs)
	if n.DType == prim.Float64 {
		out := make([]float64, n.Size())
		x, y := a.data.([]float64), b.data.([]float64)
		if okA && okB {
			gemm.DgemmBatched(op.TransA, op.TransB, m, nn, k, 1, x, lda, sa, y, ldb, sb, 0, out, nn, m*nn, batch)
		} else {
			for i := 0; i < batch; i++ {
				gemm.Dgemm(op.TransA, op.TransB, m, nn, k, 1, x[aOffs[i]:], lda, y[bOffs[i]:], ldb, 0, out[i*m*nn:], nn)
			}
		}
		return &Buffer{out}
	}
	out := make([]float32, n.Size())
	x, y := f32(a.Buffer, a.dtype), f32(b.Buffer, b.dtype)
	if okA && okB {
		gemm.SgemmBatched(op.TransA, op.TransB, m, nn, k, 1, x, lda, sa, y, ldb, sb, 0, out, nn, m*nn, batch)
	} else {
		for i := 0; i < batch; i++ {
			gemm.Sgemm(op.TransA, op.TransB, m, nn, k, 1, x[aOffs[i]:], lda, y[bOffs[i]:], ldb, 0, out[i*m*nn:], nn)
		}
	}
	return fromF32(out, n.DType)
}

// uniformStride reports whether offsets advance by one fixed stride (0 for a broadcast operand).
func uniformStride(offs []int) (int, bool) {
	if len(offs) < 2 {
		return 0, true
	}
	s := offs[1] - offs[0]
	for i := 2; i < len(offs); i++ {
		if offs[i]-offs[i-1] != s {
			return 0, false
		}
	}
	return s, true
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
