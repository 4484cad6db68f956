package data

import (
	"fmt"
	"strings"

	"github.com/lmxlab/lmxlab/mx"
)

// TokenStream yields successive token slices (one per document, row or chunk); false means the
// stream is exhausted. The slice is read before the next call and never modified.
type TokenStream func() ([]int32, bool)

// SliceStream returns a TokenStream over fixed chunks.
func SliceStream(chunks [][]int32) TokenStream {
	i := 0
	return func() ([]int32, bool) {
		if i >= len(chunks) {
			return nil, false
		}
		i++
		return chunks[i-1], true
	}
}

// TextStream tokenizes the texts that next yields, skipping empty and whitespace-only ones (as
// the original's HFDataset.token_iterator does).
func TextStream(next func() (string, bool), tok Encoder) TokenStream {
	return func() ([]int32, bool) {
		for {
			text, ok := next()
			if !ok {
				return nil, false
			}
			if strings.TrimSpace(text) == "" {
				continue
			}
			return Encode(tok, text), true
		}
	}
}

// TokenBuffer batches a TokenStream the way the original's HFDataset.batch_iterator does. It
// appends stream chunks to a buffer until it holds at least batch·seqLen+1 tokens, takes the
// first batch·seqLen+1 of them as arr, and yields X = arr[:-1] and Y = arr[1:], each reshaped to
// (batch, seqLen). The buffer then drops its first batch·seqLen tokens, so the last token of one
// batch (the final target) is the first input of the next. Tokens left over when the stream ends
// are dropped.
type TokenBuffer struct {
	stream        TokenStream
	batch, seqLen int
	maxBatches    int
	produced      int
	buf           []int32 // pending tokens are buf[start:]
	start         int
	done          bool
}

// NewTokenBuffer returns a TokenBuffer over stream. maxBatches > 0 caps the number of batches;
// 0 means no limit.
func NewTokenBuffer(stream TokenStream, batch, seqLen, maxBatches int) (*TokenBuffer, error) {
	if err := checkBatchShape("NewTokenBuffer", batch, seqLen); err != nil {
		return nil, err
	}
	if maxBatches < 0 {
		return nil, fmt.Errorf("data.NewTokenBuffer: max batches must be ≥ 0, got %d", maxBatches)
	}
	return &TokenBuffer{stream: stream, batch: batch, seqLen: seqLen, maxBatches: maxBatches}, nil
}

// Buffered returns how many tokens the buffer holds right now.
func (t *TokenBuffer) Buffered() int { return len(t.buf) - t.start }

// Next returns the next batch, reading from the stream as needed; false once the stream cannot
// fill another batch or the batch limit is reached.
func (t *TokenBuffer) Next() (Batch, bool) {
	if t.maxBatches > 0 && t.produced >= t.maxBatches {
		return Batch{}, false
	}
	need := t.batch*t.seqLen + 1
	for !t.done && t.Buffered() < need {
		chunk, ok := t.stream()
		if !ok {
			t.done = true
			break
		}
		t.buf = append(t.buf, chunk...)
	}
	if t.Buffered() < need {
		return Batch{}, false
	}
	arr := t.buf[t.start : t.start+need]
	x := append([]int32(nil), arr[:need-1]...)
	y := append([]int32(nil), arr[1:]...)
	t.start += need - 1
	// Compact once the consumed prefix dominates, so the buffer stays O(batch·seqLen + chunk).
	if t.start > len(t.buf)/2 {
		n := copy(t.buf, t.buf[t.start:])
		t.buf, t.start = t.buf[:n], 0
	}
	t.produced++
	return Batch{X: mx.FromSlice(x, t.batch, t.seqLen), Y: mx.FromSlice(y, t.batch, t.seqLen)}, true
}
