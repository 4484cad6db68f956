package cpu

import (
	"github.com/lmxlab/lmxlab/mx/cpu/gemm"
	"github.com/lmxlab/lmxlab/mx/prim"
)

// QuantizedMatmul multiplies by a weight stored with affine quantization (see mx.Quantize)
// without ever dequantizing the whole matrix. With few rows of x (decoding), each goroutine owns
// a range of outputs and decodes the integers of one group at a time (through a byte lookup
// table), applying the group's scale and bias to per-group dot products or axpys. With many rows,
// blocks of the weight (a few MiB) are taken one after the other, dequantized in parallel into a
// scratch buffer and multiplied by the blocked GEMM, which parallelizes itself. Arithmetic is in
// float32 (float64 when x is float64), and every output element is accumulated by one goroutine
// in a fixed order.

func init() { defKernel(quantizedMatmulKernel) }

// qmmSmallM is the largest number of rows of x that takes the dot-product path.
const qmmSmallM = 4

// qmmBlock is the target number of weight elements dequantized at once for the GEMM path
// (4 MiB of float32): large enough that the GEMM reuses its packed copy of x over many columns.
const qmmBlock = 1 << 20

// qmatrix is a quantized R×C weight, packed along C.
type qmatrix[T float] struct {
	words          []uint32 // R × C·bits/32
	scales, biases []T      // R × C/gs
	rows, cols     int
	gs, bits       int
}

func quantizedMatmulKernel(op prim.QuantizedMatmul, n *prim.Node, in []operand) *Buffer {
	x, wq, sc, bi := in[0], in[1], in[2], in[3]
	rows, cols := wq.shape[0], wq.shape[1]*32/op.Bits
	words := wq.data.([]uint32)
	if n.DType == prim.Float64 {
		w := &qmatrix[float64]{words, f64(sc.Buffer, sc.dtype), f64(bi.Buffer, bi.dtype), rows, cols, op.GroupSize, op.Bits}
		out := make([]float64, n.Size())
		qmm(w, f64(x.Buffer, x.dtype), out, op.Transpose)
		return &Buffer{out}
	}
	w := &qmatrix[float32]{words, f32(sc.Buffer, sc.dtype), f32(bi.Buffer, bi.dtype), rows, cols, op.GroupSize, op.Bits}
	out := make([]float32, n.Size())
	qmm(w, f32(x.Buffer, x.dtype), out, op.Transpose)
	return fromF32(out, n.DType)
}

// qmm computes out = x·Wᵀ (transpose; x is M×C, out M×R) or out = x·W (x is M×R, out M×C).
// out must be zeroed.
func qmm[T float](w *qmatrix[T], x, out []T, transpose bool) {
	k, n := w.cols, w.rows
	if !transpose {
		k, n = w.rows, w.cols
	}
	if len(out) == 0 || k == 0 {
		return
	}
	m := len(out) / n
	switch {
	case transpose && m <= qmmSmallM:
		w.dotRows(x, out, m)
	case transpose:
		// Blocks of whole rows of W: out[:, r0:r1] = x · W[r0:r1]ᵀ.
		bn := min(n, max(64, qmmBlock/k))
		buf := make([]T, bn*k)
		for r0 := 0; r0 < n; r0 += bn {
			r1 := min(r0+bn, n)
			parallelFor(r1-r0, k, func(lo, hi int) { w.dequant(buf[lo*k:], r0+lo, r0+hi, 0, k) })
			gemmT(true, m, r1-r0, k, x, k, buf, k, out[r0:], n)
		}
	case m <= qmmSmallM:
		w.axpyCols(x, out, m)
	default:
		// Blocks of whole groups of columns of W: out[:, c0:c1] = x · W[:, c0:c1].
		ld := min(n, max(4, qmmBlock/(w.gs*k))*w.gs)
		buf := make([]T, k*ld)
		for c0 := 0; c0 < n; c0 += ld {
			c1 := min(c0+ld, n)
			bw := c1 - c0
			parallelFor(k, bw, func(lo, hi int) { w.dequant(buf[lo*bw:], lo, hi, c0, c1) })
			gemmT(false, m, bw, k, x, k, buf, bw, out[c0:], n)
		}
	}
}

// dequant writes rows [r0, r1) and columns [c0, c1) of W (c0 and c1 multiples of the group
// size) into dst, row-major with row stride c1-c0.
func (w *qmatrix[T]) dequant(dst []T, r0, r1, c0, c1 int) {
	per := 32 / w.bits
	wpr, gpr, wpg := w.cols/per, w.cols/w.gs, w.gs/per
	ld := c1 - c0
	for r := r0; r < r1; r++ {
		d := dst[(r-r0)*ld : (r-r0+1)*ld]
		words := w.words[r*wpr+c0/per : r*wpr+c1/per]
		sc := w.scales[r*gpr+c0/w.gs : r*gpr+c1/w.gs]
		bi := w.biases[r*gpr+c0/w.gs : r*gpr+c1/w.gs]
		for g := range sc {
			dequantGroup(d[g*w.gs:(g+1)*w.gs], words[g*wpg:(g+1)*wpg], sc[g], bi[g], w.bits)
		}
	}
}

// dequantGroup unpacks the words of one group: d[j] = s·q_j + b.
func dequantGroup[T float](d []T, words []uint32, s, b T, bits int) {
	switch bits {
	case 2:
		for i, v := range words {
			o := d[i*16 : i*16+16]
			for j := range o {
				o[j] = s*T(v&3) + b
				v >>= 2
			}
		}
	case 4:
		for i, v := range words {
			o := d[i*8 : i*8+8]
			for j := range o {
				o[j] = s*T(v&15) + b
				v >>= 4
			}
		}
	default:
		for i, v := range words {
			o := d[i*4 : i*4+4]
			o[0] = s*T(v&255) + b
			o[1] = s*T(v>>8&255) + b
			o[2] = s*T(v>>16&255) + b
			o[3] = s*T(v>>24) + b
		}
	}
}

// decodeLUT maps each byte of a packed word to the 8/bits integers it holds, as floats.
func decodeLUT[T float](bits int) []T {
	per := 8 / bits
	lut := make([]T, 256*per)
	for v := range 256 {
		for j := range per {
			lut[v*per+j] = T(v >> (j * bits) & (1<<bits - 1))
		}
	}
	return lut
}

// decodeGroup unpacks the integers of one group of words into q, a byte at a time through lut.
func decodeGroup[T float](q []T, words []uint32, bits int, lut []T) {
	switch bits {
	case 2:
		l := (*[1024]T)(lut)
		for i, v := range words {
			o := (*[16]T)(q[i*16:])
			for j := 0; j < 4; j++ {
				b := uint(byte(v>>(8*j))) * 4
				o[4*j], o[4*j+1], o[4*j+2], o[4*j+3] = l[b], l[b+1], l[b+2], l[b+3]
			}
		}
	case 4:
		l := (*[512]T)(lut)
		for i, v := range words {
			o := (*[8]T)(q[i*8:])
			b0, b1, b2, b3 := uint(byte(v))*2, uint(byte(v>>8))*2, uint(byte(v>>16))*2, uint(byte(v>>24))*2
			o[0], o[1], o[2], o[3] = l[b0], l[b0+1], l[b1], l[b1+1]
			o[4], o[5], o[6], o[7] = l[b2], l[b2+1], l[b3], l[b3+1]
		}
	default:
		l := (*[256]T)(lut)
		for i, v := range words {
			o := (*[4]T)(q[i*4:])
			o[0], o[1], o[2], o[3] = l[byte(v)], l[byte(v>>8)], l[byte(v>>16)], l[byte(v>>24)]
		}
	}
}

// groupSums is Σ x[i, g·gs : (g+1)·gs] for every row i of x (m × k) and group g.
func groupSums[T float](x []T, m, k, gs int) []T {
	out := make([]T, m*(k/gs))
	for i := range out {
		out[i] = sum(x[i*gs : (i+1)*gs])
	}
	return out
}

// dotRows is x·Wᵀ for few rows of x. Goroutines own ranges of rows of W and decode one group of
// integers at a time: out[i, r] = Σ_g s·(x_g·q_g) + b·Σx_g.
func (w *qmatrix[T]) dotRows(x, out []T, m int) {
	k, n, gs := w.cols, w.rows, w.gs
	per := 32 / w.bits
	wpr, gpr, wpg := k/per, k/gs, gs/per
	xs := groupSums(x, m, k, gs)
	lut := decodeLUT[T](w.bits)
	parallelFor(n, m*k, func(lo, hi int) {
		q := make([]T, gs)
		acc := make([]T, m)
		for r := lo; r < hi; r++ {
			clear(acc)
			for g := 0; g < gpr; g++ {
				decodeGroup(q, w.words[r*wpr+g*wpg:r*wpr+(g+1)*wpg], w.bits, lut)
				s, b := w.scales[r*gpr+g], w.biases[r*gpr+g]
				for i := range acc {
					acc[i] += s*dot(x[i*k+g*gs:i*k+(g+1)*gs], q) + b*xs[i*gpr+g]
				}
			}
			for i, a := range acc {
				out[i*n+r] = a
			}
		}
	})
}

// axpyCols is x·W for few rows of x. Goroutines own ranges of groups of columns of W and, for
// each, run down the rows decoding one group of integers at a time:
// out[i, cols of g] = Σ_r (x[i, r]·s_rg)·q_rg + Σ_r x[i, r]·b_rg.
func (w *qmatrix[T]) axpyCols(x, out []T, m int) {
	k, n, gs := w.rows, w.cols, w.gs
	per := 32 / w.bits
	wpr, gpr, wpg := n/per, n/gs, gs/per
	lut := decodeLUT[T](w.bits)
	parallelFor(gpr, m*k*gs, func(lo, hi int) {
		q := make([]T, gs)
		bsum := make([]T, m)
		for g := lo; g < hi; g++ {
			clear(bsum)
			for r := 0; r < k; r++ {
				decodeGroup(q, w.words[r*wpr+g*wpg:r*wpr+(g+1)*wpg], w.bits, lut)
				s, b := w.scales[r*gpr+g], w.biases[r*gpr+g]
				for i := range bsum {
					xv := x[i*k+r]
					axpy(out[i*n+g*gs:i*n+(g+1)*gs], xv*s, q)
					bsum[i] += xv * b
				}
			}
			for i, bs := range bsum {
				o := out[i*n+g*gs : i*n+(g+1)*gs]
				for j := range o {
					o[j] += bs
				}
			}
		}
	})
}

// sum is Σ a[i] with four partial sums (scalars, so they stay in registers).
func sum[T float](a []T) T {
	var s0, s1, s2, s3 T
	for len(a) >= 4 {
		a4 := (*[4]T)(a)
		s0 += a4[0]
		s1 += a4[1]
		s2 += a4[2]
		s3 += a4[3]
		a = a[4:]
	}
	for _, v := range a {
		s0 += v
	}
	return (s0 + s1) + (s2 + s3)
}

// dot is Σ a[i]·b[i] with eight partial sums (scalars, so they stay in registers).
func dot[T float](a, b []T) T {
	var s0, s1, s2, s3, s4, s5, s6, s7 T
	for len(a) >= 8 && len(b) >= 8 {
		a8, b8 := (*[8]T)(a), (*[8]T)(b)
		s0 += a8[0] * b8[0]
		s1 += a8[1] * b8[1]
		s2 += a8[2] * b8[2]
		s3 += a8[3] * b8[3]
		s4 += a8[4] * b8[4]
		s5 += a8[5] * b8[5]
		s6 += a8[6] * b8[6]
		s7 += a8[7] * b8[7]
		a, b = a[8:], b[8:]
	}
	b = b[:len(a)]
	for i, v := range a {
		s0 += v * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// axpy is y += a·x.
func axpy[T float](y []T, a T, x []T) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// gemmT is c = a·b (or a·bᵀ with transB) with row strides, in float32 or float64.
func gemmT[T float](transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		gemm.Sgemm(false, transB, m, n, k, 1, a, lda, any(b).([]float32), ldb, 0, any(c).([]float32), ldc)
	case []float64:
		gemm.Dgemm(false, transB, m, n, k, 1, a, lda, any(b).([]float64), ldb, 0, any(c).([]float64), ldc)
	}
}
