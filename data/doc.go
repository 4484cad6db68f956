// Package data turns text into the token batches a language model trains and evaluates on.
//
// Data flow. Text comes from a file (LoadText), a named dataset (Resolve finds or downloads it,
// never at test time), or the built-in synthetic corpus (DefaultCorpus, Arithmetic), so a run
// works offline with no files at all. A tokenizer (package tokenizer) turns text into ids; this
// package holds token streams as []int32 (Encode, Int32s) and splits them into a training head
// and a validation tail (SplitTokens).
//
// Batch sources cut a token stream into Batch values: X and Y are int32 arrays of shape
// (batch, seqLen) and Y is X shifted left by one token, so Y[b, i] is the token that follows
// X[b, i]. Every source has a Next() (Batch, bool) method; false means the source is exhausted.
//
//   - RandomWindows draws windows at uniformly random starts, forever, from a PCG stream seeded
//     by the caller. State and Restore capture and reinstate the stream position, so a resumed
//     training run draws exactly the batches an uninterrupted run would have drawn.
//   - Sequential walks non-overlapping windows once (one epoch), optionally in a seeded shuffled
//     order, and drops the remainder that does not fill a batch. Reset rewinds it, so an
//     evaluation set can be replayed (the original's iterator was spent after one use).
//   - TokenBuffer batches a stream of token slices (documents, HF-dataset rows) the way the
//     original's HFDataset.batch_iterator does: it keeps batch·seqLen+1 tokens per batch, and the
//     last of them overlaps into the next batch.
//
// Batches are built on the host and copied into fresh arrays on the default device, so callers
// may keep, evaluate or discard them freely. All randomness is a host-side PCG (math/rand/v2)
// with a bounded draw defined here, so a seed gives the same batches on every platform and Go
// version.
package data
