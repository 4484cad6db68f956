package train

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }

// ProgressBar draws a progress bar over Config.MaxSteps updates on Out, with the latest loss and
// learning rate as its description; evaluation results are printed above it.
type ProgressBar struct {
	BaseCallback
	Out io.Writer

	bar *progressbar.ProgressBar
}

// OnTrainBegin implements Callback.
func (p *ProgressBar) OnTrainBegin(t *Trainer) {
	p.bar = progressbar.NewOptions64(int64(t.Config.MaxSteps),
		progressbar.OptionSetWriter(p.Out),
		progressbar.OptionSetDescription("train"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("step"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.Out) }),
	)
	if s := t.Steps(); s > 0 {
		p.bar.Set64(int64(s))
	}
}

// OnStepEnd implements Callback.
func (p *ProgressBar) OnStepEnd(step int, m *Metrics) bool {
	p.bar.Describe(fmt.Sprintf("loss %.4f lr %.2e", m.Loss, m.LearningRate))
	p.bar.Set64(int64(step))
	return false
}

// OnEval implements Callback.
func (p *ProgressBar) OnEval(step int, m *Metrics) bool {
	p.bar.Clear()
	fmt.Fprintf(p.Out, "step %d eval: loss=%.4f\n", step, *m.EvalLoss)
	return false
}

// OnTrainEnd implements Callback.
func (p *ProgressBar) OnTrainEnd(history []Metrics) {
	if !p.bar.IsFinished() {
		p.bar.Exit()
		fmt.Fprintln(p.Out)
	}
}

// StandardCallbacks returns the usual set for output to out: Throughput and ValTracker, then a
// ProgressBar when out is a terminal, else a Logger (with the throughput summary printed).
func StandardCallbacks(out *os.File) []Callback {
	if IsTerminal(out) {
		return []Callback{&Throughput{}, &ValTracker{}, &ProgressBar{Out: out}}
	}
	return []Callback{&Throughput{Out: out}, &ValTracker{}, &Logger{Out: out}}
}
