package train

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// stepper holds the pure functions of one training update and, when compiling, their compiled
// forms. Every function takes all of the model's parameters (frozen ones too, so nothing but
// what the loss closure itself captures is frozen into a compiled program) and sets the model's
// fields to its arguments for the duration of the call, restoring the real arrays afterwards —
// also when tracing panics.
//
// Argument layouts (P = all parameters, T = trainable ones, S = optimizer state):
//
//	single: P, S, x, y, step, lr [, key]   → loss, grad_norm, T', S'
//	grad:   P, G(T), loss_sum, x, y [, key] → loss_sum', G'(T)      (one micro-batch, float32 sums)
//	apply:  T, S, G(T), loss_sum, 1/n, step, lr → loss, grad_norm, T', S'
//	eval:   P, x, y → loss
//	multi:  P, S, x₁, y₁, …, x_k, y_k, steps[k], lrs[k] [, key₁ … key_k] → losses[k], norms[k], T', S'
//	        (k updates, one batch each, in one program: see Trainer.StepMany)
type stepper struct {
	t       *Trainer
	names   []string // trainable parameter names
	idx     []int    // their positions among all parameters
	nAll    int
	nState  int
	withKey bool

	single, grad, apply, eval, multi *mx.Compiled // nil when running eagerly
}

func newStepper(t *Trainer, nState int) *stepper {
	all := nn.Parameters(t.Model)
	pos := map[string]int{}
	for i, p := range all {
		pos[p.Name] = i
	}
	s := &stepper{t: t, nAll: len(all), nState: nState, withKey: t.LossWithKey != nil}
	for _, p := range nn.Trainable(t.Model) {
		s.names = append(s.names, p.Name)
		s.idx = append(s.idx, pos[p.Name])
	}
	if t.Config.CompileStep {
		s.single = mx.Compile(s.singleFn)
		s.grad = mx.Compile(s.gradFn)
		s.apply = mx.Compile(s.applyFn)
		s.eval = mx.Compile(s.evalFn)
		s.multi = mx.Compile(s.multiFn)
		if t.Config.DonateBuffers {
			// single: (all parameters, state, ...); apply: (trainable, state, accumulators, ...).
			var give []int
			for _, i := range s.idx {
				give = append(give, i)
			}
			for k := range nState {
				give = append(give, s.nAll+k)
			}
			s.single.Donate(give...)
			s.multi.Donate(give...) // the same leading layout
			give = give[:0]
			for k := range len(s.idx) + nState {
				give = append(give, k)
			}
			s.apply.Donate(give...)
		}
	}
	return s
}

// check panics if the model's trainable set changed since the stepper was built.
func (s *stepper) check() {
	tr := nn.Trainable(s.t.Model)
	ok := len(tr) == len(s.names) && len(nn.Parameters(s.t.Model)) == s.nAll
	for i := 0; ok && i < len(tr); i++ {
		ok = tr[i].Name == s.names[i]
	}
	if !ok {
		panic("train: the model's parameters or trainable set changed after training started; " +
			"call Trainer.Reset (which also resets the optimizer state)")
	}
}

func (s *stepper) loss(x, y, key *mx.Array) *mx.Array {
	var l *mx.Array
	if s.t.LossWithKey != nil {
		l = s.t.LossWithKey(x, y, key)
	} else {
		l = s.t.Loss(x, y)
	}
	if l.Size() != 1 {
		panic(fmt.Sprintf("train: the loss must be a scalar, got shape %v", l.Shape()))
	}
	return f32(mx.Reshape(l))
}

// setModel points the model's parameter fields at vals and returns a function restoring the
// arrays it had before.
func (s *stepper) setModel(vals []*mx.Array) (restore func()) {
	orig := nn.Values(nn.Parameters(s.t.Model))
	nn.UpdateList(s.t.Model, vals)
	return func() { nn.UpdateList(s.t.Model, orig) }
}

func (s *stepper) trainable(all []*mx.Array) []*mx.Array {
	out := make([]*mx.Array, len(s.idx))
	for j, i := range s.idx {
		out[j] = all[i]
	}
	return out
}

// lossAndGrad computes the loss with the model's parameters set to all, and its gradients with
// respect to the trainable ones.
func (s *stepper) lossAndGrad(all []*mx.Array, x, y, key *mx.Array) (*mx.Array, []*mx.Array) {
	restore := s.setModel(all)
	defer restore()
	f := func(ps ...*mx.Array) *mx.Array {
		vals := slices.Clone(all)
		for j, i := range s.idx {
			vals[i] = ps[j]
		}
		nn.UpdateList(s.t.Model, vals)
		return s.loss(x, y, key)
	}
	return mx.ValueAndGrad(f)(s.trainable(all)...)
}

func (s *stepper) key(args []*mx.Array, at int) *mx.Array {
	if s.withKey {
		return args[at]
	}
	return nil
}

func (s *stepper) update(params, grads, state []*mx.Array, step, lr *mx.Array) []*mx.Array {
	clipped, norm := ClipGradNorm(grads, s.t.Config.MaxGradNorm)
	newP, newS := s.t.Optimizer.Update(params, clipped, state, step, lr)
	return slices.Concat([]*mx.Array{norm}, newP, newS)
}

func (s *stepper) singleFn(args ...*mx.Array) []*mx.Array {
	n, ns := s.nAll, s.nState
	all, state := args[:n], args[n:n+ns]
	x, y, step, lr := args[n+ns], args[n+ns+1], args[n+ns+2], args[n+ns+3]
	loss, grads := s.lossAndGrad(all, x, y, s.key(args, n+ns+4))
	return append([]*mx.Array{loss}, s.update(s.trainable(all), grads, state, step, lr)...)
}

// multiFn runs k single updates one after another, each on its own batch, step and learning rate.
func (s *stepper) multiFn(args ...*mx.Array) []*mx.Array {
	n, ns := s.nAll, s.nState
	all, state := slices.Clone(args[:n]), args[n:n+ns]
	rest := args[n+ns:]
	perBatch := 2 // x, y [, key]
	if s.withKey {
		perBatch = 3
	}
	k := (len(rest) - 2) / perBatch
	steps, lrs := rest[2*k], rest[2*k+1]
	losses, norms := make([]*mx.Array, k), make([]*mx.Array, k)
	for i := range k {
		var key *mx.Array
		if s.withKey {
			key = rest[2*k+2+i]
		}
		loss, grads := s.lossAndGrad(all, rest[2*i], rest[2*i+1], key)
		out := s.update(s.trainable(all), grads, state, mx.Reshape(mx.SliceAxis(steps, 0, i, i+1)), mx.Reshape(mx.SliceAxis(lrs, 0, i, i+1)))
		losses[i], norms[i] = loss, out[0]
		for j, p := range out[1 : 1+len(s.idx)] {
			all[s.idx[j]] = p
		}
		state = out[1+len(s.idx):]
	}
	return slices.Concat([]*mx.Array{mx.Stack(losses, 0), mx.Stack(norms, 0)}, s.trainable(all), state)
}

func (s *stepper) gradFn(args ...*mx.Array) []*mx.Array {
	n, nt := s.nAll, len(s.idx)
	all, acc, lossSum := args[:n], args[n:n+nt], args[n+nt]
	x, y := args[n+nt+1], args[n+nt+2]
	loss, grads := s.lossAndGrad(all, x, y, s.key(args, n+nt+3))
	out := []*mx.Array{mx.Add(lossSum, loss)}
	for i, g := range grads {
		out = append(out, mx.Add(acc[i], f32(g)))
	}
	return out
}

func (s *stepper) applyFn(args ...*mx.Array) []*mx.Array {
	nt, ns := len(s.idx), s.nState
	params, state, acc := args[:nt], args[nt:nt+ns], args[nt+ns:2*nt+ns]
	lossSum, inv, step, lr := args[2*nt+ns], args[2*nt+ns+1], args[2*nt+ns+2], args[2*nt+ns+3]
	grads := make([]*mx.Array, nt)
	for i, g := range acc {
		grads[i] = mx.Mul(g, inv)
	}
	return append([]*mx.Array{mx.Mul(lossSum, inv)}, s.update(params, grads, state, step, lr)...)
}

func (s *stepper) evalFn(args ...*mx.Array) []*mx.Array {
	restore := s.setModel(args[:s.nAll])
	defer restore()
	return []*mx.Array{s.loss(args[s.nAll], args[s.nAll+1], nil)}
}

// run calls fn compiled (c) or eagerly; an eager call evaluates all results in one program.
func run(c *mx.Compiled, fn func(...*mx.Array) []*mx.Array, args []*mx.Array) []*mx.Array {
	if c != nil {
		return c.Call(args...)
	}
	out := fn(args...)
	mx.Eval(out...)
	return out
}

// stepResult is what one update produced.
type stepResult struct {
	loss, norm     *mx.Array
	params, states []*mx.Array
}

func (s *stepper) split(out []*mx.Array) stepResult {
	nt := len(s.idx)
	return stepResult{loss: out[0], norm: out[1], params: out[2 : 2+nt], states: out[2+nt:]}
}

// step runs one update over the micro-batches bs (one batch: no accumulation) and returns the
// mean loss, the gradient norm, the new trainable parameters and the new state. keys holds one
// random key per micro-batch when the loss takes keys.
func (s *stepper) step(bs []Batch, keys []*mx.Array, state []*mx.Array, step, lr *mx.Array) stepResult {
	all := nn.Values(nn.Parameters(s.t.Model))
	if len(bs) == 1 {
		args := slices.Concat(all, state, []*mx.Array{bs[0].X, bs[0].Y, step, lr})
		if s.withKey {
			args = append(args, keys[0])
		}
		return s.split(run(s.single, s.singleFn, args))
	}
	acc := make([]*mx.Array, len(s.idx))
	for i, j := range s.idx {
		acc[i] = mx.Zeros(all[j].Shape(), mx.Float32)
	}
	lossSum := scalar32(0)
	for m, b := range bs {
		args := slices.Concat(all, acc, []*mx.Array{lossSum, b.X, b.Y})
		if s.withKey {
			args = append(args, keys[m])
		}
		out := run(s.grad, s.gradFn, args)
		lossSum, acc = out[0], out[1:]
	}
	inv := hostScalar(1 / float64(len(bs)))
	args := slices.Concat(s.trainable(all), state, acc, []*mx.Array{lossSum, inv, step, lr})
	return s.split(run(s.apply, s.applyFn, args))
}

// stepMany runs one update per batch of bs in one program (layout multi): the loss and norm of
// stepResult hold the k losses and gradient norms.
func (s *stepper) stepMany(bs []Batch, keys []*mx.Array, state []*mx.Array, steps, lrs *mx.Array) stepResult {
	args := slices.Concat(nn.Values(nn.Parameters(s.t.Model)), state)
	for _, b := range bs {
		args = append(args, b.X, b.Y)
	}
	args = append(args, steps, lrs)
	if s.withKey {
		args = append(args, keys...)
	}
	return s.split(run(s.multi, s.multiFn, args))
}

// evalLoss is the loss of one batch under the model's current parameters (no key).
func (s *stepper) evalLoss(b Batch) float64 {
	if s.eval == nil {
		return s.loss(b.X, b.Y, nil).Item()
	}
	all := nn.Values(nn.Parameters(s.t.Model))
	return s.eval.Call(append(all, b.X, b.Y)...)[0].Item()
}

// hostScalar is a realized float32 scalar.
func hostScalar(v float64) *mx.Array { return mx.FromSlice([]float32{float32(v)}) }

// stepKey derives the random key (uint32 [2]) of micro-batch micro of update step from the seed
// with SplitMix64, so keys depend only on (seed, step, micro) and a resumed run sees the same.
func stepKey(seed int64, step, micro int) *mx.Array {
	z := uint64(seed)*0x9E3779B97F4A7C15 ^ uint64(step)<<20 ^ uint64(micro)
	z = splitmix(splitmix(z) + uint64(step))
	return mx.FromSlice([]uint32{uint32(z >> 32), uint32(z)}, 2)
}

func splitmix(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}
