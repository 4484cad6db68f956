package xla

import (
	"fmt"
	"math"
	"strings"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Lowering: a prim.Program becomes one StableHLO module whose @main takes the Program's inputs
// in order and returns its outputs. Each primitive is expanded into StableHLO operations with
// the cpu backend's semantics (mx/cpu is the reference): half-precision arithmetic is done in
// float32 and rounded once, fused primitives are written out as plain HLO.

// Options tune the lowering.
type Options struct {
	// TF32 lets float32 matrix products use the tensor cores' reduced-precision mode (XLA's
	// DEFAULT precision) instead of full float32 (HIGHEST).
	TF32 bool
	// CuDNNAttention lowers attention on half-precision operands to cuDNN's fused
	// flash-attention calls where the pattern allows (see lower_cudnn.go); GPU only.
	CuDNNAttention bool
	// CuDNNLayoutBTNH gives the cuDNN calls' (B, H, L, D) operands and results the (B, L, H, D)
	// memory layout of the projections, so no transposes surround the calls. The gpu backend
	// sets it unless LMXLAB_XLA_CUDNN_LAYOUT=bhnd: on an H100 the bf16 GPT-2-small step (four
	// updates a call) ran at 450,682 tokens/s with it and 433,958 without, in one call.
	CuDNNLayoutBTNH bool
}

// Lower writes p as a StableHLO module in MLIR's text form.
func Lower(p *prim.Program, opts Options) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			le, ok := r.(loweringError)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("xla: %s", le.msg)
		}
	}()
	l := &lowerer{prog: p, opts: opts, vals: make([]value, len(p.Nodes))}
	return l.module(), nil
}

type lowerer struct {
	prog    *prim.Program
	opts    Options
	vals    []value
	counter int
	f       *fn
}

func (l *lowerer) module() string {
	p := l.prog
	l.f = newFn("    ", &l.counter)
	args := make([]value, p.NumInputs)
	var sig strings.Builder
	for i, n := range p.Nodes {
		if in, ok := n.Op.(prim.Input); ok {
			if in.Index < 0 || in.Index >= p.NumInputs {
				failf("node %d binds input %d of %d", i, in.Index, p.NumInputs)
			}
			args[in.Index] = value{fmt.Sprintf("%%arg%d", in.Index), tt(n.DType, n.Shape...)}
		}
	}
	aliases := outputAliases(p)
	for i, a := range args {
		if a.name == "" {
			failf("program input %d is not bound by any node", i)
		}
		if i > 0 {
			sig.WriteString(", ")
		}
		sig.WriteString(a.name + ": " + a.t.String())
		if k, ok := aliases[i]; ok {
			fmt.Fprintf(&sig, " {tf.aliasing_output = %d : i32}", k)
		}
	}
	for i := range p.Nodes {
		n := &p.Nodes[i]
		if in, ok := n.Op.(prim.Input); ok {
			l.vals[i] = args[in.Index]
			continue
		}
		for _, j := range n.Inputs {
			if j < 0 || j >= i {
				failf("node %d (%s) reads node %d", i, n.Op.Name(), j)
			}
		}
		want := tt(n.DType, n.Shape...)
		var v value
		if n.Size() == 0 {
			v = l.f.full(n.DType, n.Shape, 0) // nothing to compute
		} else {
			v = l.node(n)
		}
		if !v.t.equal(want) {
			failf("%s lowered to %v, want %v", n.Op.Name(), v.t, want)
		}
		l.vals[i] = v
	}
	var outs []value
	var rt []string
	for _, o := range p.Outputs {
		outs = append(outs, l.vals[o])
		rt = append(rt, l.vals[o].t.String())
	}
	l.f.emit("func.return", outs, nil, "")
	var b strings.Builder
	b.WriteString("module @lmxlab {\n")
	fmt.Fprintf(&b, "  func.func public @main(%s) -> (%s) {\n", sig.String(), strings.Join(rt, ", "))
	b.WriteString(l.f.b.String())
	b.WriteString("  }\n}\n")
	return b.String()
}

// outputAliases pairs each donated input with the first output not yet paired that has its
// shape and dtype (XLA then writes that output into the input's buffer). Inputs with no such
// output stay unpaired and are not donated at run time.
func outputAliases(p *prim.Program) map[int]int {
	if len(p.Donated) == 0 {
		return nil
	}
	inType := map[int]tensorType{}
	for _, n := range p.Nodes {
		if in, ok := n.Op.(prim.Input); ok {
			inType[in.Index] = tt(n.DType, n.Shape...)
		}
	}
	used := make([]bool, len(p.Outputs))
	aliases := map[int]int{}
	for _, i := range p.Donated {
		t, ok := inType[i]
		if !ok {
			failf("donated input %d is not an input of the program", i)
		}
		for k, o := range p.Outputs {
			n := p.Nodes[o]
			if !used[k] && t.equal(tt(n.DType, n.Shape...)) {
				used[k], aliases[i] = true, k
				break
			}
		}
	}
	return aliases
}

// in returns the lowered value of the node's k-th input.
func (l *lowerer) in(n *prim.Node, k int) value { return l.vals[n.Inputs[k]] }

func (l *lowerer) node(n *prim.Node) value {
	f := l.f
	switch op := n.Op.(type) {
	case prim.Full:
		return f.full(n.DType, n.Shape, op.Value)
	case prim.Arange:
		// start + i·step in float64, then converted, as the cpu backend does.
		i := f.iota(prim.Float64, n.Shape, 0)
		v := f.addS(f.mulS(i, op.Step), op.Start)
		return l.convertValue(v, n.DType)
	case prim.Identity, prim.StopGradient:
		return l.in(n, 0)
	case prim.Reshape:
		return f.reshape(l.in(n, 0), n.Shape...)
	case prim.AsType:
		return l.convertValue(l.in(n, 0), n.DType)
	case prim.Broadcast:
		return f.broadcastTo(l.in(n, 0), n.Shape)
	case prim.Unary:
		return l.unary(op.Kind, l.in(n, 0))
	case prim.Binary:
		a := f.broadcastTo(l.in(n, 0), n.Shape)
		b := f.broadcastTo(l.in(n, 1), n.Shape)
		return l.binary(op.Kind, a, b)
	case prim.Where:
		c := f.broadcastTo(l.in(n, 0), n.Shape)
		x := f.broadcastTo(l.in(n, 1), n.Shape)
		y := f.broadcastTo(l.in(n, 2), n.Shape)
		return f.selectV(c, x, y)
	case prim.Reduce:
		return l.reduce(op, n)
	case prim.ArgReduce:
		return l.argReduce(op, n)
	case prim.Softmax:
		return l.softmax(op, n)
	case prim.Scan:
		return l.scan(op, n)
	case prim.Matmul:
		return l.matmul(op, n)
	case prim.Transpose:
		return f.transpose(l.in(n, 0), op.Perm)
	case prim.Slice:
		return l.slice(op, n)
	case prim.SliceUpdate:
		return l.sliceUpdate(op, n)
	case prim.DynamicSlice:
		return l.dynamicSlice(op, n)
	case prim.DynamicUpdateSlice:
		return l.dynamicUpdateSlice(n)
	case prim.Concatenate:
		xs := make([]value, len(n.Inputs))
		for k := range xs {
			xs[k] = l.in(n, k)
		}
		return f.concat(op.Axis, xs...)
	case prim.Pad:
		x := l.in(n, 0)
		return f.pad(x, f.scalar(x.dtype(), op.Value), op.Low, op.High, nil)
	case prim.Take:
		return l.take(op, n)
	case prim.TakeAlongAxis:
		return l.takeAlongAxis(op, n)
	case prim.PutAlongAxis:
		return l.putAlongAxis(op, n)
	case prim.IndexAdd:
		return l.indexAdd(op, n)
	case prim.Sort:
		return l.sort(n, false)
	case prim.ArgSort:
		return l.sort(n, true)
	case prim.Conv1d:
		return l.conv1d(op, n)
	case prim.Conv1dGradInput:
		return l.conv1dGradInput(op, n)
	case prim.Conv1dGradWeight:
		return l.conv1dGradWeight(op, n)
	case prim.RandomBits:
		return l.randomBits(n)
	case prim.RMSNorm:
		return l.rmsNorm(op, n)
	case prim.RMSNormGrad:
		return l.rmsNormGrad(op, n)
	case prim.LayerNorm:
		return l.layerNorm(op, n)
	case prim.LayerNormGrad:
		return l.layerNormGrad(op, n)
	case prim.RoPE:
		return l.rope(op, n)
	case prim.ScaledDotProductAttention:
		if l.cudnnAttentionOK(op.HasMask, op.Mask, n) {
			return l.cudnnAttention(op, n)
		}
		return l.attention(op, n)
	case prim.ScaledDotProductAttentionLSE:
		if l.cudnnAttentionOK(op.HasMask, op.Mask, n) {
			return l.cudnnAttentionLSE(op, n)
		}
		return l.attentionLSE(op, n)
	case prim.ScaledDotProductAttentionGrad:
		if l.cudnnAttentionOK(op.HasMask, op.Mask, n) {
			if g, ok := l.cudnnAttentionGrad(op, n); ok {
				return g
			}
			return l.attentionGrad(op, n, true) // a cotangent on the log-sum-exps too
		}
		return l.attentionGrad(op, n, false)
	case prim.CrossEntropy:
		return l.crossEntropy(n)
	case prim.CrossEntropyGrad:
		return l.crossEntropyGrad(n)
	case prim.QuantizedMatmul:
		return l.quantizedMatmul(op, n)
	}
	failf("no lowering for primitive %s", n.Op.Name())
	return value{}
}

// computeType is the dtype arithmetic on dt runs in: float32 for the half types.
func computeType(dt prim.DType) prim.DType {
	if dt == prim.Float16 || dt == prim.BFloat16 {
		return prim.Float32
	}
	return dt
}

// convertValue converts with the cpu backend's rules: anything to bool is x != 0, and float64 to
// a half type rounds through float32.
func (l *lowerer) convertValue(x value, dt prim.DType) value {
	f := l.f
	switch {
	case x.dtype() == dt:
		return x
	case dt == prim.Bool:
		return f.compareS(x, 0, "NE")
	case x.dtype() == prim.Float64 && (dt == prim.Float16 || dt == prim.BFloat16):
		return f.convert(f.convert(x, prim.Float32), dt)
	case x.dtype().IsFloat() && (dt == prim.Uint8 || dt == prim.Uint32):
		// Truncate to a wide integer, then wrap (XLA's float-to-unsigned saturates).
		return f.convert(f.convert(x, prim.Int64), dt)
	}
	return f.convert(x, dt)
}

// unary lowers an elementwise function of one input.
func (l *lowerer) unary(k prim.UnaryKind, x value) value {
	f := l.f
	dt := x.dtype()
	if dt == prim.Bool {
		if k == prim.LogicalNot {
			return f.not(x)
		}
		failf("%s is not defined for bool", k)
	}
	if !dt.IsFloat() {
		switch k {
		case prim.Neg:
			return f.neg(x)
		case prim.Abs:
			if dt == prim.Int32 || dt == prim.Int64 {
				return f.unary("stablehlo.abs", x)
			}
			return x
		case prim.Sign:
			if dt == prim.Int32 || dt == prim.Int64 {
				return f.unary("stablehlo.sign", x)
			}
			return f.selectV(f.compareS(x, 0, "NE"), f.fullLike(x, 1), f.fullLike(x, 0))
		case prim.Square:
			return f.mul(x, x)
		case prim.BitwiseNot:
			return f.not(x)
		case prim.Floor, prim.Ceil, prim.Round:
			return x
		}
		failf("%s is not defined for %s", k, dt)
	}
	ct := computeType(dt)
	y := l.unaryFloat(k, f.convert(x, ct))
	return f.convert(y, dt)
}

func (l *lowerer) unaryFloat(k prim.UnaryKind, x value) value {
	f := l.f
	switch k {
	case prim.Neg:
		return f.neg(x)
	case prim.Abs:
		return f.unary("stablehlo.abs", x)
	case prim.Sign:
		return f.unary("stablehlo.sign", x)
	case prim.Exp:
		return f.exp(x)
	case prim.Log:
		return f.log(x)
	case prim.Log1p:
		return f.unary("stablehlo.log_plus_one", x)
	case prim.Expm1:
		return f.unary("stablehlo.exponential_minus_one", x)
	case prim.Sqrt:
		return f.unary("stablehlo.sqrt", x)
	case prim.Rsqrt:
		return f.unary("stablehlo.rsqrt", x)
	case prim.Square:
		return f.mul(x, x)
	case prim.Sin:
		return f.unary("stablehlo.sine", x)
	case prim.Cos:
		return f.unary("stablehlo.cosine", x)
	case prim.Tanh:
		return f.unary("stablehlo.tanh", x)
	case prim.Sigmoid:
		return f.unary("stablehlo.logistic", x)
	case prim.Erf:
		return f.unary("chlo.erf", x)
	case prim.ErfInv:
		return f.unary("chlo.erf_inv", x)
	case prim.Floor:
		return f.unary("stablehlo.floor", x)
	case prim.Ceil:
		return f.unary("stablehlo.ceil", x)
	case prim.Round:
		return f.unary("stablehlo.round_nearest_even", x)
	case prim.Reciprocal:
		return f.div(f.fullLike(x, 1), x)
	case prim.SiLU:
		return f.mul(x, f.unary("stablehlo.logistic", x))
	case prim.GELU:
		e := f.unary("chlo.erf", f.mulS(x, 1/math.Sqrt2))
		return f.mul(f.mulS(x, 0.5), f.addS(e, 1))
	case prim.GELUTanh:
		// 0.5·x·(1 + tanh u) = x·σ(2u): no cancellation where tanh u is near -1.
		return f.mul(x, f.unary("stablehlo.logistic", f.mulS(geluTanhArg(f, x), 2)))
	case prim.Softplus:
		// max(x, 0) + log1p(exp(-|x|)), without overflow.
		e := f.exp(f.neg(f.unary("stablehlo.abs", x)))
		return f.add(f.max(x, f.fullLike(x, 0)), f.unary("stablehlo.log_plus_one", e))
	case prim.ReLU:
		// x <= 0 gives +0; NaN passes through.
		return f.selectV(f.compareS(x, 0, "LE"), f.fullLike(x, 0), x)
	case prim.SiLUGrad:
		// σ(x)·(1 + x·(1-σ(x)))
		sg := f.unary("stablehlo.logistic", x)
		return l.atInf(x, f.mul(sg, f.addS(f.mul(x, f.sub(f.fullLike(x, 1), sg)), 1)))
	case prim.GELUGrad:
		// Φ(x) + x·φ(x)
		cdf := f.mulS(f.addS(f.unary("chlo.erf", f.mulS(x, 1/math.Sqrt2)), 1), 0.5)
		pdf := f.mulS(f.exp(f.mulS(f.mul(x, x), -0.5)), 1/math.Sqrt(2*math.Pi))
		return l.atInf(x, f.add(cdf, f.mul(x, pdf)))
	case prim.GELUTanhGrad:
		// With s = σ(2u): 0.5·(1 + tanh u) = s and 1 - tanh² u = 4·s·σ(-2u), so the derivative
		// s + 0.5·x·(1 - tanh² u)·u' is s + 2·x·s·σ(-2u)·u', accurate in both tails.
		const k0, k1 = 0.7978845608028654, 0.044715
		u2 := f.mulS(geluTanhArg(f, x), 2)
		sp, sn := f.unary("stablehlo.logistic", u2), f.unary("stablehlo.logistic", f.neg(u2))
		du := f.mulS(f.addS(f.mulS(f.mul(x, x), 3*k1), 1), k0)
		return l.atInf(x, f.add(sp, f.mulS(f.mul(f.mul(x, sp), f.mul(sn, du)), 2)))
	}
	failf("%s is not defined for %s", k, x.dtype())
	return value{}
}

// geluTanhArg is GELU's tanh argument u = sqrt(2/π)·(x + 0.044715·x³).
func geluTanhArg(f *fn, x value) value {
	return f.mulS(f.mul(x, f.addS(f.mulS(f.mul(x, x), 0.044715), 1)), math.Sqrt(2/math.Pi))
}

// atInf replaces y by the activation-derivative limits at ±Inf: 1 at +Inf, 0 at -Inf.
func (l *lowerer) atInf(x, y value) value {
	f := l.f
	y = f.selectV(f.compareS(x, math.Inf(1), "EQ"), f.fullLike(x, 1), y)
	return f.selectV(f.compareS(x, math.Inf(-1), "EQ"), f.fullLike(x, 0), y)
}

// binary lowers an elementwise function of two inputs of the same type.
func (l *lowerer) binary(k prim.BinaryKind, a, b value) value {
	f := l.f
	dt := a.dtype()
	if k.IsComparison() {
		switch k {
		case prim.LogicalAnd, prim.LogicalOr:
			if dt != prim.Bool {
				a, b = f.compareS(a, 0, "NE"), f.compareS(b, 0, "NE")
			}
			if k == prim.LogicalAnd {
				return f.and(a, b)
			}
			return f.or(a, b)
		}
		dir := map[prim.BinaryKind]string{prim.Equal: "EQ", prim.NotEqual: "NE", prim.Less: "LT",
			prim.LessEqual: "LE", prim.Greater: "GT", prim.GreaterEqual: "GE"}[k]
		return f.compare(a, b, dir)
	}
	switch {
	case dt == prim.Bool:
		return l.boolBinary(k, a, b)
	case dt.IsFloat():
		ct := computeType(dt)
		return f.convert(l.floatBinary(k, f.convert(a, ct), f.convert(b, ct)), dt)
	}
	return l.intBinary(k, a, b)
}

func (l *lowerer) floatBinary(k prim.BinaryKind, a, b value) value {
	f := l.f
	switch k {
	case prim.Add:
		return f.add(a, b)
	case prim.Sub:
		return f.sub(a, b)
	case prim.Mul:
		return f.mul(a, b)
	case prim.Div:
		return f.div(a, b)
	case prim.Pow:
		return f.binary("stablehlo.power", a, b)
	case prim.Maximum:
		return f.max(a, b)
	case prim.Minimum:
		return f.min(a, b)
	case prim.Atan2:
		return f.binary("stablehlo.atan2", a, b)
	case prim.Remainder:
		// fmod, then moved to the divisor's sign.
		r := f.binary("stablehlo.remainder", a, b)
		fix := f.and(f.compareS(r, 0, "NE"), f.xor(f.compareS(r, 0, "LT"), f.compareS(b, 0, "LT")))
		return f.selectV(fix, f.add(r, b), r)
	}
	failf("%s is not defined for floats", k)
	return value{}
}

func (l *lowerer) intBinary(k prim.BinaryKind, a, b value) value {
	f := l.f
	signed := a.dtype() == prim.Int32 || a.dtype() == prim.Int64
	switch k {
	case prim.Add:
		return f.add(a, b)
	case prim.Sub:
		return f.sub(a, b)
	case prim.Mul:
		return f.mul(a, b)
	case prim.Maximum:
		return f.max(a, b)
	case prim.Minimum:
		return f.min(a, b)
	case prim.BitwiseAnd:
		return f.and(a, b)
	case prim.BitwiseOr:
		return f.or(a, b)
	case prim.BitwiseXor:
		return f.xor(a, b)
	case prim.ShiftLeft:
		return f.binary("stablehlo.shift_left", a, b)
	case prim.ShiftRight:
		if signed {
			return f.binary("stablehlo.shift_right_arithmetic", a, b)
		}
		return f.binary("stablehlo.shift_right_logical", a, b)
	case prim.Div, prim.Remainder:
		// Floor division and the divisor-signed remainder; division by zero gives 0.
		zero := f.compareS(b, 0, "EQ")
		safe := f.selectV(zero, f.fullLike(b, 1), b)
		q := f.div(a, safe)
		r := f.binary("stablehlo.remainder", a, safe)
		if signed {
			fix := f.and(f.compareS(r, 0, "NE"), f.xor(f.compareS(r, 0, "LT"), f.compareS(safe, 0, "LT")))
			q = f.selectV(fix, f.subS(q, 1), q)
			r = f.selectV(fix, f.add(r, safe), r)
		}
		res := q
		if k == prim.Remainder {
			res = r
		}
		return f.selectV(zero, f.fullLike(a, 0), res)
	case prim.Pow:
		// Square-and-multiply over the bits of max(b, 0): exact modulo 2^bits like repeated
		// multiplication.
		e := b
		if signed {
			e = f.max(b, f.fullLike(b, 0))
		}
		bits := 8 * a.dtype().Size()
		r := f.fullLike(a, 1)
		base := a
		one := f.fullLike(e, 1)
		for i := 0; i < bits; i++ {
			bit := f.compareS(f.and(e, one), 0, "NE")
			r = f.selectV(bit, f.mul(r, base), r)
			base = f.mul(base, base)
			e = f.binary("stablehlo.shift_right_logical", e, one)
		}
		return r
	}
	failf("%s is not defined for %s", k, a.dtype())
	return value{}
}

func (l *lowerer) boolBinary(k prim.BinaryKind, a, b value) value {
	f := l.f
	switch k {
	case prim.NotEqual, prim.BitwiseXor:
		return f.xor(a, b)
	case prim.LogicalAnd, prim.BitwiseAnd, prim.Mul, prim.Minimum:
		return f.and(a, b)
	case prim.LogicalOr, prim.BitwiseOr, prim.Add, prim.Maximum:
		return f.or(a, b)
	}
	failf("%s is not defined for bool", k)
	return value{}
}
