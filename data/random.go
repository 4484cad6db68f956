package data

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// RandomSource is an endless source of random windows; see RandomWindows.
type RandomSource struct {
	tokens        []int32
	batch, seqLen int
	seed          int64
	rng           *rand.PCG
	drawn         int64 // batches drawn so far
	starts        []int
}

// RandomWindows returns a source that draws batch windows of seqLen+1 tokens at uniformly random
// starts s in [0, len(tokens)-seqLen-1], for X = tokens[s:s+seqLen] and Y = tokens[s+1:s+seqLen+1].
// Starts come from a PCG stream seeded by seed, so a seed always gives the same batches. The
// source never runs out. The stream needs at least seqLen+1 tokens.
func RandomWindows(tokens []int32, batch, seqLen int, seed int64) (*RandomSource, error) {
	if err := checkBatchShape("RandomWindows", batch, seqLen); err != nil {
		return nil, err
	}
	if len(tokens) < seqLen+1 {
		return nil, fmt.Errorf("data.RandomWindows: %d tokens are too few for seq_len=%d (need at least %d)",
			len(tokens), seqLen, seqLen+1)
	}
	return &RandomSource{tokens: tokens, batch: batch, seqLen: seqLen, seed: seed, rng: newPCG(seed),
		starts: make([]int, batch)}, nil
}

// Next draws the next batch. It always succeeds.
func (w *RandomSource) Next() (Batch, bool) {
	n := uint64(len(w.tokens) - w.seqLen) // number of valid starts
	for i := range w.starts {
		w.starts[i] = int(boundedDraw(w.rng, n))
	}
	w.drawn++
	return windowBatch(w.tokens, w.starts, w.seqLen), true
}

// Drawn returns how many batches the source has produced (including those before a Restore).
func (w *RandomSource) Drawn() int64 { return w.drawn }

// windowsState is the JSON form of a RandomSource position. The source's shape and corpus length are
// stored too, so restoring into a source over different data fails loudly.
type windowsState struct {
	Source  string `json:"source"`
	Tokens  int    `json:"n_tokens"`
	Batch   int    `json:"batch_size"`
	SeqLen  int    `json:"seq_len"`
	Seed    int64  `json:"seed"`
	Batches int64  `json:"batches_drawn"`
	PCG     []byte `json:"pcg_state"`
}

// State returns the source's position as JSON, for a training checkpoint.
func (w *RandomSource) State() json.RawMessage {
	pcg, err := w.rng.MarshalBinary()
	if err != nil {
		panic("data.RandomSource.State: " + err.Error()) // PCG marshalling cannot fail
	}
	b, err := json.Marshal(windowsState{Source: "random_windows", Tokens: len(w.tokens), Batch: w.batch,
		SeqLen: w.seqLen, Seed: w.seed, Batches: w.drawn, PCG: pcg})
	if err != nil {
		panic("data.RandomSource.State: " + err.Error())
	}
	return b
}

// Restore moves the source to a position saved by State, after which it draws the batches the
// saved source would have drawn next. The source must have the same token count, batch size and
// sequence length as the one that saved the state.
func (w *RandomSource) Restore(state json.RawMessage) error {
	var s windowsState
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("data.RandomSource.Restore: %w", err)
	}
	if s.Source != "random_windows" {
		return fmt.Errorf("data.RandomSource.Restore: state is for source %q, not random_windows", s.Source)
	}
	if s.Tokens != len(w.tokens) || s.Batch != w.batch || s.SeqLen != w.seqLen {
		return fmt.Errorf("data.RandomSource.Restore: state is for %d tokens, batch_size=%d, seq_len=%d; this source has %d, %d, %d",
			s.Tokens, s.Batch, s.SeqLen, len(w.tokens), w.batch, w.seqLen)
	}
	rng := new(rand.PCG)
	if err := rng.UnmarshalBinary(s.PCG); err != nil {
		return fmt.Errorf("data.RandomSource.Restore: %w", err)
	}
	w.rng, w.seed, w.drawn = rng, s.Seed, s.Batches
	return nil
}
