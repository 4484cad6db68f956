package cpu

import "github.com/lmxlab/lmxlab/mx/prim"

// Kernels of DynamicSlice and DynamicUpdateSlice: Slice and SliceUpdate with unit steps whose
// start indices are read from a buffer at run time and clamped, as in XLA, so the window fits.

func init() {
	defKernel(func(op prim.DynamicSlice, n *prim.Node, in []operand) *Buffer {
		x := in[0]
		out := alloc(n.DType, n.Size())
		if n.Size() == 0 {
			return out
		}
		base, strides := windowStrides(x.shape, clampedStarts(in[1].Buffer, x.shape, n.Shape), unitSteps(len(x.shape)))
		stridedCopy(newRowIter(n.Shape, strides), out, x.Buffer, base, false)
		return out
	})
	defKernel(func(op prim.DynamicUpdateSlice, n *prim.Node, in []operand) *Buffer {
		x, u := in[0], in[1]
		out := cloneData(x.Buffer)
		if prim.ShapeSize(u.shape) == 0 {
			return out
		}
		base, strides := windowStrides(x.shape, clampedStarts(in[2].Buffer, x.shape, u.shape), unitSteps(len(x.shape)))
		stridedCopy(newRowIter(u.shape, strides), out, u.Buffer, base, true)
		return out
	})
}

// clampedStarts reads the start indices and clamps each to [0, shape[i] - window[i]].
func clampedStarts(b *Buffer, shape, window []int) []int {
	s := ints(b)
	for i := range s {
		s[i] = min(max(s[i], 0), shape[i]-window[i])
	}
	return s
}

func unitSteps(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}
