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
}

// Result is what Generate produced.
type Result struct {
	Tokens [][]int // generated tokens per row (prompt excluded, stop token excluded)
	// Stopped reports per row whether a stop token ended it.
	Stopped []bool
}

// Generate continues every row of prompts (all of the same length) with up to MaxTokens tokens.
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
	cache := m.NewCache(b, capacity)
	key := random.Key(opts.Seed)
	var seen *mx.Array
	if rp := opts.RepetitionPenalty; rp != 0 && rp != 1 {
		seen = mx.Zeros([]int{b, m.Config.VocabSize}, mx.Bool)
	}
	// history holds every row's tokens (prompt and generated), to rebuild a window.
	history := make([][]int32, b)
	for i := range history {
		history[i] = append([]int32(nil), flat[i*p:(i+1)*p]...)
	}
	input := mx.FromSlice(flat, b, p)
	done := make([]bool, b)
	for step := 0; step < opts.MaxTokens; step++ {
		logits := m.Forward(input, models.ForwardOptions{Cache: cache})
		last := mx.Reshape(mx.SliceAxis(logits, 1, logits.Dim(1)-1, logits.Dim(1)), b, -1)
		ks := random.Split(key, 2)
		key = random.At(ks, 0)
		next := opts.Sample(last, seen, random.At(ks, 1))
		arrays := append([]*mx.Array{next, key}, cache.Arrays()...)
		if seen != nil {
			seen = mx.PutAlongAxis(seen, mx.Reshape(next, b, 1), mx.Ones([]int{b, 1}, mx.Bool), -1)
			arrays = append(arrays, seen)
		}
		mx.Eval(arrays...)
		toks := next.Ints()
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
		input = mx.Reshape(next, b, 1)
		if window > 0 && cache.Len()+1 > window {
			// Slide: start a fresh cache on the last window/2 tokens (the new one included).
			keep := window / 2
			rows := make([]int32, 0, b*keep)
			for i := range history {
				rows = append(rows, history[i][len(history[i])-keep:]...)
			}
			cache = m.NewCache(b, window)
			input = mx.FromSlice(rows, b, keep)
		}
	}
	return res, nil
}
