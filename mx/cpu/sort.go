package cpu

import (
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Sort and ArgSort along the last axis. Each row is mapped to unsigned keys whose order is the
// sort order (floats: -0 and +0 equal, every NaN above +inf), then sorted by a stable LSD radix
// sort that carries the original positions along (insertion sort for short rows). Sort gathers
// the input's values by that permutation, so Sort and ArgSort always agree.

func init() {
	defKernel(func(_ prim.Sort, n *prim.Node, in []operand) *Buffer { return sortLast(in[0], n, false) })
	defKernel(func(_ prim.ArgSort, n *prim.Node, in []operand) *Buffer { return sortLast(in[0], n, true) })
}

func sortLast(x operand, n *prim.Node, arg bool) *Buffer {
	out := alloc(n.DType, n.Size())
	m := 1
	if len(x.shape) > 0 {
		m = x.shape[len(x.shape)-1]
	}
	if n.Size() == 0 {
		return out
	}
	rows := n.Size() / m
	var emit func(row int, perm []int32)
	if arg {
		emit = emitIndices(out, m)
	} else {
		emit = emitValues(out, x.Buffer, m)
	}
	switch d := x.data.(type) {
	case []float64:
		sortRows(rows, m, 64, emit, func(row int, keys []uint64) {
			for i, v := range d[row*m : row*m+m] {
				keys[i] = float64Key(v)
			}
		})
	case []int64:
		sortRows(rows, m, 64, emit, func(row int, keys []uint64) {
			for i, v := range d[row*m : row*m+m] {
				keys[i] = uint64(v) ^ 1<<63
			}
		})
	case []float32:
		sortRows(rows, m, 32, emit, func(row int, keys []uint32) {
			for i, v := range d[row*m : row*m+m] {
				keys[i] = float32Key(v)
			}
		})
	case []uint16:
		conv := prim.BF16ToFloat32
		if x.dtype == prim.Float16 {
			conv = prim.F16ToFloat32
		}
		sortRows(rows, m, 32, emit, func(row int, keys []uint32) {
			for i, v := range d[row*m : row*m+m] {
				keys[i] = float32Key(conv(v))
			}
		})
	case []int32:
		sortRows(rows, m, 32, emit, func(row int, keys []uint32) {
			for i, v := range d[row*m : row*m+m] {
				keys[i] = uint32(v) ^ 1<<31
			}
		})
	case []uint32:
		sortRows(rows, m, 32, emit, func(row int, keys []uint32) {
			copy(keys, d[row*m:row*m+m])
		})
	case []uint8:
		sortRows(rows, m, 8, emit, func(row int, keys []uint32) {
			for i, v := range d[row*m : row*m+m] {
				keys[i] = uint32(v)
			}
		})
	case []bool:
		sortRows(rows, m, 8, emit, func(row int, keys []uint32) {
			for i, v := range d[row*m : row*m+m] {
				keys[i] = 0
				if v {
					keys[i] = 1
				}
			}
		})
	}
	return out
}

// float32Key maps v to a key whose unsigned order is the float order, with -0 == +0 and every
// NaN greater than +inf (and equal to every other NaN).
func float32Key(v float32) uint32 {
	if v != v {
		return math.MaxUint32
	}
	b := math.Float32bits(v)
	if b == 1<<31 { // -0
		b = 0
	}
	if b&(1<<31) != 0 {
		return ^b
	}
	return b | 1<<31
}

// float64Key is float32Key for float64.
func float64Key(v float64) uint64 {
	if v != v {
		return math.MaxUint64
	}
	b := math.Float64bits(v)
	if b == 1<<63 {
		b = 0
	}
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

func emitIndices(out *Buffer, m int) func(int, []int32) {
	switch d := out.data.(type) {
	case []int32:
		return func(row int, perm []int32) { copy(d[row*m:row*m+m], perm) }
	case []int64:
		return func(row int, perm []int32) {
			for i, p := range perm {
				d[row*m+i] = int64(p)
			}
		}
	case []uint32:
		return func(row int, perm []int32) {
			for i, p := range perm {
				d[row*m+i] = uint32(p)
			}
		}
	}
	panic("cpu: ArgSort output must be int32, int64 or uint32")
}

func emitValues(out, x *Buffer, m int) func(int, []int32) {
	switch d := out.data.(type) {
	case []float32:
		return emitValuesT(d, x.data.([]float32), m)
	case []float64:
		return emitValuesT(d, x.data.([]float64), m)
	case []uint16:
		return emitValuesT(d, x.data.([]uint16), m)
	case []int32:
		return emitValuesT(d, x.data.([]int32), m)
	case []int64:
		return emitValuesT(d, x.data.([]int64), m)
	case []uint8:
		return emitValuesT(d, x.data.([]uint8), m)
	case []uint32:
		return emitValuesT(d, x.data.([]uint32), m)
	case []bool:
		return emitValuesT(d, x.data.([]bool), m)
	}
	panic("cpu: unknown buffer type")
}

func emitValuesT[T any](out, x []T, m int) func(int, []int32) {
	return func(row int, perm []int32) {
		o, src := out[row*m:row*m+m], x[row*m:row*m+m]
		for i, p := range perm {
			o[i] = src[p]
		}
	}
}

// sortRows sorts rows of m keys (the low bits of K hold the key) in parallel, one row at a
// time per goroutine, and hands each row's stable sorting permutation to emit.
func sortRows[K ~uint32 | ~uint64](rows, m, bits int, emit func(int, []int32), fill func(int, []K)) {
	cost := m * (bits/8 + 2)
	parallelFor(rows, cost, func(lo, hi int) {
		keys, tmp := make([]K, m), make([]K, m)
		perm, ptmp := make([]int32, m), make([]int32, m)
		for r := lo; r < hi; r++ {
			fill(r, keys)
			for i := range perm {
				perm[i] = int32(i)
			}
			emit(r, stableArgsort(keys, tmp, perm, ptmp, bits))
		}
	})
}

// stableArgsort sorts keys (and perm along with them) stably using tmp and ptmp as scratch, and
// returns the slice holding the sorted permutation (perm or ptmp). keys is clobbered.
func stableArgsort[K ~uint32 | ~uint64](keys, tmp []K, perm, ptmp []int32, bits int) []int32 {
	m := len(keys)
	if m <= 32 {
		for i := 1; i < m; i++ {
			k, p := keys[i], perm[i]
			j := i
			for ; j > 0 && keys[j-1] > k; j-- {
				keys[j], perm[j] = keys[j-1], perm[j-1]
			}
			keys[j], perm[j] = k, p
		}
		return perm
	}
	passes := bits / 8
	var count [8][256]int32
	histograms(keys, &count, passes)
	for p := 0; p < passes; p++ {
		c := &count[p]
		shift := 8 * uint(p)
		if int(c[byte(keys[0]>>shift)]) == m {
			continue // every key has the same digit here: nothing moves
		}
		var sum int32
		for d := range c {
			c[d], sum = sum, sum+c[d]
		}
		tmp, ptmp, perm = tmp[:m], ptmp[:m], perm[:m]
		for i, k := range keys {
			d := byte(k >> shift)
			at := c[d]
			c[d]++
			tmp[at], ptmp[at] = k, perm[i]
		}
		keys, tmp = tmp, keys
		perm, ptmp = ptmp, perm
	}
	return perm
}

// histograms counts the digits (bytes) of every key for each of the passes in one sweep.
func histograms[K ~uint32 | ~uint64](keys []K, count *[8][256]int32, passes int) {
	switch passes {
	case 1:
		for _, k := range keys {
			count[0][byte(k)]++
		}
	case 4:
		for _, k := range keys {
			count[0][byte(k)]++
			count[1][byte(k>>8)]++
			count[2][byte(k>>16)]++
			count[3][byte(k>>24)]++
		}
	default:
		for _, k := range keys {
			k := uint64(k)
			count[0][byte(k)]++
			count[1][byte(k>>8)]++
			count[2][byte(k>>16)]++
			count[3][byte(k>>24)]++
			count[4][byte(k>>32)]++
			count[5][byte(k>>40)]++
			count[6][byte(k>>48)]++
			count[7][byte(k>>56)]++
		}
	}
}
