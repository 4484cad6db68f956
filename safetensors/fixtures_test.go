package safetensors

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFixturesRoundTrip reads every Hugging Face checkpoint and reference
// file in fixtures/hf (written by the Python safetensors library), both in
// memory and lazily, and writes them back: the output must be identical,
// byte for byte, which pins down the header spelling, padding and tensor
// order against the reference implementation.
func TestFixturesRoundTrip(t *testing.T) {
	for _, dir := range hfFixtures(t) {
		for _, base := range []string{"model.safetensors", "reference.safetensors"} {
			path := filepath.Join(dir, base)
			t.Run(filepath.Base(dir)+"/"+base, func(t *testing.T) {
				orig, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("fixture missing: %v", err)
				}
				mem, err := ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				lazy, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer lazy.Close()
				if mem.Len() == 0 || mem.Len() != lazy.Len() || !slices.Equal(mem.Names(), lazy.Names()) {
					t.Fatalf("ReadFile has %d tensors, Open %d", mem.Len(), lazy.Len())
				}
				if base == "model.safetensors" && mem.Metadata["format"] != "pt" {
					t.Errorf("metadata %q, want format=pt", mem.Metadata)
				}
				ts, err := mem.Tensors()
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range ts {
					got, err := lazy.Tensor(want.Name)
					if err != nil {
						t.Fatal(err)
					}
					tensorsEqual(t, got, want)
					if want.DType == F32 {
						v, err := want.Float32s()
						if err != nil {
							t.Fatal(err)
						}
						for i, x := range v {
							if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
								t.Fatalf("tensor %q element %d = %v", want.Name, i, x)
							}
						}
					}
				}
				var buf bytes.Buffer
				if err := Write(&buf, ts, mem.Metadata); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), orig) {
					n := 0
					for n < min(buf.Len(), len(orig)) && buf.Bytes()[n] == orig[n] {
						n++
					}
					t.Errorf("rewritten file differs from the original at byte %d (lengths %d, %d)", n, buf.Len(), len(orig))
				}
			})
		}
	}
}

// TestFixtureReferences checks the documented contents of every
// reference.safetensors (fixtures/README.md).
func TestFixtureReferences(t *testing.T) {
	for _, dir := range hfFixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			f, err := ReadFile(filepath.Join(dir, "reference.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			expect := func(name string, dt DType, shape ...int) Tensor {
				t.Helper()
				x, err := f.Tensor(name)
				if err != nil {
					t.Fatal(err)
				}
				if x.DType != dt || !slices.Equal(x.Shape, shape) {
					t.Fatalf("%s: %s %v, want %s %v", name, x.DType, x.Shape, dt, shape)
				}
				return x
			}
			ids, err := expect("input_ids", I32, 2, 17).Int32s()
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range ids {
				if id < 0 || id >= 256 {
					t.Errorf("input_ids[%d] = %d is outside the 256-token vocabulary", i, id)
				}
			}
			expect("logits", F32, 2, 17, 256)
			prompt, _ := expect("greedy_prompt", I32, 1, 8).Int64s()
			output, _ := expect("greedy_output", I32, 1, 16).Int64s()
			if !slices.Equal(output[:8], prompt) {
				t.Errorf("greedy_output %v does not start with greedy_prompt %v", output, prompt)
			}
			hidden := 0
			for _, name := range f.Names() {
				if strings.HasPrefix(name, "hidden_states.") {
					expect(name, F32, 2, 17, 64)
					hidden++
				}
			}
			if hidden < 3 {
				t.Errorf("%d hidden_states tensors, want at least 3", hidden)
			}
		})
	}
}

// TestGPT2Values compares decoded values with numbers read from the file
// independently (Python's struct module).
func TestGPT2Values(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures", "hf", "gpt2")
	ref, err := Open(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	wantOrder := []string{"hidden_states.0", "hidden_states.1", "hidden_states.2", "logits",
		"greedy_output", "greedy_prompt", "input_ids"}
	if got := ref.Names(); !slices.Equal(got, wantOrder) {
		t.Errorf("file order %q, want %q", got, wantOrder)
	}
	x, err := ref.Tensor("input_ids")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := x.Int32s()
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []int32{5, 248, 71, 240, 141, 185, 213, 202, 143, 6, 245, 139, 104, 159, 99, 102, 11,
		210, 19, 244, 134, 97, 24, 232, 48, 50, 47, 224, 162, 207, 35, 254, 166, 86}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("input_ids = %v\nwant %v", ids, wantIDs)
	}
	x, err = ref.Tensor("logits")
	if err != nil {
		t.Fatal(err)
	}
	logits, err := x.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0.2113712728023529, -0.42700067162513733, -0.2363308072090149} {
		if logits[i] != float32(want) {
			t.Errorf("logits[%d] = %v, want %v", i, logits[i], want)
		}
	}
	var sum float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range logits {
		sum += float64(v)
		lo, hi = min(lo, float64(v)), max(hi, float64(v))
	}
	if sum != 334.5287052492058 || lo != -1.5218279361724854 || hi != 1.6489298343658447 {
		t.Errorf("logits sum %v min %v max %v, want 334.5287052492058 -1.5218279361724854 1.6489298343658447", sum, lo, hi)
	}

	model, err := ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if model.Len() != 28 {
		t.Errorf("gpt2 model has %d tensors, want 28", model.Len())
	}
	for name, shape := range map[string][]int{
		"transformer.wte.weight":             {256, 64},
		"transformer.wpe.weight":             {256, 64},
		"transformer.h.0.attn.c_attn.weight": {64, 192},
		"transformer.h.1.mlp.c_proj.weight":  {256, 64},
		"transformer.ln_f.bias":              {64},
	} {
		info, ok := model.Info(name)
		if !ok || info.DType != F32 || !slices.Equal(info.Shape, shape) {
			t.Errorf("%s: %+v (found %v), want F32 %v", name, info, ok, shape)
		}
	}
}
