package generate

import (
	"fmt"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

// Options configure a generation.
type Options struct {
	Sampler
	MaxTokens  int   // tokens to generate per row
	StopTokens []int // a row stops after emitting one of these (the stop token is not returned)
	Seed       uint64
	// OnToken, when set, is called with each new token of row 0 as soon as it is sampled
	// (streaming); returning false stops the generation.
	OnToken func(token int) bool
	// ContextWindow, when > 0, bounds the context the model sees: once a row would exceed it, the
	// caches are rebuilt from the last ContextWindow/2 tokens (positions restart at 0), so a model
	// trained on short windows keeps generating in distribution. 0 keeps the whole sequence.
	ContextWindow int
	// Decode selects eager or compiled decode steps (see DecodeMode); both give the same tokens.
	Decode DecodeMode
	// Decoder, when set, is the compiled decoder to use, and implies DecodeCompiled: reusing one
	// across calls pays its compilation once. It must belong to the same model and sampler.
	Decoder *Decoder
}

// Result is what Generate produced.
type Result struct {
	Tokens [][]int // generated tokens per row (prompt excluded, stop token excluded)
	// Stopped reports per row whether a stop token ended it.
	Stopped []bool
}

// Generate continues every row of prompts (all of the same length) with up to MaxTokens tokens:
// one prefill of the prompts, then one decode step per token, eager or compiled (Options.Decode).
func Generate(m *models.LanguageModel, prompts [][]int, opts Options) (Result, error) {
	if len(prompts) == 0 {
		return Result{}, fmt.Errorf("generate: no prompts")
	}
	p := len(prompts[0])
	if p == 0 {
		return Result{}, fmt.Errorf("generate: empty prompt")
	}
	flat := make([]int32, 0, len(prompts)*p)
	for i, row := range prompts {
		if len(row) != p {
			return Result{}, fmt.Errorf("generate: prompt %d has %d tokens, prompt 0 has %d", i, len(row), p)
		}
		for _, t := range row {
			if t < 0 || t >= m.Config.VocabSize {
				return Result{}, fmt.Errorf("generate: token %d outside the vocabulary (size %d)", t, m.Config.VocabSize)
			}
			flat = append(flat, int32(t))
		}
	}
	if opts.MaxTokens < 0 {
		return Result{}, fmt.Errorf("generate: negative max tokens %d", opts.MaxTokens)
	}
	b := len(prompts)
	res := Result{Tokens: make([][]int, b), Stopped: make([]bool, b)}
	if opts.MaxTokens == 0 {
		return res, nil
	}
	window := opts.ContextWindow
	if window > 0 && window < 2 {
		return Result{}, fmt.Errorf("generate: context window %d is too small", window)
	}
	total := p + opts.MaxTokens
	if window > 0 && p > window {
		return Result{}, fmt.Errorf("generate: the prompt (%d tokens) is longer than the context window %d", p, window)
	}
	if max := m.Config.Block.MaxSeqLen; m.Config.Block.Position == "learned" && (window == 0 || window > max) && total > max {
		return Result{}, fmt.Errorf("generate: %d positions exceed the model's max_seq_len %d (set a context window)", total, max)
	}
	capacity := total
	if window > 0 {
		capacity = min(total, window)
	}
	stop := map[int]bool{}
	for _, t := range opts.StopTokens {
		stop[t] = true
	}
	key := random.Key(opts.Seed)
	var seen *mx.Array
	if rp := opts.RepetitionPenalty; rp != 0 && rp != 1 {
		seen = mx.Zeros([]int{b, m.Config.VocabSize}, mx.Bool)
	}
	loop, err := newDecodeLoop(m, opts, b, capacity, key, seen)
	if err != nil {
		return Result{}, err
	}
	// history holds every row's tokens (prompt and generated), to rebuild a window.
	history := make([][]int32, b)
	for i := range history {
		history[i] = append([]int32(nil), flat[i*p:(i+1)*p]...)
	}
	toks := loop.prefill(mx.FromSlice(flat, b, p))
	done := make([]bool, b)
	for step := 0; ; step++ {
		allDone := true
		for i, t := range toks {
			history[i] = append(history[i], int32(t))
			if done[i] {
				continue
			}
			if stop[t] {
				done[i], res.Stopped[i] = true, true
				continue
			}
			res.Tokens[i] = append(res.Tokens[i], t)
			allDone = false
		}
		if opts.OnToken != nil && !res.Stopped[0] && len(res.Tokens[0]) == step+1 {
			if !opts.OnToken(toks[0]) {
				break
			}
		}
		if allDone || step == opts.MaxTokens-1 {
			break
		}
		if window > 0 && loop.length()+1 > window {
			// Slide: start fresh caches on the last window/2 tokens (the new one included).
			keep := window / 2
			rows := make([]int32, 0, b*keep)
			for i := range history {
				rows = append(rows, history[i][len(history[i])-keep:]...)
			}
			toks = loop.prefill(mx.FromSlice(rows, b, keep))
		} else {
			toks = loop.step()
		}
	}
	return res, nil
}

// newDecodeLoop picks the decoding path of opts for batch rows and caches of capacity positions.
func newDecodeLoop(m *models.LanguageModel, opts Options, batch, capacity int, key, seen *mx.Array) (decodeLoop, error) {
	d := opts.Decoder
	mode := opts.Decode
	if d != nil {
		if d.model != m || d.sampler != opts.Sampler {
			return nil, fmt.Errorf("generate: the Decoder was made for another model or sampler")
		}
		mode = DecodeCompiled
	}
	switch mode {
	case DecodeEager:
	case DecodeAuto, DecodeCompiled:
		if mode == DecodeAuto && mx.DefaultDevice() == mx.CPU {
			break
		}
		if d == nil {
			d = NewDecoder(m, opts.Sampler)
		}
		loop, err := newCompiledLoop(d, batch, capacity, key, seen)
		if err == nil || mode == DecodeCompiled {
			return loop, err
		}
	default:
		return nil, fmt.Errorf("generate: unknown decode mode %d", mode)
	}
	return &eagerLoop{m: m, s: opts.Sampler, batch: batch, capacity: capacity, key: key, seen: seen}, nil
}
