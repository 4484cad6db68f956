package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
	"github.com/lmxlab/lmxlab/safetensors"
)

// ReadTrainerState reads a checkpoint's trainer_state.json.
func ReadTrainerState(dir string) (TrainerState, error) {
	var st TrainerState
	b, err := os.ReadFile(filepath.Join(dir, TrainerStateFile))
	if err != nil {
		return st, fmt.Errorf("train: %s is not a checkpoint: %w", dir, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("train: %s: %w", filepath.Join(dir, TrainerStateFile), err)
	}
	return st, nil
}

// ReadModelConfig returns a checkpoint's config.json (the model's config, to build the model
// before LoadCheckpoint).
func ReadModelConfig(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, ModelConfigFile))
	if err != nil {
		return nil, fmt.Errorf("train: reading the model config: %w", err)
	}
	return b, nil
}

// namedShape is an expected tensor: its name, shape and dtype.
type namedShape struct {
	name  string
	shape []int
	dtype mx.DType
}

// loadTensors reads the file and returns one array per expected tensor, in order, after checking
// that the names are exactly the expected ones and every shape matches.
func loadTensors(path string, want []namedShape) (*safetensors.File, []*mx.Array, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	have := map[string]bool{}
	for _, n := range f.Names() {
		have[n] = true
	}
	var missing, mismatched []string
	for _, w := range want {
		info, ok := f.Info(w.name)
		if !ok {
			missing = append(missing, w.name)
			continue
		}
		delete(have, w.name)
		if !slices.Equal(info.Shape, w.shape) {
			mismatched = append(mismatched, fmt.Sprintf("%s: file %v, model %v", w.name, info.Shape, w.shape))
		}
	}
	var unexpected []string
	for n := range have {
		unexpected = append(unexpected, n)
	}
	slices.Sort(unexpected)
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing "+listNames(missing))
	}
	if len(unexpected) > 0 {
		problems = append(problems, "unexpected "+listNames(unexpected))
	}
	if len(mismatched) > 0 {
		problems = append(problems, "shape mismatch "+listNames(mismatched))
	}
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("%s does not match: %s", path, strings.Join(problems, "; "))
	}
	out := make([]*mx.Array, len(want))
	for i, w := range want {
		t, err := f.Tensor(w.name)
		if err != nil {
			return nil, nil, err
		}
		if out[i], err = fromTensor(t, w.dtype); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return f, out, nil
}

func listNames(names []string) string {
	const max = 8
	if len(names) > max {
		return fmt.Sprintf("%d tensors (%s, ...)", len(names), strings.Join(names[:max], ", "))
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// LoadCheckpoint loads a checkpoint written by SaveCheckpoint into model, whose parameters must
// match the file exactly: the same names, the same shapes (float dtypes are converted to the
// model's; equal dtypes load bit-exactly). With a non-nil opt it also returns the optimizer state
// for the model's trainable parameters, checked against opt's state names and shapes and its
// name. Nothing in the model changes unless everything checks out.
func LoadCheckpoint(dir string, model any, opt Optimizer) (TrainerState, []*mx.Array, error) {
	st, err := ReadTrainerState(dir)
	if err != nil {
		return st, nil, err
	}
	fail := func(err error) (TrainerState, []*mx.Array, error) {
		return st, nil, fmt.Errorf("train: loading checkpoint %s: %w", dir, err)
	}
	params := nn.Parameters(model)
	want := make([]namedShape, len(params))
	for i, p := range params {
		want[i] = namedShape{p.Name, p.Value.Shape(), p.Value.DType()}
	}
	_, values, err := loadTensors(filepath.Join(dir, ModelFile), want)
	if err != nil {
		return fail(err)
	}
	var state []*mx.Array
	if opt != nil {
		if st.Optimizer != "" && st.Optimizer != opt.Name() {
			return fail(fmt.Errorf("it was trained with %s, the trainer uses %s", st.Optimizer, opt.Name()))
		}
		tr := nn.Trainable(model)
		names := opt.StateNames(nn.Names(tr))
		init := opt.Init(nn.Values(tr))
		if len(names) != len(init) {
			return fail(fmt.Errorf("optimizer %s names %d of its %d state arrays", opt.Name(), len(names), len(init)))
		}
		owant := make([]namedShape, len(names))
		for i, n := range names {
			owant[i] = namedShape{n, init[i].Shape(), init[i].DType()}
		}
		var f *safetensors.File
		if f, state, err = loadTensors(filepath.Join(dir, OptimizerFile), owant); err != nil {
			return fail(err)
		}
		if name := f.Metadata["optimizer"]; name != "" && name != opt.Name() {
			return fail(fmt.Errorf("the optimizer state is %s's, the trainer uses %s", name, opt.Name()))
		}
	}
	m := make(map[string]*mx.Array, len(params))
	for i, p := range params {
		m[p.Name] = values[i]
	}
	if err := nn.Update(model, m); err != nil {
		return fail(err)
	}
	return st, state, nil
}

// SaveCheckpoint saves the model, optimizer state and trainer state (with data's position when
// it is Resumable; data may be nil) to dir, atomically (see the function SaveCheckpoint).
func (t *Trainer) SaveCheckpoint(dir string, data BatchSource) error {
	if err := t.init(); err != nil {
		return err
	}
	st := TrainerState{
		Step:     t.step,
		Seed:     t.Config.Seed,
		Tokens:   t.tokens,
		ElapsedS: t.elapsed(),
		Config:   t.Config,
	}
	if t.haveBest && !math.IsNaN(t.bestVal) && !math.IsInf(t.bestVal, 0) {
		v := t.bestVal
		st.BestValLoss = &v
	}
	if r, ok := data.(Resumable); ok && data != nil {
		st.DataState = r.State()
	}
	return saveCheckpoint(dir, t.Model, t.ModelConfig, t.Optimizer, t.optState, st, t.ExtraFiles)
}

// LoadCheckpoint restores the model's parameters, the optimizer state and the trainer's counters
// (updates, tokens, elapsed time, best eval loss) from dir, to resume training: the next Train
// continues from the saved update and restores its data source to the saved position. The
// Trainer's Config is left as set (it may extend MaxSteps, say); the one the checkpoint was
// trained with is in ReadTrainerState(dir).Config.
func (t *Trainer) LoadCheckpoint(dir string) error {
	if err := t.init(); err != nil {
		return err
	}
	st, state, err := LoadCheckpoint(dir, t.Model, t.Optimizer)
	if err != nil {
		return err
	}
	t.optState = state
	t.step, t.tokens, t.elapsedBefore = st.Step, st.Tokens, st.ElapsedS
	t.haveBest = st.BestValLoss != nil
	if t.haveBest {
		t.bestVal = *st.BestValLoss
	}
	t.pendingData = nil
	if len(st.DataState) > 0 {
		t.pendingData = st.DataState
	}
	return nil
}
