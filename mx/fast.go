package mx

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// The fused "fast" ops (as in mlx.core.fast): softmax, normalizations and rotary embeddings,
// each one primitive with a kernel of its own instead of a chain of elementwise ops.

// Softmax is exp(a) / Σ exp(a) along axis, computed around the maximum. Half-precision inputs
// are computed in float32 and rounded once; integers give float32.
func Softmax(a *Array, axis int) *Array { return softmax("Softmax", a, axis, false) }

// LogSoftmax is a - log Σ exp(a) along axis, computed like Softmax.
func LogSoftmax(a *Array, axis int) *Array { return softmax("LogSoftmax", a, axis, true) }

func softmax(name string, a *Array, axis int, log bool) *Array {
	ax := normAxis(name, axis, a.NDim())
	if !a.dtype.IsFloat() {
		a = AsType(a, Float32)
	}
	moved := MoveAxis(a, ax, -1)
	out := newArray(prim.Softmax{Log: log}, moved.shape, a.dtype, moved)
	return MoveAxis(out, -1, ax)
}

// RMSNorm is x · rsqrt(mean(x², last axis) + eps) · w. The weight w has the length of x's last
// axis; nil means no weight. Statistics are computed in float32 (float64 for float64 inputs);
// the result has the promoted dtype of x and w.
func RMSNorm(x, w *Array, eps float64) *Array {
	d := normFeatures("RMSNorm", x)
	dt := floatType(x.dtype)
	if w == nil {
		w = fullOn(x, []int{d}, 1, dt)
	} else {
		checkNormParam("RMSNorm", "weight", x, w)
		dt = floatType(resultType(dt, w.dtype))
	}
	x, w = AsType(x, dt), AsType(w, dt)
	return newArray(prim.RMSNorm{Eps: eps}, x.shape, dt, x, w)
}

// LayerNorm is (x - mean) · rsqrt(var + eps) · w + b over the last axis, with the population
// variance. The weight w and bias b (each the length of the last axis) are optional (nil).
// Statistics are computed in float32 (float64 for float64 inputs).
func LayerNorm(x, w, b *Array, eps float64) *Array {
	normFeatures("LayerNorm", x)
	dt := floatType(x.dtype)
	for _, p := range []struct {
		name string
		a    *Array
	}{{"weight", w}, {"bias", b}} {
		if p.a != nil {
			checkNormParam("LayerNorm", p.name, x, p.a)
			dt = floatType(resultType(dt, p.a.dtype))
		}
	}
	ins := []*Array{AsType(x, dt)}
	if w != nil {
		ins = append(ins, AsType(w, dt))
	}
	if b != nil {
		ins = append(ins, AsType(b, dt))
	}
	op := prim.LayerNorm{Eps: eps, HasWeight: w != nil, HasBias: b != nil}
	return newArray(op, x.shape, dt, ins...)
}

func normFeatures(op string, x *Array) int {
	if x.NDim() == 0 {
		panic(fmt.Sprintf("mx.%s: input must have at least one dimension, got shape %v", op, x.shape))
	}
	return x.shape[x.NDim()-1]
}

func checkNormParam(op, what string, x, p *Array) {
	if p.NDim() != 1 || p.shape[0] != x.shape[x.NDim()-1] {
		panic(fmt.Sprintf("mx.%s: %s of shape %v does not match the last axis of input %v", op, what, p.shape, x.shape))
	}
}

// floatType is dt for floats and float32 for integers and bool.
func floatType(dt DType) DType {
	if dt.IsFloat() {
		return dt
	}
	return Float32
}

// gradType is the dtype fused backward kernels pack their gradients in.
func gradType(dt DType) DType {
	if dt == Float64 {
		return Float64
	}
	return Float32
}

// fullOn is Full on a's device.
func fullOn(a *Array, shape []int, v float64, dt DType) *Array {
	f := Full(shape, v, dt)
	f.dev = a.dev
	return f
}

// unpack takes elements [off, off+size(shape)) of a packed 1-d gradient as an array of shape.
func unpack(packed *Array, off int, shape []int) *Array {
	n := prim.ShapeSize(shape)
	if off == 0 && n == packed.Size() {
		return Reshape(packed, shape...)
	}
	part := newArray(prim.Slice{Start: []int{off}, Step: []int{1}}, []int{n}, packed.dtype, packed)
	return Reshape(part, shape...)
}

// RoPEOptions configures RoPE. The zero value of a field selects its default.
type RoPEOptions struct {
	// Dims is the number of leading features to rotate (even); 0 means the whole last axis.
	// Features beyond Dims pass through unchanged.
	Dims int
	// Traditional rotates interleaved pairs (x0,x1), (x2,x3), ...; otherwise feature i pairs
	// with feature i + Dims/2 (the GPT-NeoX / Llama layout).
	Traditional bool
	// Base sets the inverse frequencies θ_i = Base^(-2i/Dims); 0 means 10000. Ignored with Freqs.
	Base float64
	// Scale multiplies the positions; 0 means 1.
	Scale float64
	// Offset is the position of the first row.
	Offset int
	// OffsetArray, if set, is an integer scalar array that replaces Offset, so a compiled decode
	// step can take the position as an argument instead of retracing for every value.
	OffsetArray *Array
	// Freqs, if set, holds the Dims/2 inverse frequencies θ_i themselves (angles are
	// position·Scale·θ_i). Note that MLX's freqs argument is their reciprocal.
	Freqs *Array
}

// RoPE applies rotary position embeddings to x (..., L, D): row l of the second-to-last axis sits
// at position Offset + l, and feature pair i is rotated by the angle position·Scale·θ_i.
// Gradients flow to x only.
func RoPE(x *Array, opts RoPEOptions) *Array {
	if x.NDim() < 2 {
		panic(fmt.Sprintf("mx.RoPE: input must be (..., L, D), got shape %v", x.shape))
	}
	d := x.shape[x.NDim()-1]
	op := prim.RoPE{Dims: opts.Dims, Traditional: opts.Traditional, Base: opts.Base, Scale: opts.Scale}
	if op.Dims == 0 {
		op.Dims = d
	}
	if op.Dims < 0 || op.Dims%2 != 0 || op.Dims > d {
		panic(fmt.Sprintf("mx.RoPE: dims %d must be even and at most the feature size of input %v", op.Dims, x.shape))
	}
	if op.Base == 0 {
		op.Base = 10000
	}
	if op.Scale == 0 {
		op.Scale = 1
	}
	offset := opts.OffsetArray
	if offset == nil {
		offset = fullOn(x, nil, float64(opts.Offset), Int32)
	} else {
		if offset.Size() != 1 || !offset.dtype.IsInteger() {
			panic(fmt.Sprintf("mx.RoPE: offset must be an integer scalar, got %s%v", offset.dtype, offset.shape))
		}
		offset = AsType(Reshape(offset), Int32)
	}
	ins := []*Array{AsType(x, floatType(x.dtype)), offset}
	if opts.Freqs != nil {
		f := opts.Freqs
		if f.NDim() != 1 || f.shape[0] != op.Dims/2 || !f.dtype.IsFloat() {
			panic(fmt.Sprintf("mx.RoPE: freqs must be %d floats (dims/2), got %s%v", op.Dims/2, f.dtype, f.shape))
		}
		op.HasFreqs, op.Base = true, 0
		ins = append(ins, f)
	}
	return newArray(op, x.shape, ins[0].dtype, ins...)
}

func init() {
	defVJP(func(op prim.Softmax, node, c *Array) []*Array {
		y := node
		if y.dtype == Float16 || y.dtype == BFloat16 {
			y, c = AsType(y, Float32), AsType(c, Float32)
		}
		last := []int{-1}
		if op.Log {
			return []*Array{Sub(c, Mul(Exp(y), Sum(c, last, true)))}
		}
		return []*Array{Mul(y, Sub(c, Sum(Mul(c, y), last, true)))}
	})
	defVJP(func(op prim.RMSNorm, node, c *Array) []*Array {
		x, w := node.inputs[0], node.inputs[1]
		g := newArray(prim.RMSNormGrad(op), []int{x.Size() + w.Size()}, gradType(x.dtype), x, w, c)
		return []*Array{unpack(g, 0, x.shape), unpack(g, x.Size(), w.shape)}
	})
	defVJP(func(op prim.LayerNorm, node, c *Array) []*Array {
		x := node.inputs[0]
		d := x.shape[x.NDim()-1]
		ins := []*Array{x}
		size := x.Size()
		if op.HasWeight {
			ins = append(ins, node.inputs[1])
			size += d
		}
		if op.HasBias {
			size += d
		}
		ins = append(ins, c)
		g := newArray(prim.LayerNormGrad(op), []int{size}, gradType(x.dtype), ins...)
		grads := []*Array{unpack(g, 0, x.shape)}
		off := x.Size()
		for _, has := range []bool{op.HasWeight, op.HasBias} {
			if has {
				grads = append(grads, unpack(g, off, []int{d}))
				off += d
			}
		}
		return grads
	})
	defVJP(func(op prim.RoPE, node, c *Array) []*Array {
		inv := op
		inv.Inverse = !op.Inverse
		ins := append([]*Array{c}, node.inputs[1:]...)
		return []*Array{newArray(inv, c.shape, node.dtype, ins...)}
	})
}
