package train

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
	"github.com/lmxlab/lmxlab/safetensors"
)

// The files of a checkpoint directory.
const (
	ModelConfigFile  = "config.json"
	ModelFile        = "model.safetensors"
	OptimizerFile    = "optimizer.safetensors"
	TrainerStateFile = "trainer_state.json"
)

// TrainerState is trainer_state.json: what a run needs besides the weights and the optimizer
// state to continue exactly where it stopped.
type TrainerState struct {
	Step        int             `json:"step"` // updates done
	Seed        int64           `json:"seed"`
	Tokens      int64           `json:"tokens"`
	ElapsedS    float64         `json:"elapsed_s"`
	BestValLoss *float64        `json:"best_val_loss,omitempty"`
	Optimizer   string          `json:"optimizer,omitempty"`
	DataState   json.RawMessage `json:"data_state,omitempty"` // Resumable.State of the training data
	Config      Config          `json:"config"`
}

// testHookBeforeSwap, when set by a test, runs after every file is written into the temporary
// directory and before it replaces the target; an error aborts the save.
var testHookBeforeSwap func(tmp string) error

// SaveCheckpoint writes a checkpoint directory: config.json (modelConfig; "{}" when empty),
// model.safetensors (every parameter of model under its nn.Parameters name, in its own dtype),
// optimizer.safetensors (optState named by opt.StateNames of the trainable parameters; skipped
// when opt is nil) and trainer_state.json (st).
//
// The write is atomic: everything goes into a temporary directory next to dir, is synced, and
// then replaces dir in one step (on Linux an atomic exchange of the two directories; elsewhere two
// renames), and the old checkpoint is removed only after the new one is in place. A failed save
// leaves the previous checkpoint untouched and removes its temporary directory.
func SaveCheckpoint(dir string, model any, modelConfig []byte, opt Optimizer, optState []*mx.Array, st TrainerState) error {
	return saveCheckpoint(dir, model, modelConfig, opt, optState, st, nil)
}

// saveCheckpoint is SaveCheckpoint with extra files (name → contents) written beside the others,
// such as the tokenizer a model was trained with.
func saveCheckpoint(dir string, model any, modelConfig []byte, opt Optimizer, optState []*mx.Array, st TrainerState, extra map[string][]byte) (err error) {
	params := nn.Parameters(model)
	tensors := make([]safetensors.Tensor, len(params))
	for i, p := range params {
		if tensors[i], err = toTensor(p.Name, p.Value); err != nil {
			return fmt.Errorf("train: saving checkpoint %s: %w", dir, err)
		}
	}
	var optTensors []safetensors.Tensor
	if opt != nil {
		names := opt.StateNames(nn.Names(nn.Trainable(model)))
		if len(names) != len(optState) {
			return fmt.Errorf("train: saving checkpoint %s: %d optimizer state arrays for %d names", dir, len(optState), len(names))
		}
		for i, a := range optState {
			t, err := toTensor(names[i], a)
			if err != nil {
				return fmt.Errorf("train: saving checkpoint %s: %w", dir, err)
			}
			optTensors = append(optTensors, t)
		}
		st.Optimizer = opt.Name()
	}
	stateJSON, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("train: saving checkpoint %s: %w", dir, err)
	}
	if len(strings.TrimSpace(string(modelConfig))) == 0 {
		modelConfig = []byte("{}")
	}

	dir = filepath.Clean(dir)
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("train: saving checkpoint: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("train: saving checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
			err = fmt.Errorf("train: saving checkpoint %s: %w", dir, err)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(tmp, ModelConfigFile), modelConfig); err != nil {
		return err
	}
	if err := safetensors.WriteFile(filepath.Join(tmp, ModelFile), tensors, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if opt != nil {
		meta := map[string]string{"optimizer": opt.Name()}
		if err := safetensors.WriteFile(filepath.Join(tmp, OptimizerFile), optTensors, meta); err != nil {
			return err
		}
	}
	if err := writeFileSync(filepath.Join(tmp, TrainerStateFile), append(stateJSON, '\n')); err != nil {
		return err
	}
	for name, data := range extra {
		if name != filepath.Base(name) || name == ModelConfigFile || name == ModelFile || name == OptimizerFile || name == TrainerStateFile {
			return fmt.Errorf("extra checkpoint file name %q is not allowed", name)
		}
		if err := writeFileSync(filepath.Join(tmp, name), data); err != nil {
			return err
		}
	}
	if testHookBeforeSwap != nil {
		if err := testHookBeforeSwap(tmp); err != nil {
			return err
		}
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	return replaceDir(tmp, dir, parent)
}

// replaceDir moves the complete directory tmp to dir, replacing any old dir.
func replaceDir(tmp, dir, parent string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.Rename(tmp, dir); err != nil {
			return err
		}
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory", dir)
	default:
		if exchangeDirs(tmp, dir) == nil {
			// tmp now holds the old checkpoint.
			if err := syncDir(parent); err != nil {
				return err
			}
			os.RemoveAll(tmp)
			return nil
		}
		old, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".old-")
		if err != nil {
			return err
		}
		os.Remove(old) // only the unique name is wanted
		if err := os.Rename(dir, old); err != nil {
			return err
		}
		if err := os.Rename(tmp, dir); err != nil {
			os.Rename(old, dir)
			return err
		}
		if err := syncDir(parent); err != nil {
			return err
		}
		os.RemoveAll(old)
		return nil
	}
	return syncDir(parent)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// toTensor copies an array into a safetensors tensor of the same dtype.
func toTensor(name string, a *mx.Array) (safetensors.Tensor, error) {
	shape := a.Shape()
	switch a.DType() {
	case mx.Float32:
		return safetensors.FromFloat32s(name, shape, a.Float32s()), nil
	case mx.BFloat16:
		return safetensors.FromBF16Bits(name, shape, a.Bits()), nil
	case mx.Float16:
		return safetensors.FromF16Bits(name, shape, a.Bits()), nil
	case mx.Float64:
		return safetensors.FromFloat64s(name, shape, a.Float64s()), nil
	case mx.Int32:
		return safetensors.FromInt32s(name, shape, a.Int32s()), nil
	case mx.Int64:
		v := a.Ints()
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return safetensors.FromInt64s(name, shape, out), nil
	case mx.Uint32:
		v := a.Uint32s()
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], x)
		}
		return safetensors.Tensor{Name: name, DType: safetensors.U32, Shape: shape, Data: b}, nil
	case mx.Uint8:
		v := a.Ints()
		b := make([]byte, len(v))
		for i, x := range v {
			b[i] = byte(x)
		}
		return safetensors.FromUint8s(name, shape, b), nil
	case mx.Bool:
		return safetensors.FromBools(name, shape, a.Bools()), nil
	}
	return safetensors.Tensor{}, fmt.Errorf("%s: cannot store dtype %s", name, a.DType())
}

// fromTensor makes an array of dtype want from a stored tensor, bit-exactly when the dtypes
// agree and by conversion between float types otherwise.
func fromTensor(t safetensors.Tensor, want mx.DType) (*mx.Array, error) {
	var a *mx.Array
	var err error
	switch t.DType {
	case safetensors.F32:
		var v []float32
		if v, err = t.Float32s(); err == nil {
			a = mx.FromSlice(v, t.Shape...)
		}
	case safetensors.BF16, safetensors.F16:
		var bits []uint16
		dt := mx.BFloat16
		if t.DType == safetensors.F16 {
			dt = mx.Float16
			bits, err = t.F16Bits()
		} else {
			bits, err = t.BF16Bits()
		}
		if err == nil {
			a = mx.FromBits(bits, dt, t.Shape...)
		}
	case safetensors.F64:
		var v []float64
		if v, err = t.Float64s(); err == nil {
			a = mx.FromSlice(v, t.Shape...)
		}
	case safetensors.I32:
		var v []int32
		if v, err = t.Int32s(); err == nil {
			a = mx.FromSlice(v, t.Shape...)
		}
	case safetensors.I64:
		var v []int64
		if v, err = t.Int64s(); err == nil {
			a = mx.FromSlice(v, t.Shape...)
		}
	case safetensors.U32:
		v := make([]uint32, len(t.Data)/4)
		for i := range v {
			v[i] = binary.LittleEndian.Uint32(t.Data[4*i:])
		}
		a = mx.FromSlice(v, t.Shape...)
	case safetensors.U8:
		a = mx.FromSlice(slices.Clone(t.Data), t.Shape...)
	case safetensors.Bool:
		var v []bool
		if v, err = t.Bools(); err == nil {
			a = mx.FromSlice(v, t.Shape...)
		}
	default:
		err = fmt.Errorf("unsupported dtype %s", t.DType)
	}
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if a.DType() != want {
		if !a.DType().IsFloat() || !want.IsFloat() {
			return nil, fmt.Errorf("tensor %q is %s, the model wants %s", t.Name, t.DType, want)
		}
		a = mx.AsType(a, want)
		mx.Eval(a)
	}
	return a, nil
}
