package xla

import (
	"fmt"
	"strings"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// The structured StableHLO operations: reductions, dot_general, gather, scatter, sort and
// convolution, each with its result type inferred and its operands checked.

// combiner builds the body of a reduction region from two scalars.
type combiner func(r *fn, a, b value) value

func combineAdd(r *fn, a, b value) value { return r.add(a, b) }
func combineMul(r *fn, a, b value) value { return r.mul(a, b) }
func combineMax(r *fn, a, b value) value { return r.max(a, b) }
func combineMin(r *fn, a, b value) value { return r.min(a, b) }
func combineAnd(r *fn, a, b value) value { return r.and(a, b) }
func combineOr(r *fn, a, b value) value  { return r.or(a, b) }

// reduce reduces x over dims with init (a scalar of x's dtype); the dims disappear.
func (f *fn) reduce(x value, init float64, dims []int, c combiner) value {
	if len(dims) == 0 {
		return x
	}
	out := dropDims(x.shape(), dims)
	iv := f.scalar(x.dtype(), init)
	reg := f.region([]prim.DType{x.dtype(), x.dtype()}, func(r *fn, a []value) []value {
		return []value{c(r, a[0], a[1])}
	})
	return f.emit("stablehlo.reduce", []value{x, iv}, []string{reg}, "dimensions = "+i64Array(dims), tt(x.dtype(), out...))[0]
}

// reduceKeep reduces and keeps the reduced dims as size 1.
func (f *fn) reduceKeep(x value, init float64, dims []int, c combiner) value {
	r := f.reduce(x, init, dims, c)
	return f.reshape(r, keepDims(x.shape(), dims)...)
}

func dropDims(shape, dims []int) []int {
	var out []int
	for i, d := range shape {
		if !containsInt(dims, i) {
			out = append(out, d)
		}
	}
	for _, d := range dims {
		if d < 0 || d >= len(shape) {
			failf("reduce: dimension %d of shape %v", d, shape)
		}
	}
	return out
}

func keepDims(shape, dims []int) []int {
	out := append([]int(nil), shape...)
	for _, d := range dims {
		out[d] = 1
	}
	return out
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// reduceMulti reduces several same-shaped operands together with a region of 2n scalars
// (accumulators first, then the new elements, as StableHLO orders them).
func (f *fn) reduceMulti(xs, inits []value, dims []int, body func(r *fn, acc, cur []value) []value) []value {
	n := len(xs)
	var argTypes []prim.DType
	for _, x := range xs {
		argTypes = append(argTypes, x.dtype())
	}
	argTypes = append(argTypes, argTypes...)
	reg := f.region(argTypes, func(r *fn, a []value) []value { return body(r, a[:n], a[n:]) })
	out := dropDims(xs[0].shape(), dims)
	var results []tensorType
	for _, x := range xs {
		if !shapeEq(x.shape(), xs[0].shape()) {
			failf("reduce: operands %v and %v differ in shape", xs[0].t, x.t)
		}
		results = append(results, tt(x.dtype(), out...))
	}
	ops := append(append([]value(nil), xs...), inits...)
	return f.emit("stablehlo.reduce", ops, []string{reg}, "dimensions = "+i64Array(dims), results...)
}

// reduceWindow slides a window of size win (stride 1) along every dimension, with padding lo/hi.
func (f *fn) reduceWindow(x value, init float64, win, lo, hi []int, c combiner) value {
	r := x.rank()
	out := make([]int, r)
	strides := make([]int, r)
	pads := make([]string, r)
	for i, d := range x.shape() {
		strides[i] = 1
		out[i] = d + lo[i] + hi[i] - win[i] + 1
		if out[i] < 0 || win[i] < 1 {
			failf("reduce_window of %v: window %v padding %v %v", x.t, win, lo, hi)
		}
		pads[i] = fmt.Sprintf("[%d, %d]", lo[i], hi[i])
	}
	iv := f.scalar(x.dtype(), init)
	reg := f.region([]prim.DType{x.dtype(), x.dtype()}, func(rf *fn, a []value) []value {
		return []value{c(rf, a[0], a[1])}
	})
	attrs := "window_dimensions = " + i64Array(win) + ", window_strides = " + i64Array(strides) +
		fmt.Sprintf(", padding = dense<[%s]> : tensor<%dx2xi64>", strings.Join(pads, ", "), r)
	return f.emit("stablehlo.reduce_window", []value{x, iv}, []string{reg}, attrs, tt(x.dtype(), out...))[0]
}

// dotGeneral contracts a and b; the result is batch dims, then a's free dims, then b's.
// precise asks for full float32 products (no TF32) on float32 operands.
func (f *fn) dotGeneral(a, b value, aBatch, bBatch, aContract, bContract []int, outDT prim.DType, precise bool) value {
	if len(aBatch) != len(bBatch) || len(aContract) != len(bContract) || a.dtype() != b.dtype() {
		failf("dot_general of %v and %v: batch %v/%v contracting %v/%v", a.t, b.t, aBatch, bBatch, aContract, bContract)
	}
	var out []int
	for i := range aBatch {
		if a.shape()[aBatch[i]] != b.shape()[bBatch[i]] {
			failf("dot_general of %v and %v: batch dims %v/%v differ", a.t, b.t, aBatch, bBatch)
		}
		out = append(out, a.shape()[aBatch[i]])
	}
	for i := range aContract {
		if a.shape()[aContract[i]] != b.shape()[bContract[i]] {
			failf("dot_general of %v and %v: contracting dims %v/%v differ", a.t, b.t, aContract, bContract)
		}
	}
	for i, d := range a.shape() {
		if !containsInt(aBatch, i) && !containsInt(aContract, i) {
			out = append(out, d)
		}
	}
	for i, d := range b.shape() {
		if !containsInt(bBatch, i) && !containsInt(bContract, i) {
			out = append(out, d)
		}
	}
	prec := "DEFAULT"
	if precise && (a.dtype() == prim.Float32 || a.dtype() == prim.Float64) {
		prec = "HIGHEST"
	}
	attrs := fmt.Sprintf("dot_dimension_numbers = #stablehlo.dot<lhs_batching_dimensions = %s, rhs_batching_dimensions = %s, lhs_contracting_dimensions = %s, rhs_contracting_dimensions = %s>, precision_config = [#stablehlo<precision %s>, #stablehlo<precision %s>]",
		intList(aBatch), intList(bBatch), intList(aContract), intList(bContract), prec, prec)
	return f.emit1("stablehlo.dot_general", []value{a, b}, attrs, tt(outDT, out...))
}

// gather reads slices of x at the index vectors of idx (index vectors along its last dimension,
// indexVectorDim = rank(idx) - 1, or rank(idx) for scalar indices). The output shape is given
// by StableHLO's rule: offset dims at offsetDims, batch dims (idx's other dims) elsewhere.
func (f *fn) gather(x, idx value, offsetDims, collapsed, startIndexMap []int, indexVectorDim int, sliceSizes []int) value {
	var batch []int
	for i, d := range idx.shape() {
		if i != indexVectorDim {
			batch = append(batch, d)
		}
	}
	var offs []int
	for i, s := range sliceSizes {
		if s > x.shape()[i] || s < 0 {
			failf("gather from %v: slice sizes %v", x.t, sliceSizes)
		}
		if !containsInt(collapsed, i) {
			offs = append(offs, s)
		} else if s != 1 {
			failf("gather from %v: collapsed dim %d has slice size %d", x.t, i, s)
		}
	}
	if len(offs) != len(offsetDims) || len(sliceSizes) != x.rank() {
		failf("gather from %v: offset dims %v for slice sizes %v", x.t, offsetDims, sliceSizes)
	}
	nv := 1
	if indexVectorDim < idx.rank() {
		nv = idx.shape()[indexVectorDim]
	}
	if nv != len(startIndexMap) {
		failf("gather from %v with indices %v: start_index_map %v", x.t, idx.t, startIndexMap)
	}
	out := make([]int, len(batch)+len(offs))
	oi, bi := 0, 0
	for i := range out {
		if containsInt(offsetDims, i) {
			out[i] = offs[oi]
			oi++
		} else {
			out[i] = batch[bi]
			bi++
		}
	}
	attrs := fmt.Sprintf("dimension_numbers = #stablehlo.gather<offset_dims = %s, collapsed_slice_dims = %s, operand_batching_dims = [], start_indices_batching_dims = [], start_index_map = %s, index_vector_dim = %d>, slice_sizes = %s, indices_are_sorted = false",
		intList(offsetDims), intList(collapsed), intList(startIndexMap), indexVectorDim, i64Array(sliceSizes))
	return f.emit1("stablehlo.gather", []value{x, idx}, attrs, tt(x.dtype(), out...))
}

// scatter writes (or combines with c; nil replaces) upd into a copy of x at the index vectors of
// idx. updateWindowDims are the dims of upd that index into x's window; the others match idx's
// batch dims in order.
func (f *fn) scatter(x, idx, upd value, updateWindowDims, insertedWindowDims, scatterDimsToOperand []int, indexVectorDim int, c combiner) value {
	var batch []int
	for i, d := range idx.shape() {
		if i != indexVectorDim {
			batch = append(batch, d)
		}
	}
	var ub []int
	for i, d := range upd.shape() {
		if !containsInt(updateWindowDims, i) {
			ub = append(ub, d)
		}
	}
	if !shapeEq(ub, batch) || x.dtype() != upd.dtype() || len(updateWindowDims)+len(insertedWindowDims) != x.rank() {
		failf("scatter into %v of %v at %v: window dims %v inserted %v", x.t, upd.t, idx.t, updateWindowDims, insertedWindowDims)
	}
	reg := f.region([]prim.DType{x.dtype(), x.dtype()}, func(r *fn, a []value) []value {
		if c == nil {
			return []value{a[1]}
		}
		return []value{c(r, a[0], a[1])}
	})
	attrs := fmt.Sprintf("scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = %s, inserted_window_dims = %s, input_batching_dims = [], scatter_indices_batching_dims = [], scatter_dims_to_operand_dims = %s, index_vector_dim = %d>, indices_are_sorted = false, unique_indices = false",
		intList(updateWindowDims), intList(insertedWindowDims), intList(scatterDimsToOperand), indexVectorDim)
	return f.emit("stablehlo.scatter", []value{x, idx, upd}, []string{reg}, attrs, x.t)[0]
}

// sortBy sorts the operands together along dim by a strict-weak-order comparator on the scalars
// (a_0, b_0, a_1, b_1, ...), stably.
func (f *fn) sortBy(xs []value, dim int, less func(r *fn, args []value) value) []value {
	var argTypes []prim.DType
	var results []tensorType
	for _, x := range xs {
		if !shapeEq(x.shape(), xs[0].shape()) {
			failf("sort: operands %v and %v differ in shape", xs[0].t, x.t)
		}
		argTypes = append(argTypes, x.dtype(), x.dtype())
		results = append(results, x.t)
	}
	reg := f.region(argTypes, func(r *fn, a []value) []value { return []value{less(r, a)} })
	return f.emit("stablehlo.sort", xs, []string{reg}, fmt.Sprintf("dimension = %d : i64, is_stable = true", dim), results...)
}

// conv1d is a 1-D convolution over rank-3 operands with the given dimension letters (such as
// "[b, 0, f]x[o, 0, i]->[b, 0, f]") and a result type computed by the caller.
func (f *fn) conv1d(lhs, rhs value, dims string, stride, padLo, padHi, lhsDil, rhsDil, featureGroups, batchGroups int, out tensorType) value {
	if lhs.rank() != 3 || rhs.rank() != 3 || lhs.dtype() != rhs.dtype() {
		failf("convolution of %v and %v", lhs.t, rhs.t)
	}
	attrs := fmt.Sprintf("window_strides = array<i64: %d>, padding = dense<[[%d, %d]]> : tensor<1x2xi64>, lhs_dilation = array<i64: %d>, rhs_dilation = array<i64: %d>, dimension_numbers = #stablehlo.conv<%s>, feature_group_count = %d : i64, batch_group_count = %d : i64, precision_config = [#stablehlo<precision HIGHEST>, #stablehlo<precision HIGHEST>]",
		stride, padLo, padHi, lhsDil, rhsDil, dims, featureGroups, batchGroups)
	return f.emit1("stablehlo.convolution", []value{lhs, rhs}, attrs, out)
}
