package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmxlab/lmxlab/data"
	"github.com/lmxlab/lmxlab/eval"
	"github.com/lmxlab/lmxlab/generate"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/tokenizer"
	"github.com/lmxlab/lmxlab/train"
	"github.com/spf13/cobra"
)

type trainFlags struct {
	arch, configFile, dataName, tok, out, resume, device, dtype, schedule, optimizer string
	sizes                                                                            sizeFlags
	steps, warmup, evalInterval, evalBatches, samples, sampleTokens, accum           int
	timeBudget, lr, weightDecay, valFraction, clip, dropout, temperature             float64
	seed                                                                             int64
	asJSON, noCompile                                                                bool
}

func init() {
	var f trainFlags
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model (default: a small GPT on the embedded arithmetic corpus) and print samples",
		Long: `train builds a model from an architecture (--arch gpt, llama, gpt_10m, ...) or a config file (--config),
trains it on text (--data: "arithmetic", the embedded default; "shakespeare"; or a path) with a tokenizer
(--tokenizer: char, a tiktoken encoding, or a tokenizer.json), evaluates validation loss and bits per byte,
writes a checkpoint to --out and prints samples. --time-budget stops on wall-clock time (training only);
--resume continues a checkpoint bit for bit. Without a terminal on stdout, or with --json, progress is
printed as JSON metric lines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTrain(cmd.OutOrStdout(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.arch, "arch", "gpt", "architecture, optionally sized (gpt, llama, gpt_10m, llama:tiny, ...)")
	fl.StringVar(&f.configFile, "config", "", "model config JSON (overrides --arch)")
	fl.StringVar(&f.dataName, "data", "arithmetic", "training text: arithmetic (embedded), shakespeare, sample, or a file path")
	fl.StringVar(&f.tok, "tokenizer", "char", "char, a tiktoken encoding (gpt2, cl100k_base, ...) or a tokenizer.json path")
	f.sizes.register(cmd, sizeFlags{seqLen: 64, batch: 12})
	fl.IntVar(&f.steps, "steps", 0, "optimizer updates (0: 400, or unlimited with --time-budget)")
	fl.Float64Var(&f.timeBudget, "time-budget", 0, "stop after this many seconds of training (0: none)")
	fl.Float64Var(&f.lr, "lr", 2e-3, "peak learning rate")
	fl.IntVar(&f.warmup, "warmup", 50, "linear warm-up updates")
	fl.StringVar(&f.schedule, "schedule", "", "cosine, linear or constant (default: cosine with --steps, constant with only a time budget)")
	fl.StringVar(&f.optimizer, "optimizer", "adamw", "adamw, sgd or lion")
	fl.Float64Var(&f.weightDecay, "weight-decay", 0.01, "decoupled weight decay")
	fl.Float64Var(&f.clip, "max-grad-norm", 1.0, "global gradient-norm clip (0: off)")
	fl.IntVar(&f.accum, "grad-accumulation", 1, "micro-batches per update")
	fl.Float64Var(&f.dropout, "dropout", 0, "dropout probability")
	fl.Float64Var(&f.valFraction, "val-fraction", 0.1, "fraction of the text held out for validation (its tail)")
	fl.IntVar(&f.evalInterval, "eval-interval", 0, "evaluate every this many updates (0: only at the end)")
	fl.IntVar(&f.evalBatches, "eval-batches", 0, "validation batches per evaluation (0: enough for 40 windows, as the peer protocol)")
	fl.Int64Var(&f.seed, "seed", 42, "random seed (initialisation, batches, dropout)")
	fl.StringVar(&f.out, "out", "runs/latest", "checkpoint directory")
	fl.StringVar(&f.resume, "resume", "", "resume from this checkpoint directory")
	fl.StringVar(&f.device, "device", "", "cpu or gpu (default: $LMXLAB_DEVICE or cpu)")
	fl.StringVar(&f.dtype, "dtype", "fp32", "compute dtype: fp32, or bf16 for mixed precision (float32 weights, optimizer state and loss; slow on cpu)")
	fl.IntVar(&f.samples, "samples", 2, "samples to print at the end")
	fl.IntVar(&f.sampleTokens, "sample-tokens", 120, "tokens per sample")
	fl.Float64Var(&f.temperature, "temperature", 0.8, "sampling temperature for the samples")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON metric lines")
	fl.BoolVar(&f.noCompile, "no-compile", false, "run the training step eagerly instead of compiled")
	addCommand(cmd)
}

// labDefaults is the small model the bare architecture names train by default (the seed's
// five-minute protocol size).
var labDefaults = sizeFlags{dModel: 128, nLayers: 4, nHeads: 4}

func modelConfig(f trainFlags, vocab int) (models.ModelConfig, error) {
	var cfg models.ModelConfig
	var err error
	switch {
	case f.configFile != "":
		cfg, err = models.LoadConfig(f.configFile)
	default:
		cfg, err = models.ConfigByName(f.arch)
		if err == nil && (f.arch == "gpt" || f.arch == "llama") {
			d := labDefaults
			d.seqLen = f.sizes.seqLen
			cfg = d.apply(cfg)
			cfg.Name = f.arch
		}
	}
	if err != nil {
		return cfg, err
	}
	s := f.sizes
	s.vocab = vocab
	cfg = s.apply(cfg)
	if f.configFile == "" {
		// The model is trained on windows of seq_len: that is its context.
		cfg.Block.MaxSeqLen = f.sizes.seqLen
	}
	if f.dropout > 0 {
		cfg.Block.Dropout = f.dropout
	}
	return cfg, cfg.Validate()
}

func runTrain(out io.Writer, f trainFlags) error {
	if err := useDevice(f.device); err != nil {
		return err
	}
	computeDType, err := models.ParseComputeDType(f.dtype)
	if err != nil {
		return fmt.Errorf("--dtype: %w", err)
	}
	text, err := data.Text(f.dataName)
	if err != nil {
		return err
	}
	var tok tokenizer.Tokenizer
	var tokFiles map[string][]byte
	if f.resume != "" {
		if tok, err = loadTokenizer(f.resume); err == nil {
			tokFiles = checkpointTokenizerFiles(f.resume)
		}
	} else {
		tok, tokFiles, err = buildTokenizer(f.tok, text)
	}
	if err != nil {
		return err
	}
	tokens := data.Encode(tok, text)
	trainTok, valTok, err := data.SplitTokens(tokens, f.valFraction)
	if err != nil {
		return err
	}
	var cfg models.ModelConfig
	if f.resume != "" {
		raw, err := train.ReadModelConfig(f.resume)
		if err != nil {
			return err
		}
		if cfg, err = models.ParseConfig(raw); err != nil {
			return err
		}
	} else if cfg, err = modelConfig(f, tok.VocabSize()); err != nil {
		return err
	}
	model, err := models.New(cfg, random.Key(uint64(f.seed)))
	if err != nil {
		return err
	}
	// Mixed precision: the parameters, the optimizer state and the checkpoint stay float32.
	if err := model.SetComputeDType(computeDType); err != nil {
		return err
	}
	tc := train.DefaultConfig()
	tc.LearningRate, tc.WeightDecay, tc.WarmupSteps, tc.MaxGradNorm = f.lr, f.weightDecay, f.warmup, f.clip
	tc.BatchSize, tc.SeqLen, tc.GradAccumulationSteps, tc.Seed = f.sizes.batch, f.sizes.seqLen, f.accum, f.seed
	tc.EvalInterval, tc.EvalBatches, tc.Optimizer, tc.CompileStep = f.evalInterval, f.evalBatches, f.optimizer, !f.noCompile
	if tc.EvalBatches == 0 {
		tc.EvalBatches = (40 + tc.BatchSize - 1) / tc.BatchSize
	}
	tc.TimeBudgetS, tc.CheckpointDir, tc.LogInterval = f.timeBudget, f.out, 10
	tc.MaxSteps = f.steps
	if tc.MaxSteps == 0 {
		tc.MaxSteps = 400
		if f.timeBudget > 0 {
			tc.MaxSteps = math.MaxInt32
		}
	}
	tc.LRSchedule = f.schedule
	if tc.LRSchedule == "" {
		tc.LRSchedule = "cosine"
		if f.steps == 0 && f.timeBudget > 0 {
			tc.LRSchedule = "constant"
		}
	}
	if tc.EvalInterval == 0 {
		tc.EvalInterval = tc.MaxSteps // the final evaluation
	}
	src, err := data.RandomWindows(trainTok, tc.BatchSize, tc.SeqLen, f.seed)
	if err != nil {
		return err
	}
	valSource := func() train.BatchSource {
		s, err := data.RandomWindows(valTok, tc.BatchSize, tc.SeqLen, 1337)
		if err != nil {
			panic(err) // checked below before training starts
		}
		return batchAdapter{s}
	}
	if _, err := data.RandomWindows(valTok, tc.BatchSize, tc.SeqLen, 1337); err != nil {
		return fmt.Errorf("validation split: %w", err)
	}
	tr := &train.Trainer{
		Model:       model,
		LossWithKey: func(x, y, key *mx.Array) *mx.Array { return model.Loss(x, y, key) },
		Config:      tc,
		EvalData:    valSource,
		ModelConfig: cfg.JSON(),
		ExtraFiles:  tokFiles,
	}
	if cfg.Block.Dropout == 0 {
		tr.LossWithKey = nil
		tr.Loss = func(x, y *mx.Array) *mx.Array { return model.Loss(x, y, nil) }
	}
	stdout, isFile := out.(*os.File)
	switch {
	case f.asJSON || !isFile || !train.IsTerminal(stdout):
		tr.Callbacks = []train.Callback{&train.JSONLogger{Out: out, Interval: tc.LogInterval}}
	default:
		tr.Callbacks = train.StandardCallbacks(stdout)
	}
	if f.resume != "" {
		if err := tr.LoadCheckpoint(f.resume); err != nil {
			return err
		}
	}
	precision := ""
	if computeDType != mx.Float32 {
		precision = fmt.Sprintf(", %s compute (float32 weights)", computeDType)
	}
	fmt.Fprintf(os.Stderr, "training %s (%s parameters, vocab %d) on %s: %s train / %s val tokens, batch %d × %d%s\n",
		cfg.Name, commas(model.NumParams()), cfg.VocabSize, f.dataName, commas(len(trainTok)), commas(len(valTok)), tc.BatchSize, tc.SeqLen, precision)
	history, err := tr.Train(batchAdapter{src})
	if err != nil {
		return err
	}
	valLoss := tr.Evaluate()
	bpt := eval.TokenizerBytesPerToken(tok, textOfTail(text, f.valFraction))
	summary := map[string]any{
		"event": "done", "arch": cfg.Name, "params": model.NumParams(), "steps": tr.Steps(), "stop_reason": tr.StopReason,
		"val_loss": valLoss, "val_perplexity": eval.Perplexity(valLoss), "val_bpb": eval.BitsPerByte(valLoss, bpt),
		"checkpoint": f.out, "dtype": computeDType.String(),
	}
	if n := len(history); n > 0 {
		summary["train_loss"] = history[n-1].Loss
		summary["elapsed_s"] = history[n-1].Elapsed
		summary["tokens_per_s"] = float64(history[n-1].Tokens) / math.Max(history[n-1].Elapsed, 1e-9)
	}
	if err := tr.SaveCheckpoint(f.out, batchAdapter{src}); err != nil {
		return err
	}
	if f.asJSON {
		json.NewEncoder(out).Encode(summary)
	} else {
		fmt.Fprintf(out, "\n%d updates (%s): val loss %.4f, val bpb %.4f, perplexity %.2f; checkpoint %s\n",
			tr.Steps(), tr.StopReason, valLoss, summary["val_bpb"], summary["val_perplexity"], f.out)
	}
	return printSamples(out, model, tok, textOfTail(text, f.valFraction), f, f.asJSON)
}

// checkpointTokenizerFiles reads a checkpoint's tokenizer files, to carry them into the resumed
// run's checkpoints.
func checkpointTokenizerFiles(dir string) map[string][]byte {
	files := map[string][]byte{}
	for _, name := range []string{tokenizerFile, "tokenizer.json"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			files[name] = b
		}
	}
	return files
}

// textOfTail returns the validation part of the text (its last fraction), for bytes per token.
func textOfTail(text string, frac float64) string {
	start := int(float64(len(text)) * (1 - frac))
	for start < len(text) && start > 0 && (text[start]&0xC0) == 0x80 {
		start++ // keep whole UTF-8 characters
	}
	return text[start:]
}

// printSamples prints samples continuing the first line of the validation text.
func printSamples(out io.Writer, m *models.LanguageModel, tok tokenizer.Tokenizer, val string, f trainFlags, asJSON bool) error {
	if f.samples <= 0 {
		return nil
	}
	prompt := val
	if i := strings.IndexByte(prompt, '\n'); i >= 0 {
		prompt = prompt[:i+1]
	}
	if len(prompt) > 64 {
		prompt = prompt[:64]
	}
	ids := tok.Encode(prompt)
	if len(ids) == 0 {
		ids = []int{0}
	}
	prompts := make([][]int, f.samples)
	for i := range prompts {
		prompts[i] = ids
	}
	res, err := generate.Generate(m, prompts, generate.Options{Sampler: generate.Sampler{Temperature: f.temperature, TopK: 40},
		MaxTokens: f.sampleTokens, Seed: uint64(f.seed), ContextWindow: m.Config.Block.MaxSeqLen})
	if err != nil {
		return err
	}
	for i, toks := range res.Tokens {
		text := tok.Decode(append(append([]int(nil), ids...), toks...))
		if asJSON {
			json.NewEncoder(out).Encode(map[string]any{"event": "sample", "index": i, "text": text})
		} else {
			fmt.Fprintf(out, "--- sample %d ---\n%s\n", i+1, text)
		}
	}
	return nil
}

// batchAdapter presents a data source as a train.BatchSource (the packages stay independent).
type batchAdapter struct{ src data.Source }

func (a batchAdapter) Next() (train.Batch, bool) {
	b, ok := a.src.Next()
	return train.Batch{X: b.X, Y: b.Y}, ok
}

// State and Restore make the adapter Resumable when its source is.
func (a batchAdapter) State() json.RawMessage {
	if r, ok := a.src.(train.Resumable); ok {
		return r.State()
	}
	return nil
}

func (a batchAdapter) Restore(s json.RawMessage) error {
	if r, ok := a.src.(train.Resumable); ok {
		return r.Restore(s)
	}
	return fmt.Errorf("training data cannot be resumed")
}
