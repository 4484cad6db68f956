package cpu

import "github.com/lmxlab/lmxlab/mx/prim"

// rowIter walks a (broadcast) output row by row. Dimensions are first merged where every operand
// is contiguous across them and size-1 dimensions dropped, so the innermost row is as long as
// possible; then each row's starting offsets in the operands are found with one division per
// outer dimension, and the kernel's inner loop runs over the row with fixed strides.
type rowIter struct {
	outer   []int   // sizes of the outer (non-row) dimensions
	strides [][]int // per operand, strides of the outer dimensions
	n       int     // row length
	inner   []int   // per operand, stride along the row
}

// newRowIter builds an iterator over shape for operands read with the given strides (one slice
// per operand, len(shape) long; 0 marks a broadcast dimension).
func newRowIter(shape []int, strides ...[]int) *rowIter {
	var dims []int
	str := make([][]int, len(strides))
	for i, d := range shape {
		if d == 1 {
			continue
		}
		merge := len(dims) > 0
		if merge {
			for k := range strides {
				last := str[k][len(str[k])-1]
				if last != strides[k][i]*d {
					merge = false
					break
				}
			}
		}
		if merge {
			dims[len(dims)-1] *= d
			for k := range strides {
				str[k][len(str[k])-1] = strides[k][i]
			}
			continue
		}
		dims = append(dims, d)
		for k := range strides {
			str[k] = append(str[k], strides[k][i])
		}
	}
	it := &rowIter{n: 1, inner: make([]int, len(strides)), strides: make([][]int, len(strides))}
	if prim.ShapeSize(shape) == 0 {
		it.n = 0
		return it
	}
	if len(dims) > 0 {
		last := len(dims) - 1
		it.n = dims[last]
		it.outer = dims[:last]
		for k := range strides {
			it.inner[k] = str[k][last]
			it.strides[k] = str[k][:last]
		}
	}
	return it
}

// rows is the number of rows.
func (it *rowIter) rows() int {
	if it.n == 0 {
		return 0
	}
	return prim.ShapeSize(it.outer)
}

// offsets fills offs with each operand's offset at the start of row r.
func (it *rowIter) offsets(r int, offs []int) {
	for k := range offs {
		offs[k] = 0
	}
	for d := len(it.outer) - 1; d >= 0; d-- {
		i := r % it.outer[d]
		r /= it.outer[d]
		for k := range offs {
			offs[k] += i * it.strides[k][d]
		}
	}
}

// forRows runs fn on every row in parallel; offs are the operands' row offsets and the output's
// row starts at row*it.n.
func (it *rowIter) forRows(fn func(row int, offs []int)) {
	parallelFor(it.rows(), it.n, func(lo, hi int) {
		offs := make([]int, len(it.inner))
		for r := lo; r < hi; r++ {
			it.offsets(r, offs)
			fn(r, offs)
		}
	})
}
