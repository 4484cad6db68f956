package train

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// Callback observes training. The Trainer calls OnTrainBegin once per Train, then for every
// update OnEval (only when it evaluated) and OnStepEnd, and finally OnTrainEnd with the metrics
// of that Train call. Callbacks run in order and may add values to the metrics (Metrics.Set),
// so put producers before consumers. Returning true from OnEval or OnStepEnd stops training
// after the current update (the final checkpoint is still written); a callback with a
// Reason() string method names the Trainer's StopReason.
type Callback interface {
	OnTrainBegin(t *Trainer)
	OnStepEnd(step int, m *Metrics) (stop bool)
	OnEval(step int, m *Metrics) (stop bool)
	OnTrainEnd(history []Metrics)
}

// BaseCallback implements Callback with no-ops; embed it to implement only some methods.
type BaseCallback struct{}

// OnTrainBegin implements Callback.
func (BaseCallback) OnTrainBegin(*Trainer) {}

// OnStepEnd implements Callback.
func (BaseCallback) OnStepEnd(int, *Metrics) bool { return false }

// OnEval implements Callback.
func (BaseCallback) OnEval(int, *Metrics) bool { return false }

// OnTrainEnd implements Callback.
func (BaseCallback) OnTrainEnd([]Metrics) {}

// Logger prints a text line every Interval updates (Config.LogInterval when 0), one per
// evaluation, and a summary at the end:
//
//	step 10: loss=2.3456, lr=3.00e-04, grad_norm=0.812, tok/s=12345
//	step 100 eval: loss=2.1234
//	Training complete: 1000 steps in 61.2s
type Logger struct {
	BaseCallback
	Out      io.Writer
	Interval int

	interval int
	start    time.Time
}

// OnTrainBegin implements Callback.
func (l *Logger) OnTrainBegin(t *Trainer) {
	l.interval = l.Interval
	if l.interval == 0 {
		l.interval = t.Config.LogInterval
	}
	l.start = time.Now()
}

// OnStepEnd implements Callback.
func (l *Logger) OnStepEnd(step int, m *Metrics) bool {
	if l.interval > 0 && step%l.interval == 0 {
		fmt.Fprintf(l.Out, "step %d: loss=%.4f, lr=%.2e, grad_norm=%.3f, tok/s=%.0f\n",
			step, m.Loss, m.LearningRate, m.GradNorm, m.TokensPerS)
	}
	return false
}

// OnEval implements Callback.
func (l *Logger) OnEval(step int, m *Metrics) bool {
	fmt.Fprintf(l.Out, "step %d eval: loss=%.4f\n", step, *m.EvalLoss)
	return false
}

// OnTrainEnd implements Callback.
func (l *Logger) OnTrainEnd(history []Metrics) {
	fmt.Fprintf(l.Out, "Training complete: %d steps in %.1fs\n", len(history), time.Since(l.start).Seconds())
}

// JSONLogger writes one JSON object (Metrics.MarshalJSON) per line for every Interval-th update
// (Config.LogInterval when 0), every evaluated update, and the last update.
type JSONLogger struct {
	BaseCallback
	Out      io.Writer
	Interval int
	// Err holds the first write error.
	Err error

	interval int
	last     int
}

// OnTrainBegin implements Callback.
func (j *JSONLogger) OnTrainBegin(t *Trainer) {
	j.interval = j.Interval
	if j.interval == 0 {
		j.interval = t.Config.LogInterval
	}
	j.last = -1
}

func (j *JSONLogger) write(m *Metrics) {
	b, _ := json.Marshal(m)
	if _, err := j.Out.Write(append(b, '\n')); err != nil && j.Err == nil {
		j.Err = err
	}
	j.last = m.Step
}

// OnStepEnd implements Callback.
func (j *JSONLogger) OnStepEnd(step int, m *Metrics) bool {
	if (j.interval > 0 && step%j.interval == 0) || m.EvalLoss != nil {
		j.write(m)
	}
	return false
}

// OnTrainEnd implements Callback.
func (j *JSONLogger) OnTrainEnd(history []Metrics) {
	if n := len(history); n > 0 && history[n-1].Step != j.last {
		j.write(&history[n-1])
	}
}

// Throughput measures the wall-clock rate between updates (training, evaluation and callbacks
// included). Every Interval updates (Config.LogInterval when 0) it adds "steps_per_s" and
// "tokens_per_s_avg" (means over that window); at the end it prints a summary to Out (if set):
//
//	Throughput summary: 1000 steps in 61.2s (16.3 steps/s, 66800 tok/s)
type Throughput struct {
	BaseCallback
	Out      io.Writer
	Interval int

	interval            int
	start, last         time.Time
	windowS             float64
	windowSteps         int
	windowTok, startTok int64
	lastTok             int64
	totalSteps          int
}

// OnTrainBegin implements Callback.
func (p *Throughput) OnTrainBegin(t *Trainer) {
	p.interval = p.Interval
	if p.interval == 0 {
		p.interval = t.Config.LogInterval
	}
	p.start = time.Now()
	p.last = p.start
	p.startTok, p.lastTok = t.Tokens(), t.Tokens()
	p.windowS, p.windowSteps, p.windowTok, p.totalSteps = 0, 0, 0, 0
}

// OnStepEnd implements Callback.
func (p *Throughput) OnStepEnd(step int, m *Metrics) bool {
	now := time.Now()
	p.windowS += now.Sub(p.last).Seconds()
	p.windowSteps++
	p.windowTok += m.Tokens - p.lastTok
	p.last, p.lastTok = now, m.Tokens
	p.totalSteps++
	if p.interval > 0 && step%p.interval == 0 && p.windowS > 0 {
		m.Set("steps_per_s", float64(p.windowSteps)/p.windowS)
		m.Set("tokens_per_s_avg", float64(p.windowTok)/p.windowS)
		p.windowS, p.windowSteps, p.windowTok = 0, 0, 0
	}
	return false
}

// OnTrainEnd implements Callback.
func (p *Throughput) OnTrainEnd([]Metrics) {
	if p.Out == nil {
		return
	}
	d := time.Since(p.start).Seconds()
	if d <= 0 {
		d = math.SmallestNonzeroFloat64
	}
	fmt.Fprintf(p.Out, "Throughput summary: %d steps in %.1fs (%.1f steps/s, %.0f tok/s)\n",
		p.totalSteps, d, float64(p.totalSteps)/d, float64(p.lastTok-p.startTok)/d)
}

// ValTracker keeps the best evaluation loss and adds "best_val_loss" and "train_val_gap" (train
// loss − eval loss) to evaluated updates. With InitialEval it evaluates before the first update
// (Init), with FinalEval after the last (Final); Out, if set, gets a line for each.
type ValTracker struct {
	BaseCallback
	Out                    io.Writer
	InitialEval, FinalEval bool

	Best, Init, Final float64 // NaN until known
	t                 *Trainer
}

// OnTrainBegin implements Callback.
func (v *ValTracker) OnTrainBegin(t *Trainer) {
	v.t = t
	v.Best, v.Init, v.Final = math.NaN(), math.NaN(), math.NaN()
	if b, ok := t.BestValLoss(); ok {
		v.Best = b
	}
	if v.InitialEval && t.EvalData != nil {
		v.Init = t.Evaluate()
		if v.Out != nil {
			fmt.Fprintf(v.Out, "init_val_loss=%.4f\n", v.Init)
		}
	}
}

// OnEval implements Callback.
func (v *ValTracker) OnEval(step int, m *Metrics) bool {
	e := *m.EvalLoss
	if math.IsNaN(v.Best) || e < v.Best {
		v.Best = e
	}
	m.Set("best_val_loss", v.Best)
	m.Set("train_val_gap", m.Loss-e)
	if v.Out != nil {
		fmt.Fprintf(v.Out, "  eval step %d: val=%.4f best=%.4f\n", step, e, v.Best)
	}
	return false
}

// OnTrainEnd implements Callback.
func (v *ValTracker) OnTrainEnd([]Metrics) {
	if v.FinalEval && v.t != nil && v.t.EvalData != nil {
		v.Final = v.t.Evaluate()
		if math.IsNaN(v.Best) || v.Final < v.Best {
			v.Best = v.Final
		}
		if v.Out != nil {
			fmt.Fprintf(v.Out, "final_val_loss=%.4f best=%.4f\n", v.Final, v.Best)
		}
	}
}

// EarlyStopping stops training when the evaluation loss has not improved by more than MinDelta
// for Patience evaluations in a row (a NaN loss never improves).
type EarlyStopping struct {
	BaseCallback
	Patience int
	MinDelta float64

	best    float64
	wait    int
	stopped bool
}

// NewEarlyStopping returns EarlyStopping with the original's defaults (patience 5, min_delta
// 0.001) overridden by the arguments.
func NewEarlyStopping(patience int, minDelta float64) *EarlyStopping {
	return &EarlyStopping{Patience: patience, MinDelta: minDelta}
}

// OnTrainBegin implements Callback.
func (e *EarlyStopping) OnTrainBegin(*Trainer) {
	e.best, e.wait, e.stopped = math.Inf(1), 0, false
}

// OnEval implements Callback.
func (e *EarlyStopping) OnEval(step int, m *Metrics) bool {
	if v := *m.EvalLoss; v < e.best-e.MinDelta {
		e.best, e.wait = v, 0
		return false
	}
	e.wait++
	if e.wait >= e.Patience {
		e.stopped = true
	}
	return e.stopped
}

// Stopped reports whether it stopped training.
func (e *EarlyStopping) Stopped() bool { return e.stopped }

// Reason implements the stop reason: "early_stopping".
func (e *EarlyStopping) Reason() string { return "early_stopping" }

// Budget stops training once the training wall-clock time (Metrics.Elapsed, which counts time
// before a resume too) reaches TimeS seconds, or the training FLOPs (Metrics.Flops) reach Flops.
// A zero limit is off. The Trainer adds one itself for Config.TimeBudgetS and Config.FlopBudget.
type Budget struct {
	BaseCallback
	TimeS, Flops float64

	reason string
}

// OnStepEnd implements Callback.
func (b *Budget) OnStepEnd(step int, m *Metrics) bool {
	switch {
	case b.TimeS > 0 && m.Elapsed >= b.TimeS:
		b.reason = "time_budget"
	case b.Flops > 0 && m.Flops >= b.Flops:
		b.reason = "flop_budget"
	default:
		return false
	}
	return true
}

// Reason implements the stop reason: "time_budget" or "flop_budget".
func (b *Budget) Reason() string { return b.reason }
