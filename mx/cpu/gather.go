package cpu

import "github.com/lmxlab/lmxlab/mx/prim"

// Kernels of Take and IndexAdd. Both view the array as (outer, size, inner) around the indexed
// axis, so that one index selects a contiguous run of inner elements per outer index: Take on
// axis 0 of an embedding table copies whole rows, and IndexAdd (its transpose, the embedding
// gradient) adds whole rows.

func init() {
	defKernel(func(op prim.Take, n *prim.Node, in []operand) *Buffer {
		x := in[0]
		outer, size, inner := aroundAxis(x.shape, op.Axis)
		idx := wrappedIndices(in[1].Buffer, size)
		out := alloc(n.DType, n.Size())
		if n.Size() == 0 {
			return out
		}
		switch d := out.data.(type) {
		case []float32:
			takeT(d, x.data.([]float32), idx, outer, size, inner)
		case []float64:
			takeT(d, x.data.([]float64), idx, outer, size, inner)
		case []uint16:
			takeT(d, x.data.([]uint16), idx, outer, size, inner)
		case []int32:
			takeT(d, x.data.([]int32), idx, outer, size, inner)
		case []int64:
			takeT(d, x.data.([]int64), idx, outer, size, inner)
		case []uint8:
			takeT(d, x.data.([]uint8), idx, outer, size, inner)
		case []uint32:
			takeT(d, x.data.([]uint32), idx, outer, size, inner)
		case []bool:
			takeT(d, x.data.([]bool), idx, outer, size, inner)
		}
		return out
	})
	defKernel(indexAddKernel)
}

// aroundAxis splits shape into the sizes before, at and after axis.
func aroundAxis(shape []int, axis int) (outer, size, inner int) {
	return prim.ShapeSize(shape[:axis]), shape[axis], prim.ShapeSize(shape[axis+1:])
}

// wrappedIndices reads integer indices, wraps negative ones, and panics on any out of [0, size).
func wrappedIndices(b *Buffer, size int) []int {
	idx := ints(b)
	for j, i := range idx {
		idx[j] = wrapIndex(i, size)
	}
	return idx
}

// takeT copies out[o, j, :] = x[o, idx[j], :]. Work items are (o, j) pairs in output order.
func takeT[T any](out, x []T, idx []int, outer, size, inner int) {
	k := len(idx)
	parallelFor(outer*k, inner, func(lo, hi int) {
		o, j := lo/k, lo%k
		if inner == 1 {
			for t := lo; t < hi; t++ {
				out[t] = x[o*size+idx[j]]
				if j++; j == k {
					j, o = 0, o+1
				}
			}
			return
		}
		for t := lo; t < hi; t++ {
			s := (o*size + idx[j]) * inner
			copy(out[t*inner:t*inner+inner], x[s:s+inner])
			if j++; j == k {
				j, o = 0, o+1
			}
		}
	})
}

// rowGroups groups the positions j of idx by target: targets lists the distinct targets in
// ascending order, and the positions aiming at targets[t] are order[start[t]:start[t+1]], in
// ascending j. It is a counting sort, linear in len(idx) + size.
func rowGroups(idx []int, size int) (targets, start, order []int) {
	count := make([]int, size+1)
	for _, i := range idx {
		count[i+1]++
	}
	for r := 0; r < size; r++ {
		if count[r+1] > 0 {
			targets = append(targets, r)
		}
		count[r+1] += count[r]
	}
	order = make([]int, len(idx))
	pos := count[:size]
	for j, i := range idx {
		order[pos[i]] = j
		pos[i]++
	}
	// pos[r] now holds the end of group r; the start of each listed group is the end of the
	// previous one, since empty groups occupy no room.
	start = make([]int, len(targets)+1)
	for t, r := range targets {
		start[t+1] = pos[r]
	}
	return targets, start, order
}

// indexAddKernel computes a copy of x with out[o, idx[j], :] += upd[o, j, :]. Work is split over
// (outer index, distinct target) pairs, so every output row is owned by one goroutine, which adds
// its updates in ascending j: the result is bitwise independent of the split, with no atomics.
func indexAddKernel(op prim.IndexAdd, n *prim.Node, in []operand) *Buffer {
	x, upd := in[0], in[2]
	outer, size, inner := aroundAxis(x.shape, op.Axis)
	idx := wrappedIndices(in[1].Buffer, size)
	out := cloneData(x.Buffer)
	if len(idx) == 0 || outer*inner == 0 {
		return out
	}
	targets, start, order := rowGroups(idx, size)
	g := groups{targets, start, order, outer, size, len(idx), inner}
	switch d := out.data.(type) {
	case []float32:
		indexAddT(d, upd.data.([]float32), g)
	case []float64:
		indexAddT(d, upd.data.([]float64), g)
	case []int32:
		indexAddT(d, upd.data.([]int32), g)
	case []int64:
		indexAddT(d, upd.data.([]int64), g)
	case []uint8:
		indexAddT(d, upd.data.([]uint8), g)
	case []uint32:
		indexAddT(d, upd.data.([]uint32), g)
	case []uint16:
		indexAddHalf(d, upd.data.([]uint16), n.DType, g)
	case []bool: // adding booleans is a logical or
		u := upd.data.([]bool)
		g.each(func() rowAdder {
			return func(d0, s0 int, js []int) {
				row := d[d0 : d0+inner]
				for _, j := range js {
					s := u[s0+j*inner : s0+j*inner+inner]
					for i := range row {
						row[i] = row[i] || s[i]
					}
				}
			}
		})
	}
	return out
}

// groups describes the work of an IndexAdd: see rowGroups.
type groups struct {
	targets, start, order []int
	outer, size, k, inner int
}

// rowAdder adds the update rows js (offsets src + j*inner) into the output row at dst.
type rowAdder func(dst, src int, js []int)

// each runs the work in parallel over (outer index, target) pairs; newAdder is called once per
// goroutine, so an adder may keep scratch space.
func (g groups) each(newAdder func() rowAdder) {
	nt := len(g.targets)
	avg := (len(g.order)/max(nt, 1) + 1) * g.inner
	parallelFor(g.outer*nt, avg, func(lo, hi int) {
		add := newAdder()
		o, t := lo/nt, lo%nt
		for it := lo; it < hi; it++ {
			add((o*g.size+g.targets[t])*g.inner, o*g.k*g.inner, g.order[g.start[t]:g.start[t+1]])
			if t++; t == nt {
				t, o = 0, o+1
			}
		}
	})
}

func indexAddT[T float | integer](out, upd []T, g groups) {
	inner := g.inner
	g.each(func() rowAdder {
		return func(d0, s0 int, js []int) {
			d := out[d0 : d0+inner]
			for _, j := range js {
				s := upd[s0+j*inner : s0+j*inner+inner]
				for i := range d {
					d[i] += s[i]
				}
			}
		}
	})
}

// indexAddHalf accumulates each bfloat16/float16 row in float32 and rounds it once at the end.
func indexAddHalf(out, upd []uint16, dt prim.DType, g groups) {
	toF, fromF := prim.BF16ToFloat32, prim.BF16FromFloat32
	if dt == prim.Float16 {
		toF, fromF = prim.F16ToFloat32, prim.F16FromFloat32
	}
	inner := g.inner
	g.each(func() rowAdder {
		acc := make([]float32, inner)
		return func(d0, s0 int, js []int) {
			d := out[d0 : d0+inner]
			for i, v := range d {
				acc[i] = toF(v)
			}
			for _, j := range js {
				s := upd[s0+j*inner : s0+j*inner+inner]
				for i := range acc {
					acc[i] += toF(s[i])
				}
			}
			for i, v := range acc {
				d[i] = fromF(v)
			}
		}
	})
}
