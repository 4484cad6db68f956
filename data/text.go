package data

import (
	"fmt"
	"math"
	"os"
	"unicode/utf8"
)

// LoadText reads a UTF-8 text file. Invalid UTF-8 is an error, since tokenizers would otherwise
// see replacement characters the file does not contain.
func LoadText(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("data.LoadText: %w", err)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("data.LoadText: %s is not valid UTF-8", path)
	}
	return string(b), nil
}

// Int32s converts token ids (as tokenizers return them) to the []int32 token streams this
// package works on. It panics if an id does not fit in int32, which no real vocabulary reaches.
func Int32s(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, v := range ids {
		if v != int(int32(v)) {
			panic(fmt.Sprintf("data.Int32s: token id %d at %d does not fit in int32", v, i))
		}
		out[i] = int32(v)
	}
	return out
}

// Encoder is the part of a tokenizer (tokenizer.Tokenizer) that Encode needs.
type Encoder interface {
	Encode(text string) []int
}

// Encode tokenizes text and returns its token stream.
func Encode(tok Encoder, text string) []int32 { return Int32s(tok.Encode(text)) }

// SplitTokens splits a token stream into a training head and a validation tail holding
// floor(len(tokens)·valFraction) tokens. valFraction must lie in [0, 1); with 0 the validation
// part is empty. Each non-empty part must hold at least two tokens (one input–target pair), else
// the split is an error. The parts share tokens' storage; the training part's capacity ends where
// validation begins, so appending to it never overwrites validation tokens.
func SplitTokens(tokens []int32, valFraction float64) (train, val []int32, err error) {
	if math.IsNaN(valFraction) || valFraction < 0 || valFraction >= 1 {
		return nil, nil, fmt.Errorf("data.SplitTokens: validation fraction must be in [0, 1), got %v", valFraction)
	}
	n := len(tokens)
	nVal := int(float64(n) * valFraction)
	nTrain := n - nVal
	if nTrain < 2 {
		return nil, nil, fmt.Errorf("data.SplitTokens: %d tokens leave %d for training (need at least 2)", n, nTrain)
	}
	if valFraction > 0 && nVal < 2 {
		return nil, nil, fmt.Errorf("data.SplitTokens: %d tokens × %v leave %d for validation (need at least 2)", n, valFraction, nVal)
	}
	return tokens[:nTrain:nTrain], tokens[nTrain:], nil
}
