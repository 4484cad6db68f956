// Package generate turns a LanguageModel into text: a prefill of the prompt through
// fixed-capacity KV caches, then one-token decode steps, each sampling the next token from the
// last position's logits after the configured filters (repetition penalty, temperature, top-k,
// top-p, min-p). Cached decoding computes exactly what a full recomputation would.
//
// Decode steps run eagerly (dynamic caches whose graphs change with the position: the faster
// path on the cpu backend) or compiled (Options.Decode, a Decoder): static caches and a
// run-time position make every step after the prefill one signature, so a single mx.Compile'd
// function is traced once and replayed per token — on the gpu backend, one XLA compilation
// instead of one per token. Both paths sample the same tokens.
package generate

import (
	"math"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

// Sampler holds the sampling settings. The zero value decodes greedily; Temperature 1 with no
// filters samples from the model's distribution.
type Sampler struct {
	Temperature       float64 // <= 0: greedy (argmax)
	TopK              int     // keep the k most likely tokens (0: off)
	TopP              float64 // keep the smallest set whose probability reaches p (0 or 1: off)
	MinP              float64 // keep tokens with p >= MinP·p_max (0: off)
	RepetitionPenalty float64 // CTRL penalty on tokens already generated (0 or 1: off)
}

var negInf = math.Inf(-1)

// Filter applies the penalty, temperature and truncation filters to logits (B, V) and returns
// float32 logits where removed tokens are -inf. seen (B, V) bool marks generated tokens (may be
// nil).
func (s Sampler) Filter(logits, seen *mx.Array) *mx.Array {
	l := mx.AsType(logits, mx.Float32)
	if p := s.RepetitionPenalty; p != 0 && p != 1 && seen != nil {
		pen := mx.Where(mx.Greater(l, mx.ZerosLike(l)), mx.DivScalar(l, p), mx.MulScalar(l, p))
		l = mx.Where(seen, pen, l)
	}
	if s.Temperature > 0 {
		l = mx.DivScalar(l, s.Temperature)
	}
	v := l.Dim(-1)
	ninf := mx.FullLike(l, negInf)
	if s.TopK > 0 && s.TopK < v {
		vals, _ := mx.TopK(l, s.TopK, -1)
		kth := mx.SliceAxis(vals, -1, s.TopK-1, s.TopK)
		l = mx.Where(mx.Less(l, kth), ninf, l)
	}
	if s.TopP > 0 && s.TopP < 1 {
		probs := mx.Softmax(l, -1)
		order := mx.ArgSort(mx.Neg(probs), -1)
		sorted := mx.TakeAlongAxis(probs, order, -1)
		// Drop a token when the mass before it already reaches p: the token that crosses p stays.
		before := mx.Cumsum(sorted, -1, false, true)
		dropSorted := mx.Greater(before, mx.FullLike(before, s.TopP))
		drop := mx.PutAlongAxis(mx.ZerosLike(dropSorted), order, dropSorted, -1)
		l = mx.Where(drop, ninf, l)
	}
	if s.MinP > 0 {
		probs := mx.Softmax(l, -1)
		floor := mx.MulScalar(mx.Max(probs, []int{-1}, true), s.MinP)
		l = mx.Where(mx.Less(probs, floor), ninf, l)
	}
	return l
}

// Sample draws one token per row from logits (B, V), returning int32 (B).
func (s Sampler) Sample(logits, seen, key *mx.Array) *mx.Array {
	if s.Temperature <= 0 {
		l := logits
		if p := s.RepetitionPenalty; p != 0 && p != 1 && seen != nil {
			l = s.Filter(logits, seen)
		}
		return mx.ArgMax(l, -1, false)
	}
	return mx.AsType(random.Categorical(key, s.Filter(logits, seen), -1), mx.Int32)
}
