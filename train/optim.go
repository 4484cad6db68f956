package train

import (
	"fmt"
	"strings"

	"github.com/lmxlab/lmxlab/mx"
)

// Optimizer is a pure update rule over flat lists of arrays, in the style of MLX's functional
// optimizers: nothing is stored in the optimizer itself, so a whole training step (gradients,
// clipping and update) can be traced into one compiled program with the parameters and the
// optimizer state as explicit inputs and outputs.
type Optimizer interface {
	// Name is the optimizer's config name ("adamw", "sgd", "lion").
	Name() string
	// Init returns the initial optimizer state for params: a flat list (for AdamW the first and
	// second moments of each parameter, in parameter order). State arrays are float32 whatever
	// the parameters' dtype.
	Init(params []*mx.Array) []*mx.Array
	// StateNames names the state arrays Init returns, given the parameters' names (used as
	// tensor names in optimizer.safetensors, e.g. "head.weight.m", "head.weight.v").
	StateNames(paramNames []string) []string
	// Update returns the new parameters and state. step is the 1-based update count and lr the
	// learning rate, both float32 scalar arrays (inputs of a compiled step, so changing them
	// never retraces). Arithmetic is done in float32; each new parameter is cast back to its
	// parameter's dtype.
	Update(params, grads, state []*mx.Array, step, lr *mx.Array) (newParams, newState []*mx.Array)
}

// OptimizerNames lists the names NewOptimizer accepts.
var OptimizerNames = []string{"adamw", "sgd", "lion"}

// NewOptimizer builds the optimizer named in a config with its default hyperparameters and the
// given weight decay: "adamw" (β 0.9/0.999, eps 1e-8), "sgd" (momentum 0.9) or "lion"
// (β 0.9/0.99).
func NewOptimizer(name string, weightDecay float64) (Optimizer, error) {
	switch strings.ToLower(name) {
	case "adamw":
		return NewAdamW(weightDecay), nil
	case "sgd":
		return &SGD{Momentum: 0.9, WeightDecay: weightDecay}, nil
	case "lion":
		return NewLion(weightDecay), nil
	}
	return nil, fmt.Errorf("train: unknown optimizer %q (valid: %s)", name, strings.Join(OptimizerNames, ", "))
}

func f32(a *mx.Array) *mx.Array { return mx.AsType(a, mx.Float32) }

func scalar32(v float64) *mx.Array { return mx.Scalar(v, mx.Float32) }

func checkLists(op string, params, grads, state []*mx.Array, perParam int) {
	if len(grads) != len(params) || len(state) != perParam*len(params) {
		panic(fmt.Sprintf("train.%s.Update: %d params, %d grads, %d state arrays (want %d per param)",
			op, len(params), len(grads), len(state), perParam))
	}
}

func zerosState(params []*mx.Array, perParam int) []*mx.Array {
	out := make([]*mx.Array, 0, perParam*len(params))
	for _, p := range params {
		for range perParam {
			out = append(out, mx.Zeros(p.Shape(), mx.Float32))
		}
	}
	return out
}

func suffixNames(names []string, suffixes ...string) []string {
	out := make([]string, 0, len(suffixes)*len(names))
	for _, n := range names {
		for _, s := range suffixes {
			out = append(out, n+"."+s)
		}
	}
	return out
}

// AdamW is Adam with decoupled weight decay and bias correction, exactly as PyTorch's
// torch.optim.AdamW (amsgrad off). With t the 1-based step, g the gradient and λ the decay:
//
//	w ← w − lr·λ·w                      (decoupled decay, applied with the update)
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	m̂ = m / (1−β1^t),  v̂ = v / (1−β2^t)
//	w ← w − lr·m̂ / (√v̂ + eps)
//
// PyTorch writes the last line as w − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + eps), the same value.
// (MLX's AdamW defaults to no bias correction; lmxlab uses PyTorch's form.)
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
}

// NewAdamW returns AdamW with β 0.9/0.999, eps 1e-8 and the given weight decay.
func NewAdamW(weightDecay float64) *AdamW {
	return &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay}
}

// Name implements Optimizer.
func (o *AdamW) Name() string { return "adamw" }

// Init returns zero first and second moments, interleaved per parameter (m0, v0, m1, v1, ...).
func (o *AdamW) Init(params []*mx.Array) []*mx.Array { return zerosState(params, 2) }

// StateNames implements Optimizer: "<param>.m" and "<param>.v".
func (o *AdamW) StateNames(paramNames []string) []string { return suffixNames(paramNames, "m", "v") }

// Update implements Optimizer.
func (o *AdamW) Update(params, grads, state []*mx.Array, step, lr *mx.Array) ([]*mx.Array, []*mx.Array) {
	checkLists("AdamW", params, grads, state, 2)
	step, lr = f32(step), f32(lr)
	one := scalar32(1)
	c1 := mx.Sub(one, mx.Pow(scalar32(o.Beta1), step)) // 1 − β1^t
	c2 := mx.Sub(one, mx.Pow(scalar32(o.Beta2), step)) // 1 − β2^t
	decay := mx.Sub(one, mx.MulScalar(lr, o.WeightDecay))
	newP := make([]*mx.Array, len(params))
	newS := make([]*mx.Array, len(state))
	for i, p := range params {
		w, g := f32(p), f32(grads[i])
		m := mx.Add(mx.MulScalar(state[2*i], o.Beta1), mx.MulScalar(g, 1-o.Beta1))
		v := mx.Add(mx.MulScalar(state[2*i+1], o.Beta2), mx.MulScalar(mx.Square(g), 1-o.Beta2))
		mHat := mx.Div(m, c1)
		vHat := mx.Div(v, c2)
		upd := mx.Mul(lr, mx.Div(mHat, mx.AddScalar(mx.Sqrt(vHat), o.Eps)))
		if o.WeightDecay != 0 {
			w = mx.Mul(w, decay)
		}
		newP[i] = mx.AsType(mx.Sub(w, upd), p.DType())
		newS[2*i], newS[2*i+1] = m, v
	}
	return newP, newS
}

// SGD is stochastic gradient descent with momentum, as torch.optim.SGD with dampening 0:
//
//	g ← g + λ·w                 (coupled L2 weight decay)
//	b ← μ·b + g                 (b starts at 0, so the first step has b = g as in PyTorch)
//	g ← g + μ·b if Nesterov, else b
//	w ← w − lr·g
//
// With Momentum 0 there is no state.
type SGD struct {
	Momentum, WeightDecay float64
	Nesterov              bool
}

// Name implements Optimizer.
func (o *SGD) Name() string { return "sgd" }

func (o *SGD) perParam() int {
	if o.Momentum == 0 {
		return 0
	}
	return 1
}

// Init returns one zero momentum buffer per parameter (none without momentum).
func (o *SGD) Init(params []*mx.Array) []*mx.Array { return zerosState(params, o.perParam()) }

// StateNames implements Optimizer: "<param>.momentum_buffer".
func (o *SGD) StateNames(paramNames []string) []string {
	if o.perParam() == 0 {
		return nil
	}
	return suffixNames(paramNames, "momentum_buffer")
}

// Update implements Optimizer.
func (o *SGD) Update(params, grads, state []*mx.Array, step, lr *mx.Array) ([]*mx.Array, []*mx.Array) {
	checkLists("SGD", params, grads, state, o.perParam())
	lr = f32(lr)
	newP := make([]*mx.Array, len(params))
	newS := make([]*mx.Array, len(state))
	for i, p := range params {
		w, g := f32(p), f32(grads[i])
		if o.WeightDecay != 0 {
			g = mx.Add(g, mx.MulScalar(w, o.WeightDecay))
		}
		if o.Momentum != 0 {
			b := mx.Add(mx.MulScalar(state[i], o.Momentum), g)
			newS[i] = b
			if o.Nesterov {
				g = mx.Add(g, mx.MulScalar(b, o.Momentum))
			} else {
				g = b
			}
		}
		newP[i] = mx.AsType(mx.Sub(w, mx.Mul(lr, g)), p.DType())
	}
	return newP, newS
}

// Lion is the sign-momentum optimizer of Chen et al. 2023 ("Symbolic Discovery of Optimization
// Algorithms"), with decoupled weight decay:
//
//	c = β1·m + (1−β1)·g
//	w ← w·(1 − lr·λ) − lr·sign(c)
//	m ← β2·m + (1−β2)·g
type Lion struct {
	Beta1, Beta2, WeightDecay float64
}

// NewLion returns Lion with β 0.9/0.99 and the given weight decay.
func NewLion(weightDecay float64) *Lion {
	return &Lion{Beta1: 0.9, Beta2: 0.99, WeightDecay: weightDecay}
}

// Name implements Optimizer.
func (o *Lion) Name() string { return "lion" }

// Init returns one zero momentum per parameter.
func (o *Lion) Init(params []*mx.Array) []*mx.Array { return zerosState(params, 1) }

// StateNames implements Optimizer: "<param>.m".
func (o *Lion) StateNames(paramNames []string) []string { return suffixNames(paramNames, "m") }

// Update implements Optimizer.
func (o *Lion) Update(params, grads, state []*mx.Array, step, lr *mx.Array) ([]*mx.Array, []*mx.Array) {
	checkLists("Lion", params, grads, state, 1)
	lr = f32(lr)
	decay := mx.Sub(scalar32(1), mx.MulScalar(lr, o.WeightDecay))
	newP := make([]*mx.Array, len(params))
	newS := make([]*mx.Array, len(state))
	for i, p := range params {
		w, g := f32(p), f32(grads[i])
		c := mx.Add(mx.MulScalar(state[i], o.Beta1), mx.MulScalar(g, 1-o.Beta1))
		if o.WeightDecay != 0 {
			w = mx.Mul(w, decay)
		}
		newP[i] = mx.AsType(mx.Sub(w, mx.Mul(lr, mx.Sign(c))), p.DType())
		newS[i] = mx.Add(mx.MulScalar(state[i], o.Beta2), mx.MulScalar(g, 1-o.Beta2))
	}
	return newP, newS
}
