package mx

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// vjpRule returns the cotangents of a node's inputs given the cotangent of its output; an entry is
// nil where an input gets no gradient. node.inputs and node itself (the primal output) are lazy
// arrays the rule may use.
type vjpRule func(node *Array, cot *Array) []*Array

var vjpRules = map[reflect.Type]vjpRule{}

// defVJP registers the VJP rule of primitive type T. Each op family registers its rules in init.
func defVJP[T prim.Op](rule func(op T, node, cot *Array) []*Array) {
	t := reflect.TypeFor[T]()
	if _, dup := vjpRules[t]; dup {
		panic("mx: duplicate VJP rule for " + t.String())
	}
	vjpRules[t] = func(node, cot *Array) []*Array { return rule(node.op.(T), node, cot) }
}

// VJP evaluates f at primals and pulls the cotangents of its outputs back to its inputs. It
// returns f's outputs and one cotangent per primal (zeros where f does not depend on a primal).
// Nothing is computed: the results are lazy arrays to Eval together.
func VJP(f func(args ...*Array) []*Array, primals []*Array, cotangents []*Array) (outputs, vjps []*Array) {
	return vjp(f, primals, func([]*Array) []*Array { return cotangents })
}

// vjp is VJP with cotangents chosen once the outputs are known.
func vjp(f func(args ...*Array) []*Array, primals []*Array, seed func(outputs []*Array) []*Array) (outputs, vjps []*Array) {
	transformDepth.Add(1)
	defer transformDepth.Add(-1)
	tracers := make([]*Array, len(primals))
	for i, p := range primals {
		tracers[i] = newArray(prim.Identity{}, p.shape, p.dtype, p)
	}
	outputs = f(tracers...)
	cotangents := seed(outputs)
	if len(cotangents) != len(outputs) {
		panic(fmt.Sprintf("mx.VJP: %d cotangents for %d outputs", len(cotangents), len(outputs)))
	}
	cot := map[*Array]*Array{}
	for i, o := range outputs {
		c := cotangents[i]
		if c == nil {
			continue
		}
		if !slices.Equal(c.shape, o.shape) {
			panic(fmt.Sprintf("mx.VJP: cotangent %d has shape %v, output has %v", i, c.shape, o.shape))
		}
		cot[o] = accumulate(cot[o], AsType(c, o.dtype))
	}
	backprop(outputs, tracers, cot)
	vjps = make([]*Array, len(primals))
	for i, t := range tracers {
		if g := cot[t]; g != nil {
			vjps[i] = g
		} else {
			vjps[i] = Zeros(t.shape, t.dtype)
		}
	}
	return outputs, vjps
}

// backprop propagates cot (seeded on outputs) back through every node that depends on a tracer.
func backprop(outputs, tracers []*Array, cot map[*Array]*Array) {
	isTracer := map[*Array]bool{}
	for _, t := range tracers {
		isTracer[t] = true
	}
	// depends[a] says whether a depends on a tracer; order is a postorder of those that do.
	depends := map[*Array]bool{}
	var order []*Array
	var visit func(a *Array) bool
	visit = func(a *Array) bool {
		if d, ok := depends[a]; ok {
			return d
		}
		d := isTracer[a]
		if !d {
			for _, in := range a.inputs {
				if visit(in) {
					d = true
				}
			}
		}
		depends[a] = d
		if d {
			order = append(order, a)
		}
		return d
	}
	for _, o := range outputs {
		visit(o)
	}
	for i := len(order) - 1; i >= 0; i-- {
		a := order[i]
		c := cot[a]
		if c == nil || isTracer[a] {
			continue
		}
		rule, ok := vjpRules[reflect.TypeOf(a.op)]
		if !ok {
			panic(fmt.Sprintf("mx.VJP: primitive %s has no VJP rule", a.op.Name()))
		}
		grads := rule(a, c)
		for j, in := range a.inputs {
			if j < len(grads) && grads[j] != nil && depends[in] {
				g := grads[j]
				if !slices.Equal(g.shape, in.shape) {
					panic(fmt.Sprintf("mx.VJP: rule of %s gave shape %v for input %d of shape %v", a.op.Name(), g.shape, j, in.shape))
				}
				if g.dtype != in.dtype {
					g = AsType(g, in.dtype)
				}
				cot[in] = accumulate(cot[in], g)
			}
		}
		delete(cot, a) // free what is no longer needed
	}
}

func accumulate(acc, g *Array) *Array {
	if acc == nil {
		return g
	}
	return Add(acc, g)
}

// ValueAndGrad returns a function that computes f and the gradients of its scalar result with
// respect to the arguments numbered argnums (all arguments when none are given).
func ValueAndGrad(f func(args ...*Array) *Array, argnums ...int) func(args ...*Array) (*Array, []*Array) {
	return func(args ...*Array) (*Array, []*Array) {
		nums := argnums
		if len(nums) == 0 {
			nums = make([]int, len(args))
			for i := range nums {
				nums[i] = i
			}
		}
		primals := make([]*Array, len(nums))
		for i, n := range nums {
			if n < 0 || n >= len(args) {
				panic(fmt.Sprintf("mx.ValueAndGrad: argnum %d out of range for %d arguments", n, len(args)))
			}
			primals[i] = args[n]
		}
		g := func(xs ...*Array) []*Array {
			full := append([]*Array(nil), args...)
			for i, n := range nums {
				full[n] = xs[i]
			}
			out := f(full...)
			if out.Size() != 1 {
				panic(fmt.Sprintf("mx.ValueAndGrad: function must return a scalar, got shape %v", out.shape))
			}
			return []*Array{out}
		}
		outs, grads := vjp(g, primals, func(outs []*Array) []*Array {
			return []*Array{OnesLike(outs[0])}
		})
		return outs[0], grads
	}
}

// Grad is ValueAndGrad without the value.
func Grad(f func(args ...*Array) *Array, argnums ...int) func(args ...*Array) []*Array {
	vg := ValueAndGrad(f, argnums...)
	return func(args ...*Array) []*Array {
		_, g := vg(args...)
		return g
	}
}
