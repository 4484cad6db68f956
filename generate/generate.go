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
	if max := m.Config.Block.MaxSeqLen; m.Config.Block.Position == "learned" && p+opts.MaxTokens > max {
		return Result{}, fmt.Errorf("generate: %d positions exceed the model's max_seq_len %d", p+opts.MaxTokens, max)
	}
	stop := map[int]bool{}
	for _, t := range opts.StopTokens {
		stop[t] = true
	}
	cache := m.NewCache(b, p+opts.MaxTokens)
	key := random.Key(opts.Seed)
	var seen *mx.Array
	if rp := opts.RepetitionPenalty; rp != 0 && rp != 1 {
		seen = mx.Zeros([]int{b, m.Config.VocabSize}, mx.Bool)
	}
	input := mx.FromSlice(flat, b, p)
	done := make([]bool, b)
	for step := 0; step < opts.MaxTokens; step++ {
		logits := m.Forward(input, models.ForwardOptions{Cache: cache})
		last := mx.Reshape(mx.SliceAxis(logits, 1, logits.Dim(1)-1, logits.Dim(1)), b, -1)
		ks := random.Split(key, 2)
		key = random.At(ks, 0)
		sub := random.At(ks, 1)
		next := opts.Sample(last, seen, sub)
		arrays := append([]*mx.Array{next, key}, cache.Arrays()...)
		if seen != nil {
			seen = mx.PutAlongAxis(seen, mx.Reshape(next, b, 1), mx.Ones([]int{b, 1}, mx.Bool), -1)
			arrays = append(arrays, seen)
		}
		mx.Eval(arrays...)
		toks := next.Ints()
		allDone := true
		for i, t := range toks {
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
	}
	return res, nil
}
