package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// run executes the CLI in-process with fresh flag values and returns stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var reset func(c *cobra.Command)
	reset = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				_ = sv.Replace(nil)
			} else {
				_ = f.Value.Set(f.DefValue)
			}
			f.Changed = false
		})
		for _, sub := range c.Commands() {
			reset(sub)
		}
	}
	reset(rootCmd)
	var out bytes.Buffer
	rootCmd.SetArgs(args)
	rootCmd.SetOut(&out)
	rootCmd.SetIn(strings.NewReader(""))
	err := rootCmd.Execute()
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("lmxlab %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// jsonLines decodes every JSON line of out.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var res []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q (%v)", sc.Text(), err)
		}
		res = append(res, m)
	}
	return res
}

func TestListInfoCount(t *testing.T) {
	out := mustRun(t, "list")
	for _, a := range []string{"gpt", "llama"} {
		if !strings.Contains(out, a) {
			t.Fatalf("list lacks %s:\n%s", a, out)
		}
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, "info", "llama", "--tiny")), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg["block"].(map[string]any)["d_model"].(float64) != 64 {
		t.Fatalf("info llama --tiny: %v", cfg)
	}
	if out := mustRun(t, "count", "gpt", "--tiny"); !strings.Contains(out, "83,456") {
		t.Fatalf("count gpt --tiny: %s", out)
	}
	if out := mustRun(t, "count", "llama_7b"); !strings.Contains(out, "5,933,109,248") {
		t.Fatalf("count llama_7b: %s", out)
	}
	if out := mustRun(t, "count", "gpt", "--tiny", "--detail"); !strings.Contains(out, "blocks") {
		t.Fatalf("count --detail: %s", out)
	}
	if _, err := run(t, "info", "transformer_xl"); err == nil || !strings.Contains(err.Error(), "gpt") {
		t.Fatalf("unknown architecture: %v", err)
	}
}

func TestTrainResumeGenerateEval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	common := []string{"--d-model", "32", "--n-layers", "1", "--n-heads", "2", "--seq-len", "16", "--batch-size", "4",
		"--warmup", "2", "--out", dir, "--json", "--samples", "1", "--sample-tokens", "6", "--eval-batches", "2"}
	out := mustRun(t, append([]string{"train", "--arch", "llama", "--steps", "6"}, common...)...)
	lines := jsonLines(t, out)
	var done map[string]any
	var first, last float64 = math.NaN(), math.NaN()
	for _, l := range lines {
		if l["event"] == "done" {
			done = l
		}
		if v, ok := l["loss"].(float64); ok && l["event"] == nil {
			if math.IsNaN(first) {
				first = v
			}
			last = v
		}
	}
	if done == nil || done["steps"].(float64) != 6 || !(done["val_bpb"].(float64) > 0) {
		t.Fatalf("no done line with 6 steps and val_bpb:\n%s", out)
	}
	if math.IsNaN(first) || math.IsNaN(last) {
		t.Fatalf("no loss lines:\n%s", out)
	}
	for _, f := range []string{"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json", tokenizerFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("checkpoint lacks %s: %v", f, err)
		}
	}
	// Resume to 9 updates.
	out = mustRun(t, append([]string{"train", "--arch", "llama", "--steps", "9", "--resume", dir}, common...)...)
	for _, l := range jsonLines(t, out) {
		if l["event"] == "done" && l["steps"].(float64) != 9 {
			t.Fatalf("resumed run stopped at %v steps", l["steps"])
		}
	}
	gen := jsonLines(t, mustRun(t, "generate", dir, "--prompt", "1+", "--max-tokens", "5", "--json", "--temperature", "0"))
	if len(gen) != 1 || len(gen[0]["tokens"].([]any)) != 5 || !strings.HasPrefix(gen[0]["text"].(string), "1+") {
		t.Fatalf("generate: %v", gen)
	}
	streamed := mustRun(t, "generate", dir, "--prompt", "1+", "--max-tokens", "5", "--temperature", "0")
	if !strings.HasPrefix(streamed, gen[0]["text"].(string)) {
		t.Fatalf("streamed %q, JSON text %q", streamed, gen[0]["text"])
	}
	ev := jsonLines(t, mustRun(t, "eval", dir, "--json", "--seq-len", "16", "--max-batches", "3"))
	if loss := ev[0]["loss"].(float64); !(loss > 0 && loss < 10) || ev[0]["bpb"].(float64) <= 0 {
		t.Fatalf("eval: %v", ev)
	}
	if _, err := run(t, "generate", filepath.Join(t.TempDir(), "nothing")); err == nil {
		t.Fatal("generate from a missing checkpoint succeeded")
	}
}

func TestBenchModes(t *testing.T) {
	size := []string{"--d-model", "32", "--n-layers", "1", "--n-heads", "2", "--vocab-size", "50", "--seq-len", "16", "--batch-size", "2", "--steps", "2", "--warmup", "1", "--json"}
	for _, mode := range []string{"forward", "train", "generate"} {
		res := jsonLines(t, mustRun(t, append([]string{"bench", "gpt", "--mode", mode}, size...)...))
		for _, k := range []string{"tokens_per_s", "ms_per_step", "peak_rss_mb"} {
			if v, ok := res[0][k].(float64); !ok || v <= 0 {
				t.Fatalf("bench %s: %s = %v", mode, k, res[0][k])
			}
		}
	}
	// Compiled decoding: one trace, its compile time, and the decode rate apart from the prefill.
	for _, arch := range []string{"gpt", "llama"} {
		res := jsonLines(t, mustRun(t, append([]string{"bench", arch, "--mode", "generate", "--decode", "compiled"}, size...)...))
		if res[0]["decode_path"] != "compiled" || res[0]["compile_count"] != 1.0 || res[0]["compile_s"].(float64) <= 0 ||
			res[0]["tokens_per_s"].(float64) <= 0 || res[0]["prefill_ms"].(float64) <= 0 {
			t.Fatalf("bench %s generate --decode compiled: %v", arch, res[0])
		}
	}
	// Several updates per compiled call: the same training, so the same final loss.
	base := []string{"bench", "gpt", "--mode", "train", "--d-model", "32", "--n-layers", "1", "--n-heads", "2", "--vocab-size", "50",
		"--seq-len", "16", "--batch-size", "2", "--steps", "4", "--warmup", "2", "--json"}
	one := jsonLines(t, mustRun(t, base...))[0]
	two := jsonLines(t, mustRun(t, append(base, "--steps-per-call", "2")...))[0]
	if two["steps_per_call"] != 2.0 || two["final_loss"] != one["final_loss"] {
		t.Fatalf("bench --steps-per-call 2: %v (one per call: final loss %v)", two, one["final_loss"])
	}
	// --steps rounds up to a multiple: 2 calls of 3.
	if three := jsonLines(t, mustRun(t, append(base, "--steps-per-call", "3")...))[0]; three["steps"] != 6.0 || three["steps_per_call"] != 3.0 {
		t.Fatalf("--steps 4 with --steps-per-call 3: %v", three)
	}
	if one["steps_per_call"] != 1.0 {
		t.Fatalf("bench on the cpu: %v updates per call by default", one["steps_per_call"])
	}
	if _, err := run(t, "bench", "gpt", "--mode", "generate", "--decode", "sideways"); err == nil {
		t.Fatal("unknown decode path accepted")
	}
	res := jsonLines(t, mustRun(t, "bench", "--kernel", "gemm", "--sizes", "8x8x8,16x4x2", "--json"))
	if len(res) != 2 || res[0]["gflops"].(float64) <= 0 {
		t.Fatalf("bench gemm: %v", res)
	}
	if _, err := run(t, "bench", "gpt", "--mode", "sideways"); err == nil {
		t.Fatal("unknown mode accepted")
	}
}

func TestHFVerify(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures", "hf", "qwen2")
	res := jsonLines(t, mustRun(t, "hf", "verify", dir, "--reference", filepath.Join(dir, "reference.safetensors")))
	if res[0]["greedy_match"] != true || res[0]["max_abs_err"].(float64) > 1e-4 {
		t.Fatalf("hf verify: %v", res[0])
	}
}
