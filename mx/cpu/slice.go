package cpu

import (
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Kernels of the layout primitives that copy blocks: Slice, SliceUpdate, Concatenate and Pad.
// Each views its strided side through a rowIter, which merges dimensions that are contiguous, so
// a step-1 window of the last axes (a KV-cache update, a head split) moves whole runs with copy.

func init() {
	defKernel(func(op prim.Slice, n *prim.Node, in []operand) *Buffer {
		x := in[0]
		out := alloc(n.DType, n.Size())
		if n.Size() == 0 {
			return out
		}
		base, strides := windowStrides(x.shape, op.Start, op.Step)
		stridedCopy(newRowIter(n.Shape, strides), out, x.Buffer, base, false)
		return out
	})
	defKernel(func(op prim.SliceUpdate, n *prim.Node, in []operand) *Buffer {
		x, u := in[0], in[1]
		out := cloneData(x.Buffer)
		if prim.ShapeSize(u.shape) == 0 {
			return out
		}
		base, strides := windowStrides(x.shape, op.Start, op.Step)
		stridedCopy(newRowIter(u.shape, strides), out, u.Buffer, base, true)
		return out
	})
	defKernel(concatKernel)
	defKernel(padKernel)
}

// windowStrides gives the offset of a strided window's first element in a contiguous array of
// the given shape, and the window's strides.
func windowStrides(shape, start, step []int) (base int, strides []int) {
	st := prim.Strides(shape)
	strides = make([]int, len(st))
	for i := range st {
		base += start[i] * st[i]
		strides[i] = step[i] * st[i]
	}
	return base, strides
}

// stridedCopy copies between a contiguous buffer, walked row by row as it.n-long rows, and the
// strided side read (or, with scatter, written) at base plus the iterator's offsets. Every
// element is touched by one goroutine, and windows never overlap themselves, so it is race-free.
func stridedCopy(it *rowIter, dst, src *Buffer, base int, scatter bool) {
	switch d := dst.data.(type) {
	case []float32:
		stridedCopyT(it, d, src.data.([]float32), base, scatter)
	case []float64:
		stridedCopyT(it, d, src.data.([]float64), base, scatter)
	case []uint16:
		stridedCopyT(it, d, src.data.([]uint16), base, scatter)
	case []int32:
		stridedCopyT(it, d, src.data.([]int32), base, scatter)
	case []int64:
		stridedCopyT(it, d, src.data.([]int64), base, scatter)
	case []uint8:
		stridedCopyT(it, d, src.data.([]uint8), base, scatter)
	case []uint32:
		stridedCopyT(it, d, src.data.([]uint32), base, scatter)
	case []bool:
		stridedCopyT(it, d, src.data.([]bool), base, scatter)
	}
}

func stridedCopyT[T any](it *rowIter, dst, src []T, base int, scatter bool) {
	n, s := it.n, it.inner[0]
	it.forRows(func(r int, offs []int) {
		off := base + offs[0]
		if scatter {
			row := src[r*n : r*n+n]
			if s == 1 {
				copy(dst[off:off+n], row)
				return
			}
			for i, v := range row {
				dst[off+i*s] = v
			}
			return
		}
		row := dst[r*n : r*n+n]
		if s == 1 {
			copy(row, src[off:off+n])
			return
		}
		for i := range row {
			row[i] = src[off+i*s]
		}
	})
}

// cloneData copies a buffer into fresh storage, in parallel chunks.
func cloneData(b *Buffer) *Buffer {
	switch d := b.data.(type) {
	case []float32:
		return &Buffer{parallelClone(d)}
	case []float64:
		return &Buffer{parallelClone(d)}
	case []uint16:
		return &Buffer{parallelClone(d)}
	case []int32:
		return &Buffer{parallelClone(d)}
	case []int64:
		return &Buffer{parallelClone(d)}
	case []uint8:
		return &Buffer{parallelClone(d)}
	case []uint32:
		return &Buffer{parallelClone(d)}
	case []bool:
		return &Buffer{parallelClone(d)}
	}
	panic("cpu: unknown buffer type")
}

func parallelClone[T any](src []T) []T {
	out := make([]T, len(src))
	const chunk = 1 << 16
	parallelFor((len(src)+chunk-1)/chunk, chunk, func(lo, hi int) {
		copy(out[lo*chunk:min(hi*chunk, len(src))], src[lo*chunk:min(hi*chunk, len(src))])
	})
	return out
}

// concatKernel views the output as (outer, sum of the inputs' axis*inner) and copies each input's
// (outer, axis*inner) rows into place: one contiguous run per input and outer index.
func concatKernel(op prim.Concatenate, n *prim.Node, in []operand) *Buffer {
	out := alloc(n.DType, n.Size())
	if n.Size() == 0 {
		return out
	}
	outer := prim.ShapeSize(n.Shape[:op.Axis])
	inner := prim.ShapeSize(n.Shape[op.Axis+1:])
	runs := make([]int, len(in))
	for k, x := range in {
		runs[k] = x.shape[op.Axis] * inner
	}
	switch d := out.data.(type) {
	case []float32:
		concatT(d, in, runs, outer)
	case []float64:
		concatT(d, in, runs, outer)
	case []uint16:
		concatT(d, in, runs, outer)
	case []int32:
		concatT(d, in, runs, outer)
	case []int64:
		concatT(d, in, runs, outer)
	case []uint8:
		concatT(d, in, runs, outer)
	case []uint32:
		concatT(d, in, runs, outer)
	case []bool:
		concatT(d, in, runs, outer)
	}
	return out
}

func concatT[T any](out []T, in []operand, runs []int, outer int) {
	k := len(in)
	srcs := make([][]T, k)
	offs := make([]int, k) // offset of input i's run within an output row
	row := 0
	for i, x := range in {
		srcs[i] = x.data.([]T)
		offs[i] = row
		row += runs[i]
	}
	// Work items are (outer index, input) pairs, in output order.
	parallelFor(outer*k, row/k+1, func(lo, hi int) {
		o, i := lo/k, lo%k
		for t := lo; t < hi; t++ {
			r := runs[i]
			copy(out[o*row+offs[i]:o*row+offs[i]+r], srcs[i][o*r:o*r+r])
			if i++; i == k {
				i, o = 0, o+1
			}
		}
	})
}

// padKernel fills the output with the pad value, then copies the input into its window.
func padKernel(op prim.Pad, n *prim.Node, in []operand) *Buffer {
	x := in[0]
	out := alloc(n.DType, n.Size())
	if op.Value != 0 || math.Signbit(op.Value) {
		fillWith(out, fromF64([]float64{op.Value}, n.DType))
	}
	if prim.ShapeSize(x.shape) == 0 {
		return out
	}
	ost := prim.Strides(n.Shape)
	base := 0
	for i, l := range op.Low {
		base += l * ost[i]
	}
	stridedCopy(newRowIter(x.shape, ost), out, x.Buffer, base, true)
	return out
}

// fillWith sets every element of b to the single element of v (same storage type).
func fillWith(b, v *Buffer) {
	switch d := b.data.(type) {
	case []float32:
		fillT(d, v.data.([]float32)[0])
	case []float64:
		fillT(d, v.data.([]float64)[0])
	case []uint16:
		fillT(d, v.data.([]uint16)[0])
	case []int32:
		fillT(d, v.data.([]int32)[0])
	case []int64:
		fillT(d, v.data.([]int64)[0])
	case []uint8:
		fillT(d, v.data.([]uint8)[0])
	case []uint32:
		fillT(d, v.data.([]uint32)[0])
	case []bool:
		fillT(d, v.data.([]bool)[0])
	}
}

func fillT[T any](d []T, v T) {
	parallelFor(len(d), 1, func(lo, hi int) {
		s := d[lo:hi]
		for i := range s {
			s[i] = v
		}
	})
}
