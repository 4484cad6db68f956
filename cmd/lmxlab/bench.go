package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lmxlab/lmxlab/generate"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/cpu/gemm"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/train"
	"github.com/spf13/cobra"
)

// sizeFlags are the model-shape flags shared by bench and train.
type sizeFlags struct {
	dModel, nLayers, nHeads, nKVHeads, dFF, vocab, seqLen, batch int
}

func (s *sizeFlags) register(cmd *cobra.Command, defaults sizeFlags) {
	f := cmd.Flags()
	f.IntVar(&s.dModel, "d-model", defaults.dModel, "model width (0: the architecture's)")
	f.IntVar(&s.nLayers, "n-layers", defaults.nLayers, "number of blocks (0: the architecture's)")
	f.IntVar(&s.nHeads, "n-heads", defaults.nHeads, "attention heads (0: the architecture's)")
	f.IntVar(&s.nKVHeads, "n-kv-heads", defaults.nKVHeads, "key/value heads (0: llama uses n_heads/2 when the width is overridden)")
	f.IntVar(&s.dFF, "d-ff", defaults.dFF, "FFN width (0: 4·d for gpt, 8/3·d rounded up to 64 for llama)")
	f.IntVar(&s.vocab, "vocab-size", defaults.vocab, "vocabulary size (0: the architecture's or the tokenizer's)")
	f.IntVar(&s.seqLen, "seq-len", defaults.seqLen, "sequence length")
	f.IntVar(&s.batch, "batch-size", defaults.batch, "batch size")
}

// apply overrides the config's shape with the flags that are set (non-zero), filling derived
// sizes the way the peer scripts do.
func (s *sizeFlags) apply(cfg models.ModelConfig) models.ModelConfig {
	b := &cfg.Block
	widthChanged := s.dModel > 0 && s.dModel != b.DModel
	if s.dModel > 0 {
		b.DModel = s.dModel
	}
	if s.nHeads > 0 {
		b.NHeads = s.nHeads
	}
	if s.nLayers > 0 {
		cfg.NLayers = s.nLayers
	}
	llama := b.FFN == "gated"
	switch {
	case s.nKVHeads > 0:
		b.NKVHeads = s.nKVHeads
	case llama && (widthChanged || s.nHeads > 0):
		b.NKVHeads = max(1, b.NHeads/2)
	case !llama:
		b.NKVHeads = 0
	}
	switch {
	case s.dFF > 0:
		b.DFF = s.dFF
	case widthChanged && llama:
		b.DFF = int(math.Ceil(float64(8*b.DModel)/3/64)) * 64
	case widthChanged:
		b.DFF = 4 * b.DModel
	}
	if s.vocab > 0 {
		cfg.VocabSize = s.vocab
	}
	if s.seqLen > b.MaxSeqLen {
		b.MaxSeqLen = s.seqLen
	}
	cfg.BlockConfigs = nil
	return cfg
}

// peakRSSMB is the process's peak resident set size in MB.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

func init() {
	var sf sizeFlags
	var mode, device, dtype, kernel, sizes, decode string
	var steps, warmup, genTokens, perCall int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench [ARCH]",
		Short: "Benchmark a forward pass, a training step or decoding (or a kernel with --kernel)",
		Long: `bench measures lmxlab on this machine. With ARCH (gpt or llama, optionally sized: gpt_10m) it builds the
model with the size flags and times --mode forward (compiled forward pass), train (the same compiled
AdamW step as lmxlab train) or generate (KV-cached decoding, batch --batch-size; tokens_per_s counts
the decode steps after the prefill, which prefill_ms times apart). --decode picks the decode path:
compiled (static caches, one compiled step: the default on the gpu device), eager (the default on the
cpu) or auto. With --kernel gemm it times float32 GEMMs of --sizes MxNxK,... . --json prints one JSON
line per measurement.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := useDevice(device); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if kernel != "" {
				return benchKernel(out, kernel, sizes, steps, asJSON)
			}
			if len(args) == 0 {
				return fmt.Errorf("name an architecture (gpt, llama, ...) or a --kernel")
			}
			cfg, err := models.ConfigByName(args[0])
			if err != nil {
				return err
			}
			cfg = sf.apply(cfg)
			if _, err := models.Lookup(args[0]); err == nil {
				cfg.Name = args[0] // a bare architecture name: the size comes from the flags
			}
			computeDType, err := models.ParseComputeDType(dtype)
			if err != nil {
				return fmt.Errorf("--dtype: %w", err)
			}
			decodeMode, err := parseDecodeMode(decode)
			if err != nil {
				return err
			}
			res, err := benchModel(cfg, sf, mode, steps, warmup, genTokens, perCall, computeDType, decodeMode)
			if err != nil {
				return err
			}
			res["device"] = mx.DefaultDevice().Name()
			res["dtype"] = dtype
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "%s %s: %.0f tokens/s, %.1f ms/step, peak RSS %.0f MB\n", res["arch"], mode, res["tokens_per_s"], res["ms_per_step"], res["peak_rss_mb"])
			return nil
		},
	}
	sf.register(cmd, sizeFlags{seqLen: 256, batch: 16})
	f := cmd.Flags()
	f.StringVar(&mode, "mode", "train", "forward, train or generate")
	f.IntVar(&steps, "steps", 10, "timed steps (tokens to decode in generate mode)")
	f.IntVar(&warmup, "warmup", 3, "untimed warm-up steps (the first compiles)")
	f.IntVar(&genTokens, "prompt-len", 16, "prompt length for generate mode")
	f.IntVar(&perCall, "steps-per-call", 0, "train mode: updates per compiled call, as train's steps_per_call (0: 4 on the gpu, 1 on the cpu); --steps and --warmup round up to multiples")
	f.StringVar(&device, "device", "", "cpu or gpu (default: $LMXLAB_DEVICE or cpu)")
	f.StringVar(&dtype, "dtype", "fp32", "compute dtype: fp32, or bf16 for mixed precision (float32 weights and optimizer state; slow on cpu)")
	f.StringVar(&kernel, "kernel", "", "benchmark a kernel instead of a model: gemm")
	f.StringVar(&sizes, "sizes", "256x256x256,512x512x512,1024x1024x1024", "kernel sizes, MxNxK comma-separated")
	f.StringVar(&decode, "decode", "auto", "generate mode's decode path: auto (compiled on the gpu, eager on the cpu), eager or compiled")
	f.BoolVar(&asJSON, "json", false, "print JSON lines")
	addCommand(cmd)
}

// useDevice sets the default device from a flag value ("" keeps the default).
func useDevice(name string) error {
	if name == "" {
		return nil
	}
	d, err := mx.OpenDevice(name)
	if err != nil {
		return err
	}
	mx.SetDefaultDevice(d)
	return nil
}

// parseDecodeMode maps a --decode flag value to a generate.DecodeMode.
func parseDecodeMode(s string) (generate.DecodeMode, error) {
	switch s {
	case "", "auto":
		return generate.DecodeAuto, nil
	case "eager":
		return generate.DecodeEager, nil
	case "compiled":
		return generate.DecodeCompiled, nil
	}
	return 0, fmt.Errorf("--decode: unknown decode path %q (auto, eager or compiled)", s)
}

func benchModel(cfg models.ModelConfig, sf sizeFlags, mode string, steps, warmup, promptLen, perCall int, dt mx.DType, decode generate.DecodeMode) (map[string]any, error) {
	m, err := models.New(cfg, random.Key(0))
	if err != nil {
		return nil, err
	}
	if err := m.SetComputeDType(dt); err != nil {
		return nil, err
	}
	b, l := sf.batch, sf.seqLen
	tok := random.Randint(random.Key(1), 0, cfg.VocabSize, []int{b, l + 1}, mx.Int32)
	x, y := mx.SliceAxis(tok, 1, 0, l), mx.SliceAxis(tok, 1, 1, l+1)
	mx.Eval(x, y)
	res := map[string]any{"arch": cfg.Name, "mode": mode, "params": m.NumParams(), "batch_size": b, "seq_len": l,
		"d_model": cfg.Block.DModel, "n_layers": cfg.NLayers, "n_heads": cfg.Block.NHeads, "n_kv_heads": cfg.Block.KVHeads(),
		"d_ff": cfg.Block.DFF, "vocab_size": cfg.VocabSize}
	var first time.Duration
	var timed time.Duration
	tokensPerStep := b * l
	switch mode {
	case "forward":
		fwd := mx.Compile(func(a ...*mx.Array) []*mx.Array {
			return []*mx.Array{m.Forward(a[0], models.ForwardOptions{})}
		})
		run := func() { mx.Eval(fwd.Call(x)...) }
		first, timed = timeSteps(run, warmup, steps)
	case "train":
		tc := train.DefaultConfig()
		tc.BatchSize, tc.SeqLen, tc.WarmupSteps, tc.MaxSteps = b, l, 0, warmup+steps
		tc.LearningRate, tc.LRSchedule, tc.EvalInterval, tc.LogInterval = 3e-4, "constant", 0, 0
		// Parameters and optimizer state are updated in place on the GPU (XLA aliasing), unless
		// LMXLAB_DONATE=0 (mx.Compiled.Donate), to compare.
		tc.DonateBuffers = true
		tc.StepsPerCall = perCall
		tr := &train.Trainer{Model: m, Config: tc, Loss: func(x, y *mx.Array) *mx.Array { return m.Loss(x, y, nil) }}
		batch := train.Batch{X: x, Y: y}
		var loss float64
		n0, c0 := backendCompiles()
		// k updates per compiled call, as lmxlab train runs them (each on the batch);
		// first_step_s is then the first call's, and the step counts round up to multiples of k.
		k := tc.UpdatesPerCall()
		res["steps_per_call"] = k
		if k == 1 {
			first, timed = timeSteps(func() { loss = tr.Step(batch).Loss }, warmup, steps)
		} else {
			bs := slices.Repeat([]train.Batch{batch}, k)
			calls := (steps + k - 1) / k
			first, timed = timeSteps(func() { ms := tr.StepMany(bs); loss = ms[len(ms)-1].Loss }, (warmup+k-1)/k, calls)
			steps = calls * k
		}
		res["final_loss"] = loss
		if n1, c1 := backendCompiles(); n1 >= 0 {
			// The backend's own compilations during the run (XLA's, on the gpu device): the
			// training step's, plus any small eager programs.
			res["compile_count"], res["compile_s"] = n1-n0, (c1 - c0).Seconds()
		}
	case "generate":
		prompt := make([][]int, b)
		for i := range prompt {
			prompt[i] = make([]int, promptLen)
			for j := range prompt[i] {
				prompt[i][j] = (i*31 + j*7) % cfg.VocabSize
			}
		}
		compiled := decode == generate.DecodeCompiled || (decode == generate.DecodeAuto && mx.DefaultDevice() != mx.CPU)
		var dec *generate.Decoder
		if compiled {
			dec = generate.NewDecoder(m, generate.Sampler{}) // greedy, reused so it compiles once
		}
		// Time stamps of each sampled token separate the prefill (up to the first token) from
		// decoding (first to last token).
		gen := func(n int) (prefill, decode time.Duration, err error) {
			var stamps []time.Time
			t0 := time.Now()
			opts := generate.Options{MaxTokens: n, Decode: generate.DecodeEager, Decoder: dec,
				OnToken: func(int) bool { stamps = append(stamps, time.Now()); return true }}
			if _, err := generate.Generate(m, prompt, opts); err != nil {
				return 0, 0, err
			}
			return stamps[0].Sub(t0), stamps[len(stamps)-1].Sub(stamps[0]), nil
		}
		// Warm up: the compiled path traces and compiles its step here (with the timed run's
		// length, so that the cache capacity and the prefill match).
		warmTokens := 4
		if compiled {
			warmTokens = steps + 1
		}
		t0 := time.Now()
		if _, _, err := gen(warmTokens); err != nil {
			return nil, err
		}
		res["warmup_s"] = time.Since(t0).Seconds()
		if first, timed, err = gen(steps + 1); err != nil {
			return nil, err
		}
		tokensPerStep = b
		res["prefill_ms"] = ms(first)
		res["prompt_len"] = promptLen
		res["decode_path"] = "eager"
		if compiled {
			res["decode_path"] = "compiled"
			res["compile_count"] = dec.Traces()
			res["compile_s"] = dec.CompileTime().Seconds()
		}
	default:
		return nil, fmt.Errorf("unknown --mode %q (forward, train or generate)", mode)
	}
	per := timed / time.Duration(max(steps, 1))
	res["steps"] = steps
	res["ms_per_step"] = ms(per)
	res["tokens_per_s"] = float64(tokensPerStep) / per.Seconds()
	res["first_step_s"] = first.Seconds()
	res["peak_rss_mb"] = peakRSSMB()
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// timeSteps runs warm-up steps (the first one's time is returned separately: it compiles) and
// then times steps.
func timeSteps(run func(), warmup, steps int) (first, timed time.Duration) {
	for i := 0; i < max(warmup, 1); i++ {
		t0 := time.Now()
		run()
		if i == 0 {
			first = time.Since(t0)
		}
	}
	t0 := time.Now()
	for i := 0; i < steps; i++ {
		run()
	}
	return first, time.Since(t0)
}

func benchKernel(out io.Writer, kernel, sizes string, reps int, asJSON bool) error {
	if kernel != "gemm" {
		return fmt.Errorf("unknown --kernel %q (gemm)", kernel)
	}
	for _, s := range strings.Split(sizes, ",") {
		dims := strings.Split(strings.TrimSpace(s), "x")
		if len(dims) != 3 {
			return fmt.Errorf("size %q is not MxNxK", s)
		}
		var mnk [3]int
		for i, d := range dims {
			v, err := strconv.Atoi(d)
			if err != nil || v <= 0 {
				return fmt.Errorf("size %q is not MxNxK", s)
			}
			mnk[i] = v
		}
		m, n, k := mnk[0], mnk[1], mnk[2]
		a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for i := range a {
			a[i] = float32(i%7) * 0.1
		}
		for i := range b {
			b[i] = float32(i%5) * 0.1
		}
		run := func() { gemm.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }
		run()
		// Repeat until at least 0.5 s has passed, for a stable figure.
		iters := 0
		t0 := time.Now()
		for time.Since(t0) < 500*time.Millisecond || iters < max(reps, 3) {
			run()
			iters++
		}
		sec := time.Since(t0).Seconds() / float64(iters)
		gflops := 2 * float64(m) * float64(n) * float64(k) / sec / 1e9
		if asJSON {
			json.NewEncoder(out).Encode(map[string]any{"kernel": "sgemm", "size": s, "m": m, "n": n, "k": k, "gflops": gflops, "ms": sec * 1000, "iters": iters})
		} else {
			fmt.Fprintf(out, "sgemm %s: %.1f GFLOP/s (%.3f ms)\n", s, gflops, sec*1000)
		}
	}
	return nil
}

// backendCompiles reports how many programs the default device's backend compiled and how long
// that took, or -1 for a backend that does not count (the cpu backend compiles in microseconds).
func backendCompiles() (int, time.Duration) {
	if c, ok := mx.DefaultDevice().Backend().(interface{ CompileStats() (int, time.Duration) }); ok {
		return c.CompileStats()
	}
	return -1, 0
}
