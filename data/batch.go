package data

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx"
)

// Batch is one training or evaluation batch: X holds the input tokens and Y the targets, both
// int32 of shape (batch, seqLen), with Y[b, i] the token that follows X[b, i] in the stream.
type Batch struct{ X, Y *mx.Array }

// Source is what every batch source in this package implements. Next returns the next batch,
// or false when the source is exhausted.
type Source interface {
	Next() (Batch, bool)
}

// checkBatchShape validates a batch size and sequence length for the named source.
func checkBatchShape(who string, batch, seqLen int) error {
	if batch <= 0 {
		return fmt.Errorf("data.%s: batch size must be positive, got %d", who, batch)
	}
	if seqLen <= 0 {
		return fmt.Errorf("data.%s: sequence length must be positive, got %d", who, seqLen)
	}
	return nil
}

// windowBatch copies the windows tokens[s:s+seqLen] (inputs) and tokens[s+1:s+seqLen+1]
// (targets) for each start s into a new Batch of shape (len(starts), seqLen).
func windowBatch(tokens []int32, starts []int, seqLen int) Batch {
	x := make([]int32, 0, len(starts)*seqLen)
	y := make([]int32, 0, len(starts)*seqLen)
	for _, s := range starts {
		x = append(x, tokens[s:s+seqLen]...)
		y = append(y, tokens[s+1:s+seqLen+1]...)
	}
	return Batch{
		X: mx.FromSlice(x, len(starts), seqLen),
		Y: mx.FromSlice(y, len(starts), seqLen),
	}
}
