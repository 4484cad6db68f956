package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/lmxlab/lmxlab/mx"
)

// Config holds the training hyperparameters. It serializes to JSON with the original's
// snake_case names; fields missing from a JSON document keep DefaultConfig's values when read
// with ReadConfig or ParseConfig.
type Config struct {
	LearningRate          float64 `json:"learning_rate"`
	MinLR                 float64 `json:"min_lr"` // floor of the cosine and linear decays
	WeightDecay           float64 `json:"weight_decay"`
	WarmupSteps           int     `json:"warmup_steps"`
	MaxSteps              int     `json:"max_steps"` // optimizer updates
	BatchSize             int     `json:"batch_size"`
	SeqLen                int     `json:"seq_len"`
	GradAccumulationSteps int     `json:"grad_accumulation_steps"` // micro-batches per update
	MaxGradNorm           float64 `json:"max_grad_norm"`           // <= 0: no clipping
	EvalInterval          int     `json:"eval_interval"`           // 0: never evaluate
	EvalBatches           int     `json:"eval_batches"`            // per evaluation; 0: the whole source
	LogInterval           int     `json:"log_interval"`
	CheckpointInterval    int     `json:"checkpoint_interval"` // 0: only at the end
	CheckpointDir         string  `json:"checkpoint_dir"`      // "": no checkpoints
	Optimizer             string  `json:"optimizer"`
	LRSchedule            string  `json:"lr_schedule"`
	CompileStep           bool    `json:"compile_step"`
	// DonateBuffers gives each compiled update the buffers of the trainable parameters and the
	// optimizer state (mx.Compiled.Donate): the gpu device updates them in place, with no second
	// copy and at addresses that stay put. The arrays held before an update become unreadable,
	// so keep none of them across steps (checkpoints and callbacks see the current ones). On the
	// gpu device a step that fails inside XLA may have consumed them: checkpoint as usual.
	DonateBuffers bool `json:"donate_buffers"`
	// StepsPerCall is how many updates Train runs in one compiled call (Trainer.StepMany) when
	// steps are compiled and there is no gradient accumulation: on the gpu device each call
	// costs tens of microseconds plus a few per parameter and state buffer, which k updates then
	// pay once (an H100 GPT-2-small bf16 step: 41.0 ms at 1, 39.3 at 4), for a compile k times
	// as long. Metrics, callbacks and stop requests then come once per call (a stop takes effect
	// after the call's last update); calls end at evaluation and checkpoint steps, so those
	// happen exactly where they would. 0 picks 4 on a device other than the cpu, 1 on the cpu.
	StepsPerCall int     `json:"steps_per_call"`
	Seed         int64   `json:"seed"`          // per-update random keys (dropout), recorded in checkpoints
	TimeBudgetS  float64 `json:"time_budget_s"` // wall-clock seconds; 0: none
	FlopBudget   float64 `json:"flop_budget"`   // training FLOPs; 0: none
}

// DefaultConfig returns the defaults of the original TrainConfig (seq_len 128, eval_batches 10).
func DefaultConfig() Config {
	return Config{
		LearningRate:          3e-4,
		WeightDecay:           0.01,
		WarmupSteps:           100,
		MaxSteps:              1000,
		BatchSize:             32,
		SeqLen:                128,
		GradAccumulationSteps: 1,
		MaxGradNorm:           1.0,
		EvalInterval:          100,
		EvalBatches:           10,
		LogInterval:           10,
		Optimizer:             "adamw",
		LRSchedule:            "cosine",
		CompileStep:           true,
		Seed:                  42,
	}
}

// UpdatesPerCall resolves StepsPerCall: the updates Train runs per compiled call.
func (c Config) UpdatesPerCall() int {
	switch {
	case !c.CompileStep || c.GradAccumulationSteps > 1:
		return 1
	case c.StepsPerCall > 0:
		return c.StepsPerCall
	case mx.DefaultDevice() != mx.CPU:
		return 4
	}
	return 1
}

// ParseConfig reads a JSON config on top of DefaultConfig, rejecting unknown fields, and
// validates it.
func ParseConfig(data []byte) (Config, error) {
	c := DefaultConfig()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("train: parsing config: %w", err)
	}
	return c, c.Validate()
}

// ReadConfig reads a JSON config file (see ParseConfig).
func ReadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(c.LearningRate) || c.LearningRate < 0 {
		bad("learning_rate %v must be finite and >= 0", c.LearningRate)
	}
	if !finite(c.MinLR) || c.MinLR < 0 {
		bad("min_lr %v must be finite and >= 0", c.MinLR)
	}
	if !finite(c.WeightDecay) || c.WeightDecay < 0 {
		bad("weight_decay %v must be finite and >= 0", c.WeightDecay)
	}
	if !finite(c.MaxGradNorm) {
		bad("max_grad_norm %v must be finite", c.MaxGradNorm)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"warmup_steps", c.WarmupSteps}, {"max_steps", c.MaxSteps}, {"batch_size", c.BatchSize},
		{"seq_len", c.SeqLen}, {"eval_interval", c.EvalInterval}, {"eval_batches", c.EvalBatches},
		{"log_interval", c.LogInterval}, {"checkpoint_interval", c.CheckpointInterval},
		{"steps_per_call", c.StepsPerCall}} {
		if f.v < 0 {
			bad("%s %d must be >= 0", f.name, f.v)
		}
	}
	if c.GradAccumulationSteps < 1 {
		bad("grad_accumulation_steps %d must be >= 1", c.GradAccumulationSteps)
	}
	if !finite(c.TimeBudgetS) || c.TimeBudgetS < 0 {
		bad("time_budget_s %v must be finite and >= 0", c.TimeBudgetS)
	}
	if !finite(c.FlopBudget) || c.FlopBudget < 0 {
		bad("flop_budget %v must be finite and >= 0", c.FlopBudget)
	}
	if !slices.Contains(OptimizerNames, strings.ToLower(c.Optimizer)) {
		bad("unknown optimizer %q (valid: %s)", c.Optimizer, strings.Join(OptimizerNames, ", "))
	}
	if !slices.Contains(ScheduleNames, strings.ToLower(c.LRSchedule)) {
		bad("unknown lr_schedule %q (valid: %s)", c.LRSchedule, strings.Join(ScheduleNames, ", "))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("train: invalid config: %w", err)
	}
	return nil
}

// Schedule builds the learning-rate schedule the config names, over MaxSteps updates, decaying
// to MinLR.
func (c Config) Schedule() (Schedule, error) {
	s, err := ScheduleByName(c.LRSchedule, c.LearningRate, c.WarmupSteps, c.MaxSteps)
	if err != nil || c.MinLR == 0 {
		return s, err
	}
	switch strings.ToLower(c.LRSchedule) {
	case "cosine":
		return WarmupCosine(c.LearningRate, c.WarmupSteps, c.MaxSteps, c.MinLR), nil
	case "linear":
		return WarmupLinear(c.LearningRate, c.WarmupSteps, c.MaxSteps, c.MinLR), nil
	}
	return s, nil
}
