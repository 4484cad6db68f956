package mx

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Affine quantization, as in MLX: the last axis of a weight is cut into groups of groupSize
// elements; each group stores scale = (max - min)/(2^bits - 1) and bias = min, and each element
// the integer q = round((w - bias)/scale) in [0, 2^bits - 1], so that w ≈ scale·q + bias. The
// integers are packed little-end first into uint32 words: element j of a word occupies bits
// [j·bits, (j+1)·bits). A group whose elements are all equal gets scale 0 and q = 0, and
// dequantizes to its value exactly.

// checkQuantParams panics (naming op) unless bits and groupSize are supported.
func checkQuantParams(op string, groupSize, bits int) {
	if bits != 2 && bits != 4 && bits != 8 {
		panic(fmt.Sprintf("mx.%s: unsupported bits %d (want 2, 4 or 8)", op, bits))
	}
	if groupSize != 32 && groupSize != 64 && groupSize != 128 {
		panic(fmt.Sprintf("mx.%s: unsupported group size %d (want 32, 64 or 128)", op, groupSize))
	}
}

// quantComputeType is the dtype quantization arithmetic runs in for weights of dtype dt.
func quantComputeType(dt DType) DType {
	if dt == Float64 {
		return Float64
	}
	return Float32
}

// quantShifts is [0, bits, 2·bits, ...] as uint32: the bit offsets of the values in a word.
func quantShifts(bits int) *Array {
	return Arange(0, 32, float64(bits), Uint32)
}

// Quantize quantizes w (at least 1-D, float, last axis divisible by groupSize) with the affine
// scheme above, for bits 2, 4 or 8 and groupSize 32, 64 or 128. It returns the packed words,
// shape (..., K·bits/32) uint32, and the scales and biases, shape (..., K/groupSize) in w's dtype.
// The integers are computed from the scales and biases as stored (rounded to w's dtype), so
// |w - Dequantize(...)| <= scale/2 up to the rounding of the last step.
func Quantize(w *Array, groupSize, bits int) (wq, scales, biases *Array) {
	checkQuantParams("Quantize", groupSize, bits)
	if !w.dtype.IsFloat() || len(w.shape) == 0 {
		panic(fmt.Sprintf("mx.Quantize: need a float array of at least 1 dimension, got %s%v", w.dtype, w.shape))
	}
	nd := len(w.shape)
	k := w.shape[nd-1]
	if k%groupSize != 0 {
		panic(fmt.Sprintf("mx.Quantize: last axis of shape %v is not divisible by group size %d", w.shape, groupSize))
	}
	lead := w.shape[:nd-1]
	ct := quantComputeType(w.dtype)
	g := Reshape(AsType(w, ct), concatInts(lead, k/groupSize, groupSize)...)
	hi, lo := Max(g, []int{-1}, true), Min(g, []int{-1}, true)
	levels := float64(int(1)<<bits - 1)
	scales = AsType(DivScalar(Sub(hi, lo), levels), w.dtype)
	biases = AsType(lo, w.dtype)
	s, b := AsType(scales, ct), AsType(biases, ct)
	zero := Equal(s, ZerosLike(s))
	q := Round(Div(Sub(g, b), Where(zero, OnesLike(s), s)))
	q = ClipScalar(Where(zero, ZerosLike(q), q), 0, levels)
	per := 32 / bits
	qi := Reshape(AsType(q, Uint32), concatInts(lead, k/per, per)...)
	// The fields are disjoint, so their sum is their bitwise or.
	wq = Sum(ShiftLeft(qi, quantShifts(bits)), []int{-1}, false)
	groups := concatInts(lead, k/groupSize)
	return wq, Reshape(scales, groups...), Reshape(biases, groups...)
}

// concatInts is a copy of s with more appended.
func concatInts(s []int, more ...int) []int {
	return append(append(make([]int, 0, len(s)+len(more)), s...), more...)
}

// checkQuantized validates packed words and their scales and biases and returns the unpacked
// length of the last axis.
func checkQuantized(op string, wq, scales, biases *Array, groupSize, bits int) int {
	checkQuantParams(op, groupSize, bits)
	if wq.dtype != Uint32 || len(wq.shape) == 0 {
		panic(fmt.Sprintf("mx.%s: packed weights must be uint32 of at least 1 dimension, got %s%v", op, wq.dtype, wq.shape))
	}
	if !scales.dtype.IsFloat() || scales.dtype != biases.dtype {
		panic(fmt.Sprintf("mx.%s: scales %s and biases %s must share a float dtype", op, scales.dtype, biases.dtype))
	}
	nd := len(wq.shape)
	k := wq.shape[nd-1] * 32 / bits
	want := concatInts(wq.shape[:nd-1], k/groupSize)
	if k%groupSize != 0 || !slices.Equal(scales.shape, want) || !slices.Equal(biases.shape, want) {
		panic(fmt.Sprintf("mx.%s: packed weights %v (%d-bit, group size %d) need scales and biases %v, got %v and %v",
			op, wq.shape, bits, groupSize, want, scales.shape, biases.shape))
	}
	return k
}

// Dequantize unpacks weights made by Quantize: scale·q + bias, shape (..., K) in the scales'
// dtype.
func Dequantize(wq, scales, biases *Array, groupSize, bits int) *Array {
	k := checkQuantized("Dequantize", wq, scales, biases, groupSize, bits)
	nd := len(wq.shape)
	lead := wq.shape[:nd-1]
	mask := Scalar(float64(int(1)<<bits-1), Uint32)
	q := BitwiseAnd(ShiftRight(ExpandDims(wq, -1), quantShifts(bits)), mask)
	ct := quantComputeType(scales.dtype)
	q = AsType(Reshape(q, concatInts(lead, k/groupSize, groupSize)...), ct)
	s, b := ExpandDims(AsType(scales, ct), -1), ExpandDims(AsType(biases, ct), -1)
	w := Add(Mul(q, s), b)
	return AsType(Reshape(w, concatInts(lead, k)...), scales.dtype)
}

// QuantizedMatmul multiplies x (..., K), a float array, by a weight quantized with Quantize,
// without materializing the weight. With transpose (the usual layout of a linear layer) the
// weight W is (N, K) — wq (N, K·bits/32), scales and biases (N, K/groupSize) — and the result is
// x·Wᵀ, shape (..., N); without, W is (K, N), quantized along N, and the result is x·W. The result
// has x's dtype. Only x gets a gradient: the quantized weight is treated as frozen (as in QLoRA).
func QuantizedMatmul(x, wq, scales, biases *Array, transpose bool, groupSize, bits int) *Array {
	cols := checkQuantized("QuantizedMatmul", wq, scales, biases, groupSize, bits)
	if len(wq.shape) != 2 {
		panic(fmt.Sprintf("mx.QuantizedMatmul: packed weights must be 2-D, got %v", wq.shape))
	}
	if !x.dtype.IsFloat() || len(x.shape) == 0 {
		panic(fmt.Sprintf("mx.QuantizedMatmul: x must be a float array of at least 1 dimension, got %s%v", x.dtype, x.shape))
	}
	rows := wq.shape[0]
	k, n := cols, rows
	if !transpose {
		k, n = rows, cols
	}
	nd := len(x.shape)
	if x.shape[nd-1] != k {
		panic(fmt.Sprintf("mx.QuantizedMatmul: x %v does not match a weight of %d×%d (transpose %v)", x.shape, rows, cols, transpose))
	}
	op := prim.QuantizedMatmul{GroupSize: groupSize, Bits: bits, Transpose: transpose}
	return newArray(op, concatInts(x.shape[:nd-1], n), x.dtype, x, wq, scales, biases)
}

func init() {
	defVJP(func(op prim.QuantizedMatmul, node, c *Array) []*Array {
		wq, s, b := node.inputs[1], node.inputs[2], node.inputs[3]
		// x·Wᵀ pulls back through W and x·W through Wᵀ: the same weight with the flag flipped.
		return []*Array{QuantizedMatmul(c, wq, s, b, !op.Transpose, op.GroupSize, op.Bits), nil, nil, nil}
	})
}
