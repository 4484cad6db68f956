package cpu

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Softmax, log-softmax and the fused cross-entropy kernels, plus the row helpers the fused
// kernels share: they compute in float32 (float64 for float64 values) and read or write half
// types one row at a time, so a bfloat16 (N, V) input is never widened as a whole.

func init() {
	defKernel(func(op prim.Softmax, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return softmaxKernel[float64](op.Log, n, in[0])
		}
		return softmaxKernel[float32](op.Log, n, in[0])
	})
	defKernel(func(_ prim.CrossEntropy, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return crossEntropyKernel[float64](n, in[0], in[1])
		}
		return crossEntropyKernel[float32](n, in[0], in[1])
	})
	defKernel(func(_ prim.CrossEntropyGrad, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return crossEntropyGradKernel[float64](n, in[0], in[1], in[2])
		}
		return crossEntropyGradKernel[float32](n, in[0], in[1], in[2])
	})
}

// exp32 is e^x in float32 to about one ulp: x = k·ln2 + r with |r| <= ln2/2, e^r by its Taylor
// series to degree 7 (truncation error below 1e-8) evaluated in Estrin's scheme for parallelism,
// and 2^k put into the exponent bits. Results below the smallest normal float32 flush to zero.
func exp32(x float32) float32 {
	const (
		log2e = 1.4426950408889634
		ln2hi = 0.693145751953125 // ln 2 rounded to 16 bits, so k·ln2hi is exact
		ln2lo = 1.4286068203094173e-06
		round = 12582912 // 1.5·2^23: adding it rounds to an integer held in the low mantissa bits
	)
	if !(x > -87.33654) {
		if x != x {
			return x
		}
		return 0
	}
	if x > 88.72283 {
		return float32(math.Inf(1))
	}
	t := x*log2e + round
	k := int32(math.Float32bits(t)) - 0x4b400000
	kf := t - round
	r := x - kf*ln2hi - kf*ln2lo
	r2 := r * r
	p := (1 + r) + r2*((1.0/2+r*(1.0/6))+r2*((1.0/24+r*(1.0/120))+r2*(1.0/720+r*(1.0/5040))))
	if k > 127 {
		k--
		p *= 2
	}
	return p * math.Float32frombits(uint32(k+127)<<23)
}

// expT is e^x in the precision of T.
func expT[T float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(exp32(float32(x)))
	}
	return T(math.Exp(float64(x)))
}

// isF64 reports whether T is float64.
func isF64[T float]() bool {
	var z T
	return unsafe.Sizeof(z) == 8
}

// asT returns a float buffer's values as []T: the buffer's own slice when it already is one,
// else a converted copy.
func asT[T float](b *Buffer, dt prim.DType) []T {
	if d, ok := b.data.([]T); ok {
		return d
	}
	if isF64[T]() {
		return any(f64(b, dt)).([]T)
	}
	return any(f32(b, dt)).([]T)
}

// rowReader reads runs of a float buffer in the compute type T: float32 and float64 data is
// sliced in place, half types are widened into the caller's scratch, anything else is converted
// once up front.
type rowReader[T float] struct {
	direct []T
	half   []uint16
	conv   func(uint16) float32
}

func newRowReader[T float](b *Buffer, dt prim.DType) rowReader[T] {
	if h, ok := b.data.([]uint16); ok && !isF64[T]() {
		conv := prim.BF16ToFloat32
		if dt == prim.Float16 {
			conv = prim.F16ToFloat32
		}
		return rowReader[T]{half: h, conv: conv}
	}
	return rowReader[T]{direct: asT[T](b, dt)}
}

// inPlace reports whether rows are slices of the buffer (no scratch needed).
func (r rowReader[T]) inPlace() bool { return r.half == nil }

// row returns elements [off, off+n), in scratch (len >= n) if they need widening.
func (r rowReader[T]) row(off, n int, scratch []T) []T {
	if r.half == nil {
		return r.direct[off : off+n]
	}
	s := scratch[:n]
	for i, v := range r.half[off : off+n] {
		s[i] = T(r.conv(v))
	}
	return s
}

// scratchFor returns a scratch slice of n elements if reading r needs one.
func (r rowReader[T]) scratchFor(n int) []T {
	if r.inPlace() {
		return nil
	}
	return make([]T, n)
}

// rowWriter writes runs of an output buffer of dtype dt computed in T: float32 and float64
// outputs are computed in place, half outputs in scratch and rounded by flush.
type rowWriter[T float] struct {
	direct []T
	half   []uint16
	conv   func(float32) uint16
}

// newRowWriter allocates an output of size elements of dtype dt (T must be float64 for
// float64 outputs and float32 otherwise).
func newRowWriter[T float](dt prim.DType, size int) (rowWriter[T], *Buffer) {
	switch dt {
	case prim.BFloat16, prim.Float16:
		conv := prim.BF16FromFloat32
		if dt == prim.Float16 {
			conv = prim.F16FromFloat32
		}
		h := make([]uint16, size)
		return rowWriter[T]{half: h, conv: conv}, &Buffer{h}
	}
	d := make([]T, size)
	return rowWriter[T]{direct: d}, &Buffer{d}
}

// row returns where to compute elements [off, off+n): the output itself, or scratch.
func (w rowWriter[T]) row(off, n int, scratch []T) []T {
	if w.half == nil {
		return w.direct[off : off+n]
	}
	return scratch[:n]
}

// flush rounds a row computed in scratch into a half output (a no-op otherwise).
func (w rowWriter[T]) flush(off int, row []T) {
	if w.half == nil {
		return
	}
	h := w.half[off : off+len(row)]
	for i, v := range row {
		h[i] = w.conv(float32(v))
	}
}

// scratchFor returns a scratch slice of n elements if writing w needs one.
func (w rowWriter[T]) scratchFor(n int) []T {
	if w.half == nil {
		return nil
	}
	return make([]T, n)
}

// lastDim is the length of the last axis (1 for a scalar) and the number of rows.
func lastDim(shape []int) (rows, d int) {
	d = 1
	if len(shape) > 0 {
		d = shape[len(shape)-1]
	}
	if d == 0 {
		return 0, 0
	}
	return prim.ShapeSize(shape) / d, d
}

// maxOf is the largest element, ignoring NaNs (-Inf for an empty or all-NaN slice).
func maxOf[T float](x []T) T {
	m := T(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

// logSumExp is log Σ exp(x) computed around the maximum; it is -Inf for an empty or all -Inf
// row and +Inf if any element is +Inf.
func logSumExp[T float](x []T) T {
	m := maxOf(x)
	if math.IsInf(float64(m), 0) {
		return m
	}
	var s T
	for _, v := range x {
		s += expT(v - m)
	}
	return m + T(math.Log(float64(s)))
}

func softmaxKernel[T float](log bool, n *prim.Node, x operand) *Buffer {
	rows, d := lastDim(x.shape)
	src := newRowReader[T](x.Buffer, x.dtype)
	dst, out := newRowWriter[T](n.DType, n.Size())
	parallelFor(rows, 8*d, func(lo, hi int) {
		sIn, sOut := src.scratchFor(d), dst.scratchFor(d)
		for r := lo; r < hi; r++ {
			xr, yr := src.row(r*d, d, sIn), dst.row(r*d, d, sOut)
			softmaxRow(yr, xr, log)
			dst.flush(r*d, yr)
		}
	})
	return out
}

// softmaxRow writes softmax(x) (or log-softmax) into y, which may alias x. A row whose maximum
// is ±Inf or NaN gives NaNs, as the definition does.
func softmaxRow[T float](y, x []T, log bool) {
	m := maxOf(x)
	if math.IsInf(float64(m), -1) {
		m = 0 // all -Inf: 0/0 below gives NaN rather than an exp(NaN) detour
	}
	var s T
	if log {
		for _, v := range x {
			s += expT(v - m)
		}
		shift := m + T(math.Log(float64(s)))
		for i, v := range x {
			y[i] = v - shift
		}
		return
	}
	for i, v := range x {
		e := expT(v - m)
		y[i] = e
		s += e
	}
	inv := 1 / s
	for i := range y {
		y[i] *= inv
	}
}

// targetIndex checks a cross-entropy target: -1 means ignored.
func targetIndex(t, v int) int {
	if t < 0 {
		return -1
	}
	if t >= v {
		panic(fmt.Sprintf("target %d out of range for %d classes", t, v))
	}
	return t
}

// crossEntropyKernel gives logsumexp(row) - row[target] per row of logits (N, V).
func crossEntropyKernel[T float](n *prim.Node, logits, targets operand) *Buffer {
	rows := n.Size()
	v := logits.shape[1]
	src := newRowReader[T](logits.Buffer, logits.dtype)
	tg := ints(targets.Buffer)
	out := make([]T, rows)
	parallelFor(rows, 4*v+1, func(lo, hi int) {
		scratch := src.scratchFor(v)
		for r := lo; r < hi; r++ {
			t := targetIndex(tg[r], v)
			if t < 0 {
				continue
			}
			x := src.row(r*v, v, scratch)
			out[r] = logSumExp(x) - x[t]
		}
	})
	return fromT(out, n.DType)
}

// crossEntropyGradKernel gives (softmax(row) - onehot(target)) * g per row; ignored rows get 0.
func crossEntropyGradKernel[T float](n *prim.Node, logits, targets, g operand) *Buffer {
	rows, v := logits.shape[0], logits.shape[1]
	src := newRowReader[T](logits.Buffer, logits.dtype)
	tg := ints(targets.Buffer)
	gv := asT[T](g.Buffer, g.dtype)
	dst, out := newRowWriter[T](n.DType, n.Size())
	parallelFor(rows, 8*v, func(lo, hi int) {
		sIn, sOut := src.scratchFor(v), dst.scratchFor(v)
		for r := lo; r < hi; r++ {
			y := dst.row(r*v, v, sOut)
			t := targetIndex(tg[r], v)
			if t < 0 {
				clear(y)
				dst.flush(r*v, y)
				continue
			}
			x := src.row(r*v, v, sIn)
			lse, gr := logSumExp(x), gv[r]
			for i, xv := range x {
				y[i] = expT(xv-lse) * gr
			}
			y[t] -= gr
			dst.flush(r*v, y)
		}
	})
	return out
}

// fromT stores a float32 or float64 result as dtype dt.
func fromT[T float](v []T, dt prim.DType) *Buffer {
	switch d := any(v).(type) {
	case []float32:
		return fromF32(d, dt)
	case []float64:
		return fromF64(d, dt)
	}
	panic("unreachable")
}
