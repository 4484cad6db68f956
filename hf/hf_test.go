package hf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/internal/testenv"
	"github.com/lmxlab/lmxlab/mx"
)

// sharedDir finds the shared folder: $LMXLAB_SHARED, else ../shared beside the repository root.
func sharedDir(t *testing.T) string {
	t.Helper()
	return testenv.SharedDir(t)
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "fixtures", "hf", name)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Fatalf("Hugging Face fixture %s is missing (set LMXLAB_SHARED to the shared folder): %v", name, err)
	}
	return dir
}

func TestFoundationFixturesMatchHuggingFace(t *testing.T) {
	for _, name := range []string{"gpt2", "llama", "llama_tied_rope_scaled", "mistral", "qwen2",
		"qwen3", "gemma", "gemma2", "gemma3_text", "phi3", "mixtral", "qwen3_moe", "gpt_neox",
		"llama4_text", "deepseek_v2", "deepseek_v3", "mamba2", "nemotron_h", "falcon_h1", "jamba", "qwen3_next"} {
		t.Run(name, func(t *testing.T) {
			dir := fixture(t, name)
			// float32 on the cpu matches to 1e-4; on the GPU (LMXLAB_DEVICE=gpu) XLA may reorder
			// reductions, so the GPU issue allows 1e-3.
			tol := 1e-4
			if mx.DefaultDevice() != mx.CPU {
				tol = 1e-3
			}
			rep, err := Verify(dir, filepath.Join(dir, "reference.safetensors"), tol)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: max_abs_err %.3g, greedy %v", name, rep.MaxAbsErr, rep.Greedy)
			if !rep.LogitsMatch {
				t.Fatalf("max abs error %.3g > %g", rep.MaxAbsErr, tol)
			}
			if rep.GreedyMatch == nil || !*rep.GreedyMatch {
				t.Fatalf("greedy decode %v, want %v", rep.Greedy, rep.Expected)
			}
		})
	}
}

func TestUnsupportedAndBrokenCheckpoints(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil {
		t.Fatal("empty folder loaded")
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "bloom"}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "bloom") {
		t.Fatalf("unsupported type: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": `), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Fatalf("truncated config: %v", err)
	}
}
