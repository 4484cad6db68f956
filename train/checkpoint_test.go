package train

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
	"github.com/lmxlab/lmxlab/safetensors"
)

func TestCheckpointRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	cfg := testConfig()
	cfg.MaxSteps = 3
	cfg.EvalInterval = 3
	cfg.EvalBatches = 1
	tr, m := newTestTrainer(20, cfg)
	tr.EvalData = func() BatchSource { return &synth{Seed: 21, B: 2, L: 4} }
	tr.ModelConfig = json.RawMessage(`{"d_model": 8}`)
	m.Head.Bias = mx.AsType(m.Head.Bias, mx.BFloat16) // a bf16 parameter round-trips bit-exactly
	data := &synth{Seed: 20, B: 2, L: 4}
	if _, err := tr.Train(data); err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveCheckpoint(dir, data); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ModelConfigFile, ModelFile, OptimizerFile, TrainerStateFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("missing %s: %v", f, err)
		}
	}
	if b, _ := ReadModelConfig(dir); string(b) != `{"d_model": 8}` {
		t.Fatalf("config.json %q", b)
	}
	f, err := safetensors.ReadFile(filepath.Join(dir, OptimizerFile))
	if err != nil {
		t.Fatal(err)
	}
	if names := strings.Join(f.Names(), ","); !strings.Contains(names, "head.weight.m") || !strings.Contains(names, "embed.weight.v") {
		t.Fatalf("optimizer tensor names %s", names)
	}
	if info, _ := (must(safetensors.ReadFile(filepath.Join(dir, ModelFile)))).Info("head.bias"); info.DType != safetensors.BF16 {
		t.Fatalf("bf16 param stored as %s", info.DType)
	}
	st, err := ReadTrainerState(dir)
	if err != nil || st.Step != 3 || st.Seed != 42 || st.Optimizer != "adamw" || st.BestValLoss == nil ||
		strings.Join(strings.Fields(string(st.DataState)), "") != `{"i":3}` || st.Config.MaxSteps != 3 || st.Tokens != 24 {
		t.Fatalf("trainer state %+v %v", st, err)
	}

	// Load into a differently initialised model.
	m2 := newTinyModel(77)
	m2.Head.Bias = mx.AsType(m2.Head.Bias, mx.BFloat16)
	tr2 := &Trainer{Model: m2, Loss: m2.loss, Config: cfg}
	if err := tr2.LoadCheckpoint(dir); err != nil {
		t.Fatal(err)
	}
	want, got := paramValues(m), paramValues(m2)
	for i := range want {
		assertClose(t, "params", f64s(got[i]), f64s(want[i]), 0, 0)
	}
	for i, s := range tr.OptimizerState() {
		assertClose(t, "opt state", f64s(tr2.OptimizerState()[i].Float32s()), f64s(s.Float32s()), 0, 0)
	}
	if m2.Head.Bias.DType() != mx.BFloat16 || tr2.Steps() != 3 || tr2.Tokens() != 24 {
		t.Fatalf("restored dtype %s, step %d", m2.Head.Bias.DType(), tr2.Steps())
	}
	if b, ok := tr2.BestValLoss(); !ok || b != *st.BestValLoss {
		t.Fatalf("best val %v %v", b, ok)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestResumeIsBitwiseIdentical: N updates straight equal N/2, save, load into a fresh model and
// trainer, then N/2 more — exactly.
func TestResumeIsBitwiseIdentical(t *testing.T) {
	for _, accum := range []int{1, 2} {
		const n = 8
		cfg := testConfig()
		cfg.MaxSteps = n
		cfg.GradAccumulationSteps = accum
		straight, _ := newTestTrainer(30, cfg)
		hs, err := straight.Train(&synth{Seed: 30, B: 3, L: 5})
		if err != nil {
			t.Fatal(err)
		}

		dir := filepath.Join(t.TempDir(), "run")
		cfg.CheckpointDir = dir
		first, _ := newTestTrainer(30, cfg)
		first.Callbacks = []Callback{&callbackFunc{step: func(s int, _ *Metrics) bool { return s == n/2 }}}
		h1, err := first.Train(&synth{Seed: 30, B: 3, L: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(h1) != n/2 {
			t.Fatalf("first half ran %d updates", len(h1))
		}

		second, m := newTestTrainer(31, cfg) // different init: everything must come from the checkpoint
		if err := second.LoadCheckpoint(dir); err != nil {
			t.Fatal(err)
		}
		h2, err := second.Train(&synth{Seed: 30, B: 3, L: 5}) // restored to batch position n/2·accum
		if err != nil {
			t.Fatal(err)
		}
		resumed := append(losses(h1), losses(h2)...)
		assertClose(t, "resumed losses", resumed, losses(hs), 0, 0)
		if h2[0].Step != n/2+1 || h2[len(h2)-1].Tokens != hs[n-1].Tokens {
			t.Fatalf("resumed at step %d, tokens %d", h2[0].Step, h2[len(h2)-1].Tokens)
		}
		got, want := paramValues(m), paramValues(straight.Model)
		for i := range want {
			assertClose(t, "resumed params", f64s(got[i]), f64s(want[i]), 0, 0)
		}
	}
}

func TestCheckpointIntervalAndNoDataState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	cfg := testConfig()
	cfg.MaxSteps = 7
	cfg.CheckpointInterval = 3
	cfg.CheckpointDir = dir
	tr, _ := newTestTrainer(40, cfg)
	var seen []int
	tr.Callbacks = []Callback{&callbackFunc{step: func(s int, _ *Metrics) bool {
		if st, err := ReadTrainerState(dir); err == nil {
			seen = append(seen, st.Step)
		}
		return false
	}}}
	if _, err := tr.Train(&synth{Seed: 40, B: 2, L: 3}); err != nil {
		t.Fatal(err)
	}
	// Before step s's callbacks run, the directory holds the checkpoint of the last multiple of 3.
	if want := []int{3, 3, 3, 6}; !equalInts(seen, want) {
		t.Fatalf("checkpoints seen %v, want %v", seen, want)
	}
	if st, _ := ReadTrainerState(dir); st.Step != 7 {
		t.Fatalf("final checkpoint at step %d", st.Step)
	}
	// A checkpoint with a data position cannot resume a non-resumable source.
	tr2, _ := newTestTrainer(40, cfg)
	if err := tr2.LoadCheckpoint(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := tr2.Train(&listSource{}); err == nil || !strings.Contains(err.Error(), "not Resumable") {
		t.Fatalf("non-resumable source: %v", err)
	}
}

// TestCheckpointAtomic: a save that fails midway leaves the previous checkpoint intact and no
// temporary directory behind; a successful save replaces it.
func TestCheckpointAtomic(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "ckpt")
	cfg := testConfig()
	cfg.MaxSteps = 2
	tr, _ := newTestTrainer(50, cfg)
	data := &synth{Seed: 50, B: 2, L: 3}
	if _, err := tr.Train(data); err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveCheckpoint(dir, data); err != nil {
		t.Fatal(err)
	}
	before := must(os.ReadFile(filepath.Join(dir, ModelFile)))
	tr.Config.MaxSteps = 4
	if _, err := tr.Train(data); err != nil {
		t.Fatal(err)
	}
	testHookBeforeSwap = func(tmp string) error {
		if _, err := os.Stat(filepath.Join(tmp, ModelFile)); err != nil {
			t.Errorf("hook ran before the files were written: %v", err)
		}
		return errors.New("disk full (simulated)")
	}
	err := tr.SaveCheckpoint(dir, data)
	testHookBeforeSwap = nil
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failing save returned %v", err)
	}
	if st, _ := ReadTrainerState(dir); st.Step != 2 {
		t.Fatalf("old checkpoint damaged: step %d", st.Step)
	}
	if after := must(os.ReadFile(filepath.Join(dir, ModelFile))); string(after) != string(before) {
		t.Fatal("old model.safetensors changed")
	}
	entries := must(os.ReadDir(parent))
	if len(entries) != 1 {
		t.Fatalf("leftovers next to the checkpoint: %v", entries)
	}
	// A good save replaces it, leaving nothing else behind.
	if err := tr.SaveCheckpoint(dir, data); err != nil {
		t.Fatal(err)
	}
	if st, _ := ReadTrainerState(dir); st.Step != 4 {
		t.Fatalf("new checkpoint at step %d", st.Step)
	}
	if entries := must(os.ReadDir(parent)); len(entries) != 1 {
		t.Fatalf("leftovers after replacing: %v", entries)
	}
}

func TestLoadCheckpointStrict(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	cfg := testConfig()
	tr, m := newTestTrainer(60, cfg)
	if err := tr.SaveCheckpoint(dir, nil); err != nil {
		t.Fatal(err)
	}
	// Wrong shape.
	other := newTinyModel(61)
	other.Head.Weight = mx.Zeros([]int{tV, tD + 1}, mx.Float32)
	orig := other.Embed.Weight
	_, _, err := LoadCheckpoint(dir, other, nil)
	if err == nil || !strings.Contains(err.Error(), "head.weight: file [11 8], model [11 9]") {
		t.Fatalf("shape mismatch: %v", err)
	}
	if other.Embed.Weight != orig {
		t.Fatal("a failed load changed the model")
	}
	// Missing and unexpected names.
	type renamed struct {
		Embed tinyEmbed
		Proj  *tinyLinear
	}
	r := &renamed{Embed: tinyEmbed{Weight: m.Embed.Weight}, Proj: &tinyLinear{Weight: m.Head.Weight, Bias: m.Head.Bias}}
	_, _, err = LoadCheckpoint(dir, r, nil)
	if err == nil || !strings.Contains(err.Error(), "missing [proj.weight, proj.bias]") || !strings.Contains(err.Error(), "unexpected [head.bias, head.weight]") {
		t.Fatalf("name mismatch: %v", err)
	}
	// Another optimizer.
	tr2, _ := newTestTrainer(60, cfg)
	tr2.Optimizer = NewLion(0)
	if err := tr2.LoadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "adamw") {
		t.Fatalf("optimizer mismatch: %v", err)
	}
	// A frozen set that differs from the saved one changes the optimizer state names.
	tr3, m3 := newTestTrainer(60, cfg)
	nn.Freeze(m3, "embed")
	if err := tr3.LoadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "unexpected [embed.weight.m, embed.weight.v]") {
		t.Fatalf("state mismatch: %v", err)
	}
	// Not a checkpoint.
	if _, _, err := LoadCheckpoint(t.TempDir(), m, nil); err == nil || !strings.Contains(err.Error(), "not a checkpoint") {
		t.Fatalf("empty dir: %v", err)
	}
}
