package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/safetensors"
)

// TestTrainBF16 trains a tiny model in bf16 mixed precision: it runs, reports bfloat16 and
// writes a float32 checkpoint (master weights and optimizer state) that resumes and generates.
func TestTrainBF16(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	common := []string{"--arch", "gpt", "--d-model", "32", "--n-layers", "1", "--n-heads", "2", "--seq-len", "16",
		"--batch-size", "4", "--warmup", "1", "--out", dir, "--json", "--samples", "1", "--sample-tokens", "4",
		"--eval-batches", "1", "--dtype", "bf16"}
	out := mustRun(t, append([]string{"train", "--steps", "3"}, common...)...)
	var done map[string]any
	for _, l := range jsonLines(t, out) {
		if l["event"] == "done" {
			done = l
		}
	}
	if done == nil || done["steps"].(float64) != 3 || done["dtype"] != "bfloat16" {
		t.Fatalf("no done line with 3 bf16 steps:\n%s", out)
	}
	if v := done["val_loss"].(float64); math.IsNaN(v) || v <= 0 {
		t.Fatalf("val loss %v", v)
	}
	for _, name := range []string{"model.safetensors", "optimizer.safetensors"} {
		f, err := safetensors.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range f.Names() {
			if info, _ := f.Info(n); info.DType.IsFloat() && info.DType != safetensors.F32 {
				t.Errorf("%s: %s is %s, want F32", name, n, info.DType)
			}
		}
		f.Close()
	}
	out = mustRun(t, append([]string{"train", "--steps", "4", "--resume", dir}, common...)...)
	if !strings.Contains(out, `"steps":4`) {
		t.Fatalf("resumed bf16 run did not reach 4 steps:\n%s", out)
	}
	if _, err := run(t, "train", "--arch", "gpt", "--steps", "1", "--dtype", "int8"); err == nil {
		t.Fatal("--dtype int8 accepted")
	}
}

// TestBenchTrainBF16 times a mixed-precision training step.
func TestBenchTrainBF16(t *testing.T) {
	size := []string{"--d-model", "32", "--n-layers", "1", "--n-heads", "2", "--vocab-size", "50", "--seq-len", "16",
		"--batch-size", "2", "--steps", "2", "--warmup", "1", "--json", "--dtype", "bf16"}
	res := jsonLines(t, mustRun(t, append([]string{"bench", "gpt", "--mode", "train"}, size...)...))
	if len(res) != 1 || res[0]["dtype"] != "bf16" {
		t.Fatalf("bench bf16: %v", res)
	}
	for _, k := range []string{"tokens_per_s", "ms_per_step", "final_loss"} {
		if v, ok := res[0][k].(float64); !ok || !(v > 0) {
			t.Fatalf("bench bf16: %s = %v", k, res[0][k])
		}
	}
	if _, err := run(t, "bench", "gpt", "--mode", "train", "--dtype", "int8"); err == nil {
		t.Fatal("bench --dtype int8 accepted")
	}
}
