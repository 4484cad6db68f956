package train

import (
	"math"
	"slices"
	"strconv"
)

// Metrics describes one update. Callbacks may add values to Extra; they are written as
// additional top-level keys by MarshalJSON.
type Metrics struct {
	Step         int     // updates done, counting this one (1-based)
	Loss         float64 // mean training loss of this update's batches
	LearningRate float64 // the rate this update used
	GradNorm     float64 // global gradient norm before clipping
	Tokens       int64   // training tokens consumed so far (all runs of this trainer)
	Flops        float64 // training FLOPs so far (Tokens × FlopsPerToken)
	Elapsed      float64 // seconds of training so far (all runs, from checkpoints too)
	StepTime     float64 // seconds this update took
	TokensPerS   float64 // this update's tokens / StepTime
	EvalLoss     *float64
	Extra        map[string]float64
}

// Set stores an extra metric.
func (m *Metrics) Set(key string, v float64) {
	if m.Extra == nil {
		m.Extra = map[string]float64{}
	}
	m.Extra[key] = v
}

// metricKeys are the fixed keys of MarshalJSON; Extra values with these names are not written.
var metricKeys = []string{"step", "loss", "learning_rate", "grad_norm", "tokens", "flops", "elapsed",
	"step_time", "tokens_per_s", "eval_loss"}

// MarshalJSON writes the metrics as one flat object with snake_case keys (step, loss,
// learning_rate, grad_norm, tokens, flops, elapsed, step_time, tokens_per_s, eval_loss when
// evaluated, then the extra keys sorted). Non-finite numbers are written as null.
func (m Metrics) MarshalJSON() ([]byte, error) {
	b := []byte(`{"step":`)
	b = strconv.AppendInt(b, int64(m.Step), 10)
	num := func(k string, v float64) {
		b = append(b, ',')
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	}
	num("loss", m.Loss)
	num("learning_rate", m.LearningRate)
	num("grad_norm", m.GradNorm)
	b = append(b, `,"tokens":`...)
	b = strconv.AppendInt(b, m.Tokens, 10)
	num("flops", m.Flops)
	num("elapsed", m.Elapsed)
	num("step_time", m.StepTime)
	num("tokens_per_s", m.TokensPerS)
	if m.EvalLoss != nil {
		num("eval_loss", *m.EvalLoss)
	}
	keys := make([]string, 0, len(m.Extra))
	for k := range m.Extra {
		if !slices.Contains(metricKeys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		num(k, m.Extra[k])
	}
	return append(b, '}'), nil
}
