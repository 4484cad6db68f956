package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Batch is one batch of token ids: inputs X and targets Y, int32 (B, L), Y shifted by one.
type Batch struct{ X, Y *mx.Array }

// BatchSource is a stream of batches; Next reports false when it is exhausted.
type BatchSource interface {
	Next() (Batch, bool)
}

// Resumable is a BatchSource whose position can be saved into a checkpoint and restored, so
// that a resumed run sees exactly the batches the interrupted one would have seen. State must
// describe the position after the last batch Next returned (a source that prefetches must not
// count batches it has not handed out).
type Resumable interface {
	State() json.RawMessage
	Restore(json.RawMessage) error
}

// Trainer runs the training loop: it draws batches, runs one update per
// GradAccumulationSteps micro-batches (compiled or eager), evaluates, calls callbacks, and
// writes checkpoints. Build Config from DefaultConfig (a zero Config names no optimizer).
type Trainer struct {
	// Model is a pointer to an nn module; its trainable parameters (nn.Trainable) are trained
	// and its fields always hold the current, realized parameters between updates.
	Model any
	// Loss is the mean loss of a batch computed with Model's current parameter fields (a
	// closure over the model). Set Loss or LossWithKey.
	Loss func(x, y *mx.Array) *mx.Array
	// LossWithKey is Loss for models that need randomness (dropout): key is a uint32 [2]
	// random key derived from Config.Seed, the update and the micro-batch, so runs are
	// reproducible and resumable. It is nil during evaluation (run deterministically).
	LossWithKey func(x, y, key *mx.Array) *mx.Array
	Config      Config
	// Optimizer defaults to NewOptimizer(Config.Optimizer, Config.WeightDecay).
	Optimizer Optimizer
	// Schedule defaults to Config.Schedule().
	Schedule  Schedule
	Callbacks []Callback
	// EvalData returns a fresh validation stream for each evaluation; nil disables evaluation.
	EvalData func() BatchSource
	// ModelConfig is written as config.json into checkpoints (the model's JSON config).
	ModelConfig json.RawMessage
	// ExtraFiles are written into every checkpoint beside the standard files (name → contents),
	// e.g. the tokenizer the model was trained with.
	ExtraFiles map[string][]byte
	// FlopsPerToken is the training cost of one token for FLOP budgets and the flops metric;
	// 0 means 6 × the model's parameter count (the usual dense-transformer estimate).
	FlopsPerToken float64
	// StopReason says why the last Train returned: "max_steps", "data_exhausted", or the reason
	// of the callback that stopped it ("early_stopping", "time_budget", "flop_budget", ...).
	StopReason string

	step          int
	tokens        int64
	elapsedBefore float64
	clock         time.Time
	numParams     int // of the model, for FLOP budgets (flopsPerToken)
	bestVal       float64
	haveBest      bool
	optState      []*mx.Array
	pendingData   json.RawMessage
	st            *stepper
}

// Steps returns the number of updates done so far (restored by LoadCheckpoint).
func (t *Trainer) Steps() int { return t.step }

// Tokens returns the number of training tokens consumed so far.
func (t *Trainer) Tokens() int64 { return t.tokens }

// OptimizerState returns the current optimizer state arrays (nil before the first update).
func (t *Trainer) OptimizerState() []*mx.Array { return t.optState }

// BestValLoss returns the lowest evaluation loss seen, and false if there was none.
func (t *Trainer) BestValLoss() (float64, bool) { return t.bestVal, t.haveBest }

// Reset forgets the compiled step and the optimizer state (the model is left alone), for when
// the model's parameters or trainable set change between runs.
func (t *Trainer) Reset() {
	t.st, t.optState, t.numParams = nil, nil, 0
}

// init builds whatever is missing: optimizer, schedule, optimizer state, stepper.
func (t *Trainer) init() error {
	if t.Model == nil {
		return errors.New("train: Trainer.Model is nil")
	}
	if (t.Loss == nil) == (t.LossWithKey == nil) {
		return errors.New("train: set exactly one of Trainer.Loss and Trainer.LossWithKey")
	}
	if t.Optimizer == nil {
		opt, err := NewOptimizer(t.Config.Optimizer, t.Config.WeightDecay)
		if err != nil {
			return err
		}
		t.Optimizer = opt
	}
	if t.Schedule == nil {
		s, err := t.Config.Schedule()
		if err != nil {
			return err
		}
		t.Schedule = s
	}
	if t.optState == nil {
		t.optState = t.Optimizer.Init(nn.Values(nn.Trainable(t.Model)))
	}
	if t.st == nil {
		t.st = newStepper(t, len(t.optState))
	}
	t.st.check()
	if len(t.optState) != t.st.nState {
		return fmt.Errorf("train: %d optimizer state arrays for a step built with %d", len(t.optState), t.st.nState)
	}
	return nil
}

func (t *Trainer) mustInit() {
	if err := t.init(); err != nil {
		panic(err.Error())
	}
}

func (t *Trainer) flopsPerToken() float64 {
	if t.FlopsPerToken > 0 {
		return t.FlopsPerToken
	}
	if t.numParams == 0 { // counted once: Reset clears it
		t.numParams = nn.NumParams(t.Model)
	}
	return 6 * float64(t.numParams)
}

func (t *Trainer) elapsed() float64 {
	if t.clock.IsZero() {
		return t.elapsedBefore
	}
	return t.elapsedBefore + time.Since(t.clock).Seconds()
}

// Step runs one update on one batch (no accumulation) and returns its metrics.
func (t *Trainer) Step(b Batch) Metrics { return t.StepAccumulated([]Batch{b}) }

// StepAccumulated runs one update on the mean gradient of the micro-batches bs (equal sizes
// give the gradient of their concatenation) and returns its metrics: the mean loss, the
// gradient norm before clipping, and the learning rate this update used.
func (t *Trainer) StepAccumulated(bs []Batch) Metrics {
	if len(bs) == 0 {
		panic("train: StepAccumulated needs at least one batch")
	}
	t.mustInit()
	start := time.Now()
	if t.clock.IsZero() {
		t.clock = start
	}
	lr := t.Schedule(t.step)
	var keys []*mx.Array
	if t.LossWithKey != nil {
		for m := range bs {
			keys = append(keys, stepKey(t.Config.Seed, t.step, m))
		}
	}
	r := t.st.step(bs, keys, t.optState, hostScalar(float64(t.step+1)), hostScalar(lr))
	t.take(r)
	var tok int64
	for _, b := range bs {
		tok += int64(b.X.Size())
	}
	return t.advance(r.loss.Item(), r.norm.Item(), lr, tok, time.Since(start).Seconds())
}

// StepMany runs one update per batch of bs, in order, as one compiled program when steps are
// compiled (on the gpu device each call costs tens of microseconds plus a few per parameter and
// state buffer, which k updates then pay once), and returns the metrics of each update. The
// results equal len(bs) calls of Step, bit for bit; callbacks are not run (as with Step). A
// different len(bs) compiles another program.
func (t *Trainer) StepMany(bs []Batch) []Metrics {
	if len(bs) == 0 {
		panic("train: StepMany needs at least one batch")
	}
	t.mustInit()
	start := time.Now()
	if t.clock.IsZero() {
		t.clock = start
	}
	steps, lrs, lr64 := make([]float32, len(bs)), make([]float32, len(bs)), make([]float64, len(bs))
	var keys []*mx.Array
	for i := range bs {
		lr64[i] = t.Schedule(t.step + i)
		steps[i], lrs[i] = float32(t.step+i+1), float32(lr64[i])
		if t.LossWithKey != nil {
			keys = append(keys, stepKey(t.Config.Seed, t.step+i, 0))
		}
	}
	r := t.st.stepMany(bs, keys, t.optState, mx.FromSlice(steps, len(bs)), mx.FromSlice(lrs, len(bs)))
	t.take(r)
	losses, norms := r.loss.Float64s(), r.norm.Float64s()
	dt := time.Since(start).Seconds() / float64(len(bs))
	out := make([]Metrics, len(bs))
	for i, b := range bs {
		out[i] = t.advance(losses[i], norms[i], lr64[i], int64(b.X.Size()), dt)
	}
	return out
}

// evalDue and checkpointDue tell whether Train evaluates or checkpoints after update step.
func (t *Trainer) evalDue(step int) bool {
	return t.EvalData != nil && t.Config.EvalInterval > 0 && step%t.Config.EvalInterval == 0
}

func (t *Trainer) checkpointDue(step int) bool {
	return t.Config.CheckpointDir != "" && t.Config.CheckpointInterval > 0 && step%t.Config.CheckpointInterval == 0
}

// callSize is how many updates the next call runs: up to perCall, ending at MaxSteps or at the
// next evaluation or checkpoint step.
func (t *Trainer) callSize(perCall int) int {
	n := min(perCall, t.Config.MaxSteps-t.step)
	for k := 1; k < n; k++ {
		if t.evalDue(t.step+k) || t.checkpointDue(t.step+k) {
			return k
		}
	}
	return n
}

// take installs an update's parameters and optimizer state.
func (t *Trainer) take(r stepResult) {
	vals := nn.Values(nn.Parameters(t.Model))
	for j, i := range t.st.idx {
		vals[i] = r.params[j]
	}
	nn.UpdateList(t.Model, vals)
	t.optState = r.states
}

// advance counts one update of tok tokens that took dt seconds and returns its metrics.
func (t *Trainer) advance(loss, norm, lr float64, tok int64, dt float64) Metrics {
	t.step++
	t.tokens += tok
	m := Metrics{
		Step:         t.step,
		Loss:         loss,
		LearningRate: lr,
		GradNorm:     norm,
		Tokens:       t.tokens,
		Flops:        float64(t.tokens) * t.flopsPerToken(),
		Elapsed:      t.elapsed(),
		StepTime:     dt,
	}
	if dt > 0 {
		m.TokensPerS = float64(tok) / dt
	}
	return m
}

// Evaluate returns the mean of the per-batch mean losses over Config.EvalBatches batches (all of
// them when 0) of a fresh EvalData() stream, or NaN when there is no evaluation data.
func (t *Trainer) Evaluate() float64 {
	if t.EvalData == nil {
		return math.NaN()
	}
	t.mustInit()
	src := t.EvalData()
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	sum, n := 0.0, 0
	for t.Config.EvalBatches == 0 || n < t.Config.EvalBatches {
		b, ok := src.Next()
		if !ok {
			break
		}
		sum += t.st.evalLoss(b)
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Train runs updates until Config.MaxSteps updates are done (counting those restored from a
// checkpoint), data is exhausted, or a callback (early stopping, a budget) stops it. It returns
// the metrics of every update of this call; StopReason says why it stopped. A data source
// given after LoadCheckpoint is restored to the checkpoint's position (it must be Resumable).
func (t *Trainer) Train(data BatchSource) ([]Metrics, error) {
	if err := t.Config.Validate(); err != nil {
		return nil, err
	}
	if err := t.init(); err != nil {
		return nil, err
	}
	if t.Config.FlopBudget > 0 && t.flopsPerToken() <= 0 {
		return nil, errors.New("train: flop_budget is set but the FLOPs per token are 0")
	}
	if t.pendingData != nil {
		r, ok := data.(Resumable)
		if !ok {
			return nil, fmt.Errorf("train: the checkpoint holds a data position but %T is not Resumable", data)
		}
		if err := r.Restore(t.pendingData); err != nil {
			return nil, fmt.Errorf("train: restoring the data position: %w", err)
		}
		t.pendingData = nil
	}
	cbs := t.Callbacks
	if t.Config.TimeBudgetS > 0 || t.Config.FlopBudget > 0 {
		cbs = append(cbs[:len(cbs):len(cbs)], &Budget{TimeS: t.Config.TimeBudgetS, Flops: t.Config.FlopBudget})
	}
	t.clock = time.Now()
	defer func() {
		t.elapsedBefore += time.Since(t.clock).Seconds()
		t.clock = time.Time{}
	}()
	for _, cb := range cbs {
		cb.OnTrainBegin(t)
	}
	var history []Metrics
	saved := -1
	t.StopReason = "max_steps"
	accum, perCall := t.Config.GradAccumulationSteps, t.Config.UpdatesPerCall()
	// after evaluates, runs the callbacks, records and checkpoints one update's metrics; it
	// returns the reason a callback gave to stop ("" to go on). Evaluation and checkpoint steps
	// end a call, so the model then holds m.Step's parameters.
	after := func(m Metrics) (string, error) {
		stop := ""
		if t.evalDue(m.Step) {
			v := t.Evaluate()
			m.EvalLoss = &v
			if !math.IsNaN(v) && (!t.haveBest || v < t.bestVal) {
				t.bestVal, t.haveBest = v, true
			}
			for _, cb := range cbs {
				if cb.OnEval(m.Step, &m) && stop == "" {
					stop = reasonOf(cb)
				}
			}
		}
		for _, cb := range cbs {
			if cb.OnStepEnd(m.Step, &m) && stop == "" {
				stop = reasonOf(cb)
			}
		}
		history = append(history, m)
		if t.checkpointDue(m.Step) {
			if err := t.SaveCheckpoint(t.Config.CheckpointDir, data); err != nil {
				return stop, err
			}
			saved = t.step
		}
		return stop, nil
	}
	for t.step < t.Config.MaxSteps {
		// One update of accum micro-batches, or up to perCall updates of one batch each, ending
		// at the next evaluation or checkpoint step.
		want := accum
		if perCall > 1 {
			want = t.callSize(perCall)
		}
		bs := make([]Batch, 0, want)
		for len(bs) < want {
			b, ok := data.Next()
			if !ok {
				break
			}
			bs = append(bs, b)
		}
		if len(bs) == 0 {
			t.StopReason = "data_exhausted"
			break
		}
		var ms []Metrics
		if perCall > 1 && len(bs) > 1 {
			ms = t.StepMany(bs)
		} else {
			ms = []Metrics{t.StepAccumulated(bs)}
		}
		stop := ""
		for _, m := range ms {
			r, err := after(m)
			if err != nil {
				return history, err
			}
			if stop == "" {
				stop = r
			}
		}
		if stop != "" {
			t.StopReason = stop
			break
		}
		if len(bs) < want {
			t.StopReason = "data_exhausted"
			break
		}
	}
	if t.Config.CheckpointDir != "" && saved != t.step {
		if err := t.SaveCheckpoint(t.Config.CheckpointDir, data); err != nil {
			return history, err
		}
	}
	for _, cb := range cbs {
		cb.OnTrainEnd(history)
	}
	return history, nil
}

func reasonOf(cb Callback) string {
	if r, ok := cb.(interface{ Reason() string }); ok && r.Reason() != "" {
		return r.Reason()
	}
	return fmt.Sprintf("stopped by %T", cb)
}
