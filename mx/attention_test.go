package mx

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// attnCase is one attention configuration: shapes, options, and an optional explicit mask.
type attnCase struct {
	name                      string
	b, hq, hkv, lq, lk, d, dv int
	causal                    bool
	window, chunk             int
	maskShape                 []int
	boolMask                  bool
}

// visible says whether query row i may see key j under the structural masks.
func (c attnCase) visible(i, j int) bool {
	pos := c.lk - c.lq + i
	floorDiv := func(a, b int) int { return int(math.Floor(float64(a) / float64(b))) }
	return (!c.causal || j <= pos) && (c.window == 0 || j > pos-c.window) &&
		(c.chunk == 0 || floorDiv(j, c.chunk) == floorDiv(pos, c.chunk))
}

// makeMask draws the case's explicit mask: bool with ~70% kept and the first row of the first
// slice fully masked, or additive normal values with ~20% -Inf.
func (c attnCase) makeMask(rng *rand.Rand) *Array {
	if c.maskShape == nil {
		return nil
	}
	n := 1
	for _, d := range c.maskShape {
		n *= d
	}
	last := c.maskShape[len(c.maskShape)-1]
	if c.boolMask {
		keep := make([]bool, n)
		for i := range keep {
			keep[i] = i >= last && rng.Float64() < 0.7
		}
		return FromSlice(keep, c.maskShape...)
	}
	add := make([]float64, n)
	for i := range add {
		add[i] = rng.NormFloat64()
		if rng.Float64() < 0.2 {
			add[i] = math.Inf(-1)
		}
	}
	return FromSlice(add, c.maskShape...)
}

// fullMask is the additive (B, Hq, Lq, Lk) mask of the case: 0 or -Inf from the structural masks
// plus the explicit mask (booleans as 0 or -Inf).
func (c attnCase) fullMask(mask *Array) []float64 {
	full := make([]float64, c.b*c.hq*c.lq*c.lk)
	var add []float64
	if mask != nil {
		m := BroadcastTo(mask, c.b, c.hq, c.lq, c.lk)
		if c.boolMask {
			add = make([]float64, len(full))
			for i, k := range m.Bools() {
				if !k {
					add[i] = math.Inf(-1)
				}
			}
		} else {
			add = m.Float64s()
		}
	}
	for idx := range full {
		i, j := idx/c.lk%c.lq, idx%c.lk
		if !c.visible(i, j) {
			full[idx] = math.Inf(-1)
		} else if add != nil {
			full[idx] = add[idx]
		}
	}
	return full
}

// refAttention is attention by materialized scores in float64; rows with no visible key are 0.
func refAttention(c attnCase, q, k, v, mask []float64, scale float64) []float64 {
	out := make([]float64, c.b*c.hq*c.lq*c.dv)
	s := make([]float64, c.lk)
	for b := 0; b < c.b; b++ {
		for h := 0; h < c.hq; h++ {
			kh := h / (c.hq / c.hkv)
			for i := 0; i < c.lq; i++ {
				m := math.Inf(-1)
				for j := 0; j < c.lk; j++ {
					dot := 0.0
					for x := 0; x < c.d; x++ {
						dot += q[((b*c.hq+h)*c.lq+i)*c.d+x] * k[((b*c.hkv+kh)*c.lk+j)*c.d+x]
					}
					s[j] = dot*scale + mask[((b*c.hq+h)*c.lq+i)*c.lk+j]
					m = math.Max(m, s[j])
				}
				if math.IsInf(m, -1) {
					continue
				}
				sum := 0.0
				for j := range s {
					s[j] = math.Exp(s[j] - m)
					sum += s[j]
				}
				o := out[((b*c.hq+h)*c.lq+i)*c.dv:]
				for j := range s {
					for x := 0; x < c.dv; x++ {
						o[x] += s[j] / sum * v[((b*c.hkv+kh)*c.lk+j)*c.dv+x]
					}
				}
			}
		}
	}
	return out
}

func (c attnCase) opts(mask *Array) AttentionOptions {
	return AttentionOptions{Causal: c.causal, Window: c.window, Chunk: c.chunk, Mask: mask}
}

// inputs draws q, k, v; q is built as the transpose of (B, Lq, Hq, D), as attention layers do.
func (c attnCase) inputs(rng *rand.Rand) (q, k, v *Array) {
	q = Transpose(randn(rng, c.b, c.lq, c.hq, c.d), 0, 2, 1, 3)
	return q, randn(rng, c.b, c.hkv, c.lk, c.d), randn(rng, c.b, c.hkv, c.lk, c.dv)
}

var attnCases = []attnCase{
	{name: "plain", b: 2, hq: 4, hkv: 2, lq: 37, lk: 37, d: 8, dv: 6},
	{name: "causal", b: 2, hq: 4, hkv: 2, lq: 37, lk: 37, d: 8, dv: 6, causal: true},
	{name: "decode", b: 1, hq: 4, hkv: 1, lq: 1, lk: 70, d: 16, dv: 16, causal: true},
	{name: "window", b: 1, hq: 2, hkv: 2, lq: 40, lk: 80, d: 8, dv: 8, causal: true, window: 16},
	{name: "window only", b: 1, hq: 1, hkv: 1, lq: 10, lk: 10, d: 4, dv: 4, window: 3},
	{name: "chunk causal", b: 1, hq: 2, hkv: 1, lq: 33, lk: 33, d: 4, dv: 4, causal: true, chunk: 8},
	{name: "chunk", b: 1, hq: 2, hkv: 1, lq: 20, lk: 20, d: 4, dv: 4, chunk: 8},
	{name: "additive", b: 2, hq: 2, hkv: 1, lq: 9, lk: 11, d: 5, dv: 3, maskShape: []int{9, 11}},
	{name: "bool", b: 2, hq: 4, hkv: 2, lq: 9, lk: 11, d: 5, dv: 3, maskShape: []int{2, 1, 9, 11}, boolMask: true},
	{name: "more queries than keys", b: 1, hq: 1, hkv: 1, lq: 6, lk: 4, d: 3, dv: 3, causal: true},
	{name: "many blocks", b: 1, hq: 2, hkv: 2, lq: 100, lk: 150, d: 8, dv: 8, causal: true, window: 70, maskShape: []int{100, 150}},
	{name: "wide heads", b: 1, hq: 4, hkv: 1, lq: 130, lk: 140, d: 64, dv: 48, causal: true, window: 100},
	{name: "very wide heads", b: 1, hq: 2, hkv: 2, lq: 70, lk: 70, d: 150, dv: 20, chunk: 50, maskShape: []int{1, 2, 1, 70}},
	{name: "no keys", b: 1, hq: 2, hkv: 1, lq: 3, lk: 0, d: 4, dv: 5},
	{name: "no batch", b: 0, hq: 2, hkv: 1, lq: 3, lk: 4, d: 4, dv: 5},
}

func TestAttentionMatchesReference(t *testing.T) {
	rng := newRNG(30)
	for _, c := range attnCases {
		t.Run(c.name, func(t *testing.T) {
			q, k, v := c.inputs(rng)
			mask := c.makeMask(rng)
			scale := 1 / math.Sqrt(float64(c.d))
			want := refAttention(c, q.Float64s(), k.Float64s(), v.Float64s(), c.fullMask(mask), scale)
			got := ScaledDotProductAttention(q, k, v, c.opts(mask))
			assertShape(t, "attention", got, c.b, c.hq, c.lq, c.dv)
			assertClose(t, "attention f64", got.Float64s(), want, 1e-12, 1e-12)
			got32 := ScaledDotProductAttention(AsType(q, Float32), AsType(k, Float32), AsType(v, Float32), c.opts(mask))
			if got32.DType() != Float32 {
				t.Fatalf("float32 attention gave %s", got32.DType())
			}
			assertClose(t, "attention f32", got32.Float64s(), want, 1e-5, 1e-5)
			qb, kb, vb := AsType(q, BFloat16), AsType(k, BFloat16), AsType(v, BFloat16)
			wantB := refAttention(c, qb.Float64s(), kb.Float64s(), vb.Float64s(), c.fullMask(mask), scale)
			assertClose(t, "attention bf16", ScaledDotProductAttention(qb, kb, vb, c.opts(mask)).Float64s(), wantB, 2e-2, 2e-2)
		})
	}
	// An explicit scale.
	c := attnCases[0]
	q, k, v := c.inputs(rng)
	want := refAttention(c, q.Float64s(), k.Float64s(), v.Float64s(), c.fullMask(nil), 0.7)
	assertClose(t, "attention scale", ScaledDotProductAttention(q, k, v, AttentionOptions{Scale: 0.7}).Float64s(), want, 1e-12, 1e-12)
}

func TestAttentionGradients(t *testing.T) {
	rng := newRNG(31)
	tiny := []attnCase{
		{name: "plain", b: 1, hq: 2, hkv: 1, lq: 3, lk: 5, d: 3, dv: 2},
		{name: "causal window", b: 1, hq: 2, hkv: 1, lq: 3, lk: 5, d: 3, dv: 2, causal: true, window: 2},
		{name: "chunk", b: 1, hq: 2, hkv: 2, lq: 4, lk: 4, d: 2, dv: 2, chunk: 2},
		{name: "additive", b: 2, hq: 1, hkv: 1, lq: 3, lk: 4, d: 2, dv: 3, maskShape: []int{2, 1, 3, 4}},
		{name: "bool", b: 1, hq: 2, hkv: 1, lq: 3, lk: 4, d: 2, dv: 2, maskShape: []int{3, 4}, boolMask: true},
		{name: "more queries than keys", b: 1, hq: 1, hkv: 1, lq: 4, lk: 2, d: 2, dv: 2, causal: true},
	}
	for _, c := range tiny {
		q, k, v := c.inputs(rng)
		mask := c.makeMask(rng) // captured: masks get no gradient
		checkGrad(t, "attention "+c.name, func(a ...*Array) *Array {
			return ScaledDotProductAttention(a[0], a[1], a[2], c.opts(mask))
		}, q, k, v)
	}
	// Bigger shapes, spanning several query and key blocks: compare with the gradients of
	// attention written with plain ops (materialized scores, Softmax, Matmul).
	for _, c := range []attnCase{attnCases[1], attnCases[10], attnCases[2], attnCases[11], attnCases[12]} {
		q, k, v := c.inputs(rng)
		mask := c.makeMask(rng)
		full := FromSlice(c.fullMask(mask), c.b, c.hq, c.lq, c.lk)
		cot := randn(rng, c.b, c.hq, c.lq, c.dv)
		scale := 1 / math.Sqrt(float64(c.d))
		_, want := VJP(func(a ...*Array) []*Array { return []*Array{naiveAttention(a[0], a[1], a[2], full, scale)} },
			[]*Array{q, k, v}, []*Array{cot})
		fused := func(a ...*Array) []*Array { return []*Array{ScaledDotProductAttention(a[0], a[1], a[2], c.opts(mask))} }
		_, got := VJP(fused, []*Array{q, k, v}, []*Array{cot})
		for i := range got {
			assertClose(t, c.name+" gradient f64", got[i].Float64s(), want[i].Float64s(), 1e-10, 1e-10)
		}
		args32 := []*Array{AsType(q, Float32), AsType(k, Float32), AsType(v, Float32)}
		_, got32 := VJP(fused, args32, []*Array{AsType(cot, Float32)})
		_, again := VJP(fused, args32, []*Array{AsType(cot, Float32)})
		for i := range got32 {
			assertClose(t, c.name+" gradient f32", got32[i].Float64s(), want[i].Float64s(), 1e-4, 1e-4)
			a, b := got32[i].Float32s(), again[i].Float32s()
			for j := range a {
				if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
					t.Fatalf("%s: gradient %d differs between runs at %d", c.name, i, j)
				}
			}
		}
	}
}

// naiveAttention is attention from plain ops with a full additive mask (no fully masked rows).
func naiveAttention(q, k, v, mask *Array, scale float64) *Array {
	g := q.Dim(1) / k.Dim(1)
	rep := func(a *Array) *Array {
		s := a.Shape()
		return Reshape(BroadcastTo(ExpandDims(a, 2), s[0], s[1], g, s[2], s[3]), s[0], s[1]*g, s[2], s[3])
	}
	s := Add(MulScalar(Matmul(q, SwapAxes(rep(k), -1, -2)), scale), mask)
	return Matmul(Softmax(s, -1), rep(v))
}

func TestAttentionShapeErrors(t *testing.T) {
	rng := newRNG(32)
	q, k, v := randn(rng, 1, 4, 3, 8), randn(rng, 1, 2, 5, 8), randn(rng, 1, 2, 5, 6)
	sdpa := func(q, k, v *Array, o AttentionOptions) func() {
		return func() { ScaledDotProductAttention(q, k, v, o) }
	}
	const name = "mx.ScaledDotProductAttention"
	mustPanic(t, sdpa(randn(rng, 4, 3, 8), k, v, AttentionOptions{}), name, "[4 3 8]")
	mustPanic(t, sdpa(q, randn(rng, 2, 2, 5, 8), v, AttentionOptions{}), name, "batch", "[2 2 5 8]")
	mustPanic(t, sdpa(q, randn(rng, 1, 2, 5, 7), v, AttentionOptions{}), name, "head size", "[1 2 5 7]")
	mustPanic(t, sdpa(q, k, randn(rng, 1, 2, 4, 6), AttentionOptions{}), name, "[1 2 4 6]")
	mustPanic(t, sdpa(q, randn(rng, 1, 3, 5, 8), randn(rng, 1, 3, 5, 6), AttentionOptions{}), name, "multiple", "[1 3 5 8]")
	mustPanic(t, sdpa(q, k, v, AttentionOptions{Mask: randn(rng, 3, 4)}), name, "[3 4]")
	mustPanic(t, sdpa(q, k, v, AttentionOptions{Mask: Zeros([]int{3, 5}, Int32)}), name, "int32")
	mustPanic(t, sdpa(q, k, v, AttentionOptions{Window: -1}), name, "window")
}

func TestAttentionPropagatesNaN(t *testing.T) {
	rng := newRNG(33)
	q, k, v := randn(rng, 1, 1, 2, 4), randn(rng, 1, 1, 3, 4), randn(rng, 1, 1, 3, 4)
	qv := q.Float64s()
	qv[0] = math.NaN()
	out := ScaledDotProductAttention(FromSlice(qv, 1, 1, 2, 4), k, v, AttentionOptions{}).Float64s()
	for i, x := range out {
		if math.IsNaN(x) != (i < 4) {
			t.Fatalf("output %d = %v: only the first row should be NaN", i, x)
		}
	}
}

// bitsEqual fails unless a and b hold bitwise identical float32 values.
func bitsEqual(t *testing.T, what string, a, b *Array) {
	t.Helper()
	x, y := AsType(a, Float32).Float32s(), AsType(b, Float32).Float32s()
	if len(x) != len(y) {
		t.Fatalf("%s: %d values vs %d", what, len(x), len(y))
	}
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			t.Fatalf("%s: element %d differs: %v vs %v", what, i, x[i], y[i])
		}
	}
}

// Under a transform the output comes from ScaledDotProductAttentionLSE; it must equal the plain
// kernel's bit for bit, in every dtype.
func TestAttentionForwardUnderTransform(t *testing.T) {
	rng := newRNG(34)
	for _, c := range []attnCase{attnCases[1], attnCases[8], attnCases[11], attnCases[13]} {
		q, k, v := c.inputs(rng)
		mask := c.makeMask(rng)
		for _, dt := range []DType{Float64, Float32, BFloat16, Float16} {
			args := []*Array{AsType(q, dt), AsType(k, dt), AsType(v, dt)}
			plain := ScaledDotProductAttention(args[0], args[1], args[2], c.opts(mask))
			outs, _ := VJP(func(a ...*Array) []*Array {
				return []*Array{ScaledDotProductAttention(a[0], a[1], a[2], c.opts(mask))}
			}, args, []*Array{OnesLike(plain)})
			if outs[0].DType() != dt {
				t.Fatalf("%s: %s output under VJP has dtype %s", c.name, dt, outs[0].DType())
			}
			if dt == Float64 {
				assertClose(t, c.name+" f64 under VJP", outs[0].Float64s(), plain.Float64s(), 0, 0)
				continue
			}
			bitsEqual(t, c.name+" "+dt.String()+" under VJP", outs[0], plain)
		}
	}
}

// The row log-sum-exps of ScaledDotProductAttentionLSE, and its VJP with a cotangent on them.
func TestAttentionLSE(t *testing.T) {
	rng := newRNG(35)
	c := attnCase{name: "lse", b: 2, hq: 2, hkv: 1, lq: 4, lk: 5, d: 3, dv: 2, causal: true, window: 3, maskShape: []int{4, 5}}
	q, k, v := c.inputs(rng)
	mask := c.makeMask(rng)
	op := prim.ScaledDotProductAttention{Scale: 0.6, Mask: prim.AttentionMask{Causal: true, Window: 3}, HasMask: true}
	m4 := Reshape(mask, 1, 1, 4, 5)
	shape := []int{c.b, c.hq, c.lq, c.dv}
	f := func(a ...*Array) *Array { return attentionLSE(op, []*Array{a[0], a[1], a[2], m4}, shape) }
	got := f(q, k, v).Float64s()
	want := refAttention(c, q.Float64s(), k.Float64s(), v.Float64s(), c.fullMask(mask), 0.6)
	no := len(want)
	assertClose(t, "LSE output", got[:no], want, 1e-12, 1e-12)
	// log-sum-exp by materialized scores.
	full := c.fullMask(mask)
	qs, ks := q.Float64s(), k.Float64s()
	for r := 0; r < c.b*c.hq*c.lq; r++ {
		b, h, i := r/(c.hq*c.lq), r/c.lq%c.hq, r%c.lq
		sum := 0.0
		for j := 0; j < c.lk; j++ {
			dot := 0.0
			for x := 0; x < c.d; x++ {
				dot += qs[((b*c.hq+h)*c.lq+i)*c.d+x] * ks[((b*c.hkv+h/2)*c.lk+j)*c.d+x]
			}
			sum += math.Exp(dot*0.6 + full[r*c.lk+j])
		}
		assertClose(t, "LSE", got[no+r:no+r+1], []float64{math.Log(sum)}, 1e-12, 1e-12)
	}
	checkGrad(t, "attention with log-sum-exps", f, q, k, v)
	// When only the output is used, the backward pass gets its cotangent unpadded.
	_, g := VJP(func(a ...*Array) []*Array {
		return []*Array{ScaledDotProductAttention(a[0], a[1], a[2], AttentionOptions{Causal: true})}
	}, []*Array{q, k, v}, []*Array{randn(rng, c.b, c.hq, c.lq, c.dv)})
	grad := g[0]
	for _, ok := grad.op.(prim.ScaledDotProductAttentionGrad); !ok; _, ok = grad.op.(prim.ScaledDotProductAttentionGrad) {
		grad = grad.inputs[0]
	}
	if cot := grad.inputs[len(grad.inputs)-1]; cot.Size() != q.Size()/c.d*c.dv {
		t.Fatalf("the backward pass got a cotangent of shape %v", cot.Shape())
	}
	// A row that sees no key has log-sum-exp -Inf.
	e := attnCase{b: 1, hq: 1, hkv: 1, lq: 3, lk: 2, d: 2, dv: 2, causal: true}
	q, k, v = e.inputs(rng)
	lse := attentionLSE(prim.ScaledDotProductAttention{Scale: 1, Mask: prim.AttentionMask{Causal: true}}, []*Array{q, k, v}, []int{1, 1, 3, 2}).Float64s()[6:]
	if !math.IsInf(lse[0], -1) || math.IsInf(lse[1], 0) {
		t.Fatalf("log-sum-exps %v: want -Inf for the first row only", lse)
	}
}

// The VJP rule of the plain primitive (built outside transforms) recomputes the forward pass and
// must agree with the gradients taken through ScaledDotProductAttentionLSE.
func TestAttentionPlainVJP(t *testing.T) {
	rng := newRNG(36)
	for _, c := range []attnCase{attnCases[3], attnCases[8]} {
		q, k, v := c.inputs(rng)
		mask := c.makeMask(rng)
		args := []*Array{AsType(q, Float32), AsType(k, Float32), AsType(v, Float32)}
		node := ScaledDotProductAttention(args[0], args[1], args[2], c.opts(mask))
		if _, ok := node.op.(prim.ScaledDotProductAttention); !ok {
			t.Fatalf("outside transforms the op is %s", node.op.Name())
		}
		cot := AsType(randn(rng, node.Shape()...), Float32)
		got := vjpRules[reflect.TypeFor[prim.ScaledDotProductAttention]()](node, cot)
		_, want := VJP(func(a ...*Array) []*Array {
			return []*Array{ScaledDotProductAttention(a[0], a[1], a[2], c.opts(mask))}
		}, args, []*Array{cot})
		for i := range want {
			bitsEqual(t, c.name+" plain VJP", got[i], want[i])
		}
	}
}

// The backward pass takes one of two plans depending on the core count; both must give the same
// bits, as must every core count.
func TestAttentionGradientPlans(t *testing.T) {
	rng := newRNG(37)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []attnCase{attnCases[10], attnCases[12], attnCases[5], attnCases[2]} {
		q, k, v := c.inputs(rng)
		mask := c.makeMask(rng)
		args := []*Array{AsType(q, Float32), AsType(k, Float32), AsType(v, Float32)}
		cot := AsType(randn(rng, c.b, c.hq, c.lq, c.dv), Float32)
		f := func(a ...*Array) []*Array {
			return []*Array{ScaledDotProductAttention(a[0], a[1], a[2], c.opts(mask))}
		}
		var first []*Array
		for _, procs := range []int{1, 2, 8} {
			runtime.GOMAXPROCS(procs)
			_, g := VJP(f, args, []*Array{cot})
			Eval(g...)
			if first == nil {
				first = g
				continue
			}
			for i := range g {
				bitsEqual(t, c.name+" gradient across core counts", g[i], first[i])
			}
		}
	}
}

// Zero-size dimensions: no keys (gradients of q zero, outputs zero), no batch.
func TestAttentionGradientsEmpty(t *testing.T) {
	rng := newRNG(38)
	for _, c := range []attnCase{attnCases[13], attnCases[14]} {
		q, k, v := c.inputs(rng)
		cot := randn(rng, c.b, c.hq, c.lq, c.dv)
		_, g := VJP(func(a ...*Array) []*Array {
			return []*Array{ScaledDotProductAttention(a[0], a[1], a[2], c.opts(nil))}
		}, []*Array{q, k, v}, []*Array{cot})
		for i, a := range []*Array{q, k, v} {
			assertShape(t, c.name+" gradient", g[i], a.Shape()...)
			assertClose(t, c.name+" gradient", g[i].Float64s(), make([]float64, a.Size()), 0, 0)
		}
	}
}

// BenchmarkAttention times the fused attention in float32, forward alone and forward plus
// backward (VJP with a random cotangent), on the shapes of the GPT training benchmarks and on a
// long causal sequence.
func BenchmarkAttention(b *testing.B) {
	shapes := []struct {
		name       string
		b, h, l, d int
		causal     bool
	}{
		{"B12H4L64D32causal", 12, 4, 64, 32, true},
		{"B16H8L256D32causal", 16, 8, 256, 32, true},
		{"B1H12L1024D64causal", 1, 12, 1024, 64, true},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			rng := newRNG(40)
			mk := func() *Array { return AsType(randn(rng, s.b, s.h, s.l, s.d), Float32) }
			q, k, v, cot := mk(), mk(), mk(), mk()
			Eval(q, k, v, cot)
			opts := AttentionOptions{Causal: s.causal}
			b.Run("fwd", func(b *testing.B) {
				for b.Loop() {
					Eval(ScaledDotProductAttention(q, k, v, opts))
				}
			})
			b.Run("fwdbwd", func(b *testing.B) {
				f := func(a ...*Array) []*Array { return []*Array{ScaledDotProductAttention(a[0], a[1], a[2], opts)} }
				for b.Loop() {
					out, g := VJP(f, []*Array{q, k, v}, []*Array{cot})
					Eval(append(g, out...)...)
				}
			})
		})
	}
}
