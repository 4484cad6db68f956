package xla

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// This file is the StableHLO text emitter: tensor types, SSA values and a function builder whose
// helpers write one operation each in MLIR's generic syntax ("stablehlo.add"(%1, %2) : (...) ->
// ...). Every helper infers its result type with StableHLO's rules and panics (as a loweringError)
// when its operands break them, so a malformed lowering fails here, naming the op, instead of in
// the XLA compiler on the device.

// loweringError is the panic value of a failed lowering; Lower turns it into an error.
type loweringError struct{ msg string }

func failf(format string, args ...any) {
	panic(loweringError{fmt.Sprintf(format, args...)})
}

// tensorType is a ranked tensor type: shape and element type.
type tensorType struct {
	shape []int
	dt    prim.DType
}

func tt(dt prim.DType, shape ...int) tensorType {
	return tensorType{shape: append([]int(nil), shape...), dt: dt}
}

// elemName is the MLIR spelling of an element type.
func elemName(dt prim.DType) string {
	switch dt {
	case prim.Bool:
		return "i1"
	case prim.Uint8:
		return "ui8"
	case prim.Uint32:
		return "ui32"
	case prim.Int32:
		return "i32"
	case prim.Int64:
		return "i64"
	case prim.Float16:
		return "f16"
	case prim.BFloat16:
		return "bf16"
	case prim.Float32:
		return "f32"
	case prim.Float64:
		return "f64"
	}
	failf("no MLIR element type for dtype %v", dt)
	return ""
}

func (t tensorType) String() string {
	var b strings.Builder
	b.WriteString("tensor<")
	for _, d := range t.shape {
		b.WriteString(strconv.Itoa(d))
		b.WriteByte('x')
	}
	b.WriteString(elemName(t.dt))
	b.WriteByte('>')
	return b.String()
}

func (t tensorType) rank() int { return len(t.shape) }
func (t tensorType) size() int { return prim.ShapeSize(t.shape) }

func (t tensorType) equal(u tensorType) bool { return t.dt == u.dt && shapeEq(t.shape, u.shape) }

func shapeEq(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// value is an SSA value of the function being built.
type value struct {
	name string
	t    tensorType
}

func (v value) shape() []int      { return v.t.shape }
func (v value) dtype() prim.DType { return v.t.dt }
func (v value) rank() int         { return len(v.t.shape) }

// fn writes the body of one function or region. Value names come from a counter shared by all
// regions of a module, so names never shadow each other.
type fn struct {
	b      *strings.Builder
	next   *int
	indent string
}

func newFn(indent string, counter *int) *fn {
	return &fn{b: &strings.Builder{}, next: counter, indent: indent}
}

func (f *fn) fresh() string {
	n := *f.next
	*f.next = n + 1
	return "%" + strconv.Itoa(n)
}

// emit writes one operation: op(operands) (regions) {attrs} : (operand types) -> result types.
func (f *fn) emit(op string, operands []value, regions []string, attrs string, results ...tensorType) []value {
	name := ""
	outs := make([]value, len(results))
	if len(results) > 0 {
		name = f.fresh()
		for i, r := range results {
			if len(results) == 1 {
				outs[i] = value{name, r}
			} else {
				outs[i] = value{name + "#" + strconv.Itoa(i), r}
			}
		}
	}
	b := f.b
	b.WriteString(f.indent)
	if name != "" {
		b.WriteString(name)
		if len(results) > 1 {
			b.WriteString(":" + strconv.Itoa(len(results)))
		}
		b.WriteString(" = ")
	}
	b.WriteString(strconv.Quote(op))
	b.WriteByte('(')
	for i, v := range operands {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.name)
	}
	b.WriteByte(')')
	if len(regions) > 0 {
		b.WriteString(" (")
		for i, r := range regions {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(r)
		}
		b.WriteByte(')')
	}
	if attrs != "" {
		b.WriteString(" {")
		b.WriteString(attrs)
		b.WriteByte('}')
	}
	b.WriteString(" : (")
	for i, v := range operands {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.t.String())
	}
	b.WriteString(") -> ")
	switch len(results) {
	case 0:
		b.WriteString("()")
	case 1:
		b.WriteString(results[0].String())
	default:
		b.WriteByte('(')
		for i, r := range results {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(r.String())
		}
		b.WriteByte(')')
	}
	b.WriteByte('\n')
	return outs
}

func (f *fn) emit1(op string, operands []value, attrs string, result tensorType) value {
	return f.emit(op, operands, nil, attrs, result)[0]
}

// region builds a single-block region whose block takes scalar arguments of the given dtypes;
// body returns the values the region yields with stablehlo.return.
func (f *fn) region(argTypes []prim.DType, body func(r *fn, args []value) []value) string {
	r := newFn(f.indent+"    ", f.next)
	args := make([]value, len(argTypes))
	var head strings.Builder
	head.WriteString("{\n" + f.indent + "  ^bb0(")
	for i, dt := range argTypes {
		args[i] = value{r.fresh(), tt(dt)}
		if i > 0 {
			head.WriteString(", ")
		}
		head.WriteString(args[i].name + ": " + args[i].t.String())
	}
	head.WriteString("):\n")
	rets := body(r, args)
	r.emit("stablehlo.return", rets, nil, "")
	return head.String() + r.b.String() + f.indent + "}"
}

// Attribute spellings.

func i64Array(v []int) string {
	if len(v) == 0 {
		return "array<i64>"
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(x)
	}
	return "array<i64: " + strings.Join(parts, ", ") + ">"
}

func intList(v []int) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// scalarLiteral spells v as an element of dtype dt: floats as their exact bit pattern in hex
// (MLIR reads a hex integer literal of a float type as its bits), integers in decimal.
func scalarLiteral(dt prim.DType, v float64) string {
	switch dt {
	case prim.Bool:
		if v != 0 {
			return "true"
		}
		return "false"
	case prim.Float32:
		return fmt.Sprintf("0x%08X", math.Float32bits(float32(v)))
	case prim.Float64:
		return fmt.Sprintf("0x%016X", math.Float64bits(v))
	case prim.BFloat16:
		return fmt.Sprintf("0x%04X", prim.BF16FromFloat32(float32(v)))
	case prim.Float16:
		return fmt.Sprintf("0x%04X", prim.F16FromFloat32(float32(v)))
	case prim.Uint8:
		return strconv.FormatUint(uint64(uint8(int64(v))), 10)
	case prim.Uint32:
		if v < 0 {
			return strconv.FormatUint(uint64(uint32(int64(v))), 10)
		}
		return strconv.FormatUint(uint64(uint32(v)), 10)
	case prim.Int32:
		return strconv.FormatInt(int64(int32(int64(v))), 10)
	case prim.Int64:
		return strconv.FormatInt(int64(v), 10)
	}
	failf("no literal for dtype %v", dt)
	return ""
}

// Constants and generators.

// scalar is a rank-0 constant.
func (f *fn) scalar(dt prim.DType, v float64) value {
	t := tt(dt)
	return f.emit1("stablehlo.constant", nil, "value = dense<"+scalarLiteral(dt, v)+"> : "+t.String(), t)
}

// scalarBits is a rank-0 integer constant given exactly (for values beyond float64's 2^53).
func (f *fn) scalarBits(dt prim.DType, bits uint64) value {
	t := tt(dt)
	var lit string
	switch dt {
	case prim.Int32:
		lit = strconv.FormatInt(int64(int32(uint32(bits))), 10)
	case prim.Int64:
		lit = strconv.FormatInt(int64(bits), 10)
	default:
		lit = strconv.FormatUint(bits, 10)
	}
	return f.emit1("stablehlo.constant", nil, "value = dense<"+lit+"> : "+t.String(), t)
}

// vector is a rank-1 constant of float64 values (converted to dt).
func (f *fn) vector(dt prim.DType, vals []float64) value {
	t := tt(dt, len(vals))
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = scalarLiteral(dt, v)
	}
	return f.emit1("stablehlo.constant", nil, "value = dense<["+strings.Join(parts, ", ")+"]> : "+t.String(), t)
}

// full is a constant of the given shape (a broadcast scalar).
func (f *fn) full(dt prim.DType, shape []int, v float64) value {
	s := f.scalar(dt, v)
	if len(shape) == 0 {
		return s
	}
	return f.broadcastInDim(s, shape, nil)
}

// fullLike is a constant with x's type.
func (f *fn) fullLike(x value, v float64) value { return f.full(x.dtype(), x.shape(), v) }

// iota counts along dim of shape.
func (f *fn) iota(dt prim.DType, shape []int, dim int) value {
	if dim < 0 || dim >= len(shape) {
		failf("iota: dimension %d of shape %v", dim, shape)
	}
	return f.emit1("stablehlo.iota", nil, fmt.Sprintf("iota_dimension = %d : i64", dim), tt(dt, shape...))
}

// Elementwise.

func (f *fn) unary(op string, x value) value {
	return f.emit1(op, []value{x}, "", x.t)
}

func (f *fn) binary(op string, a, b value) value {
	if !a.t.equal(b.t) {
		failf("%s: operand types %v and %v differ", op, a.t, b.t)
	}
	return f.emit1(op, []value{a, b}, "", a.t)
}

func (f *fn) add(a, b value) value { return f.binary("stablehlo.add", a, b) }
func (f *fn) sub(a, b value) value { return f.binary("stablehlo.subtract", a, b) }
func (f *fn) mul(a, b value) value { return f.binary("stablehlo.multiply", a, b) }
func (f *fn) div(a, b value) value { return f.binary("stablehlo.divide", a, b) }
func (f *fn) max(a, b value) value { return f.binary("stablehlo.maximum", a, b) }
func (f *fn) min(a, b value) value { return f.binary("stablehlo.minimum", a, b) }
func (f *fn) and(a, b value) value { return f.binary("stablehlo.and", a, b) }
func (f *fn) or(a, b value) value  { return f.binary("stablehlo.or", a, b) }
func (f *fn) xor(a, b value) value { return f.binary("stablehlo.xor", a, b) }
func (f *fn) not(a value) value    { return f.unary("stablehlo.not", a) }
func (f *fn) neg(a value) value    { return f.unary("stablehlo.negate", a) }
func (f *fn) exp(a value) value    { return f.unary("stablehlo.exponential", a) }
func (f *fn) log(a value) value    { return f.unary("stablehlo.log", a) }

// mulS, addS, subS and divS combine x with a scalar constant.
func (f *fn) mulS(x value, v float64) value { return f.mul(x, f.fullLike(x, v)) }
func (f *fn) addS(x value, v float64) value { return f.add(x, f.fullLike(x, v)) }
func (f *fn) subS(x value, v float64) value { return f.sub(x, f.fullLike(x, v)) }
func (f *fn) divS(x value, v float64) value { return f.div(x, f.fullLike(x, v)) }

// compareType is StableHLO's comparison type for a dtype.
func compareType(dt prim.DType) string {
	switch {
	case dt.IsFloat():
		return "FLOAT"
	case dt == prim.Int32 || dt == prim.Int64:
		return "SIGNED"
	}
	return "UNSIGNED"
}

// compare gives a bool tensor; dir is EQ, NE, LT, LE, GT or GE.
func (f *fn) compare(a, b value, dir string) value {
	if !a.t.equal(b.t) {
		failf("compare: operand types %v and %v differ", a.t, b.t)
	}
	attrs := fmt.Sprintf("comparison_direction = #stablehlo<comparison_direction %s>, compare_type = #stablehlo<comparison_type %s>", dir, compareType(a.dtype()))
	return f.emit1("stablehlo.compare", []value{a, b}, attrs, tt(prim.Bool, a.shape()...))
}

// compareS compares x with a scalar constant.
func (f *fn) compareS(x value, v float64, dir string) value {
	return f.compare(x, f.fullLike(x, v), dir)
}

func (f *fn) isNaN(x value) value { return f.compare(x, x, "NE") }

func (f *fn) selectV(c, a, b value) value {
	if c.dtype() != prim.Bool || !shapeEq(c.shape(), a.shape()) || !a.t.equal(b.t) {
		failf("select: predicate %v, operands %v and %v", c.t, a.t, b.t)
	}
	return f.emit1("stablehlo.select", []value{c, a, b}, "", a.t)
}

// convert changes the element type (no-op when it already matches).
func (f *fn) convert(x value, dt prim.DType) value {
	if x.dtype() == dt {
		return x
	}
	return f.emit1("stablehlo.convert", []value{x}, "", tt(dt, x.shape()...))
}

// Shape manipulation.

// broadcastInDim maps operand dimension i to result dimension dims[i] (nil: right-aligned).
func (f *fn) broadcastInDim(x value, shape []int, dims []int) value {
	if dims == nil {
		off := len(shape) - x.rank()
		if off < 0 {
			failf("broadcast of %v to %v", x.t, shape)
		}
		dims = make([]int, x.rank())
		for i := range dims {
			dims[i] = off + i
		}
	}
	if len(dims) != x.rank() {
		failf("broadcast_in_dim: %d dimensions for operand %v", len(dims), x.t)
	}
	for i, d := range dims {
		if d < 0 || d >= len(shape) || (i > 0 && d <= dims[i-1]) {
			failf("broadcast_in_dim: dimensions %v for operand %v and shape %v", dims, x.t, shape)
		}
		if x.shape()[i] != 1 && x.shape()[i] != shape[d] {
			failf("broadcast_in_dim: operand %v does not fit shape %v at dimensions %v", x.t, shape, dims)
		}
	}
	if shapeEq(x.shape(), shape) {
		return x
	}
	return f.emit1("stablehlo.broadcast_in_dim", []value{x}, "broadcast_dimensions = "+i64Array(dims), tt(x.dtype(), shape...))
}

// broadcastTo broadcasts with NumPy's right-aligned rule.
func (f *fn) broadcastTo(x value, shape []int) value { return f.broadcastInDim(x, shape, nil) }

func (f *fn) reshape(x value, shape ...int) value {
	if prim.ShapeSize(shape) != x.t.size() {
		failf("reshape of %v to %v", x.t, shape)
	}
	if shapeEq(shape, x.shape()) {
		return x
	}
	return f.emit1("stablehlo.reshape", []value{x}, "", tt(x.dtype(), shape...))
}

func (f *fn) transpose(x value, perm []int) value {
	if len(perm) != x.rank() {
		failf("transpose of %v by %v", x.t, perm)
	}
	seen := make([]bool, len(perm))
	out := make([]int, len(perm))
	identity := true
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			failf("transpose of %v by %v", x.t, perm)
		}
		seen[p] = true
		out[i] = x.shape()[p]
		identity = identity && p == i
	}
	if identity {
		return x
	}
	return f.emit1("stablehlo.transpose", []value{x}, "permutation = "+i64Array(perm), tt(x.dtype(), out...))
}

// slice takes [start, limit) with positive strides along every dimension.
func (f *fn) slice(x value, start, limit, strides []int) value {
	r := x.rank()
	if len(start) != r || len(limit) != r || len(strides) != r {
		failf("slice of %v: start %v limit %v strides %v", x.t, start, limit, strides)
	}
	out := make([]int, r)
	same := true
	for i := range out {
		if strides[i] < 1 || start[i] < 0 || start[i] > limit[i] || limit[i] > x.shape()[i] {
			failf("slice of %v: start %v limit %v strides %v", x.t, start, limit, strides)
		}
		out[i] = (limit[i] - start[i] + strides[i] - 1) / strides[i]
		same = same && out[i] == x.shape()[i]
	}
	if same {
		return x
	}
	attrs := "start_indices = " + i64Array(start) + ", limit_indices = " + i64Array(limit) + ", strides = " + i64Array(strides)
	return f.emit1("stablehlo.slice", []value{x}, attrs, tt(x.dtype(), out...))
}

// sliceAxis takes [lo, hi) along one axis.
func (f *fn) sliceAxis(x value, axis, lo, hi int) value {
	start, limit, strides := make([]int, x.rank()), append([]int(nil), x.shape()...), make([]int, x.rank())
	for i := range strides {
		strides[i] = 1
	}
	start[axis], limit[axis] = lo, hi
	return f.slice(x, start, limit, strides)
}

func (f *fn) concat(axis int, xs ...value) value {
	var keep []value
	for _, x := range xs {
		if x.rank() != xs[0].rank() || x.dtype() != xs[0].dtype() {
			failf("concatenate of %v and %v", xs[0].t, x.t)
		}
		for i := range x.shape() {
			if i != axis && x.shape()[i] != xs[0].shape()[i] {
				failf("concatenate of %v and %v along %d", xs[0].t, x.t, axis)
			}
		}
		if x.shape()[axis] > 0 {
			keep = append(keep, x)
		}
	}
	if len(keep) == 0 {
		return xs[0]
	}
	if len(keep) == 1 {
		return keep[0]
	}
	out := append([]int(nil), keep[0].shape()...)
	out[axis] = 0
	for _, x := range keep {
		out[axis] += x.shape()[axis]
	}
	return f.emit1("stablehlo.concatenate", keep, fmt.Sprintf("dimension = %d : i64", axis), tt(keep[0].dtype(), out...))
}

// pad pads x with the scalar padValue: lo before, hi after and interior between elements.
func (f *fn) pad(x, padValue value, lo, hi, interior []int) value {
	r := x.rank()
	if interior == nil {
		interior = make([]int, r)
	}
	if len(lo) != r || len(hi) != r || len(interior) != r || padValue.rank() != 0 || padValue.dtype() != x.dtype() {
		failf("pad of %v: low %v high %v interior %v", x.t, lo, hi, interior)
	}
	out := make([]int, r)
	for i, d := range x.shape() {
		out[i] = lo[i] + hi[i] + d
		if d > 0 {
			out[i] += (d - 1) * interior[i]
		}
		if out[i] < 0 || interior[i] < 0 {
			failf("pad of %v: low %v high %v interior %v", x.t, lo, hi, interior)
		}
	}
	attrs := "edge_padding_low = " + i64Array(lo) + ", edge_padding_high = " + i64Array(hi) + ", interior_padding = " + i64Array(interior)
	return f.emit1("stablehlo.pad", []value{x, padValue}, attrs, tt(x.dtype(), out...))
}

func (f *fn) reverse(x value, dims []int) value {
	if len(dims) == 0 {
		return x
	}
	return f.emit1("stablehlo.reverse", []value{x}, "dimensions = "+i64Array(dims), x.t)
}

// dynamicUpdateSlice writes upd into x at constant offsets.
func (f *fn) dynamicUpdateSlice(x, upd value, start []int) value {
	if x.rank() != upd.rank() || x.dtype() != upd.dtype() || len(start) != x.rank() {
		failf("dynamic_update_slice of %v into %v at %v", upd.t, x.t, start)
	}
	ops := []value{x, upd}
	for i, s := range start {
		if s < 0 || s+upd.shape()[i] > x.shape()[i] {
			failf("dynamic_update_slice of %v into %v at %v", upd.t, x.t, start)
		}
		ops = append(ops, f.scalar(prim.Int32, float64(s)))
	}
	return f.emit1("stablehlo.dynamic_update_slice", ops, "", x.t)
}
