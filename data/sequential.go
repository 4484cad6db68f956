package data

import (
	"encoding/json"
	"fmt"
)

// SequentialSource is a one-pass source of non-overlapping windows; see Sequential.
type SequentialSource struct {
	tokens        []int32
	batch, seqLen int
	shuffled      bool
	seed          int64
	order         []int // sequence indices in visiting order
	pos           int   // batches produced
}

// SequentialOption configures Sequential.
type SequentialOption func(*SequentialSource)

// Shuffle makes Sequential visit its sequences in an order drawn from a PCG stream seeded by seed.
func Shuffle(seed int64) SequentialOption {
	return func(e *SequentialSource) { e.shuffled, e.seed = true, seed }
}

// Sequential returns a source that walks the stream once in non-overlapping windows: sequence i
// is X = tokens[i·seqLen : (i+1)·seqLen] with Y shifted by one, for the n = (len(tokens)-1)/seqLen
// sequences that fit. It yields n/batch batches (one epoch), dropping the sequences that do not
// fill a last batch, in order or, with Shuffle, in a seeded random order. Fewer than batch
// sequences is an error ("not enough data for batch_size=…").
func Sequential(tokens []int32, batch, seqLen int, opts ...SequentialOption) (*SequentialSource, error) {
	if err := checkBatchShape("Sequential", batch, seqLen); err != nil {
		return nil, err
	}
	nSeq := 0
	if len(tokens) > 0 {
		nSeq = (len(tokens) - 1) / seqLen
	}
	if nSeq < batch {
		return nil, fmt.Errorf("data.Sequential: not enough data for batch_size=%d: only %d sequences (%d tokens, seq_len=%d)",
			batch, nSeq, len(tokens), seqLen)
	}
	e := &SequentialSource{tokens: tokens, batch: batch, seqLen: seqLen, order: make([]int, nSeq)}
	for _, o := range opts {
		o(e)
	}
	for i := range e.order {
		e.order[i] = i
	}
	if e.shuffled {
		shuffle(newPCG(e.seed), e.order)
	}
	return e, nil
}

// Len returns the number of batches in one epoch.
func (e *SequentialSource) Len() int { return len(e.order) / e.batch }

// Next returns the next batch of the epoch, or false once the epoch is done.
func (e *SequentialSource) Next() (Batch, bool) {
	if e.pos >= e.Len() {
		return Batch{}, false
	}
	starts := make([]int, e.batch)
	for i, s := range e.order[e.pos*e.batch : (e.pos+1)*e.batch] {
		starts[i] = s * e.seqLen
	}
	e.pos++
	return windowBatch(e.tokens, starts, e.seqLen), true
}

// Reset rewinds the source to the start of the same epoch: the same batches in the same order.
func (e *SequentialSource) Reset() { e.pos = 0 }

// epochState is the JSON form of an SequentialSource position.
type epochState struct {
	Source   string `json:"source"`
	Tokens   int    `json:"n_tokens"`
	Batch    int    `json:"batch_size"`
	SeqLen   int    `json:"seq_len"`
	Shuffled bool   `json:"shuffled"`
	Seed     int64  `json:"seed"`
	Pos      int    `json:"batches_done"`
}

// State returns the source's position as JSON, for a checkpoint.
func (e *SequentialSource) State() json.RawMessage {
	b, err := json.Marshal(epochState{Source: "sequential", Tokens: len(e.tokens), Batch: e.batch,
		SeqLen: e.seqLen, Shuffled: e.shuffled, Seed: e.seed, Pos: e.pos})
	if err != nil {
		panic("data.SequentialSource.State: " + err.Error())
	}
	return b
}

// Restore moves the source to a position saved by State. The source must walk the same number
// of tokens with the same batch size and sequence length; the saved shuffle seed is adopted.
func (e *SequentialSource) Restore(state json.RawMessage) error {
	var s epochState
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("data.SequentialSource.Restore: %w", err)
	}
	if s.Source != "sequential" {
		return fmt.Errorf("data.SequentialSource.Restore: state is for source %q, not sequential", s.Source)
	}
	if s.Tokens != len(e.tokens) || s.Batch != e.batch || s.SeqLen != e.seqLen {
		return fmt.Errorf("data.SequentialSource.Restore: state is for %d tokens, batch_size=%d, seq_len=%d; this source has %d, %d, %d",
			s.Tokens, s.Batch, s.SeqLen, len(e.tokens), e.batch, e.seqLen)
	}
	if s.Pos < 0 || s.Pos > e.Len() {
		return fmt.Errorf("data.SequentialSource.Restore: position %d outside the epoch's %d batches", s.Pos, e.Len())
	}
	for i := range e.order {
		e.order[i] = i
	}
	e.shuffled, e.seed = s.Shuffled, s.Seed
	if e.shuffled {
		shuffle(newPCG(e.seed), e.order)
	}
	e.pos = s.Pos
	return nil
}
