// Package eval holds the evaluation metrics of lmxlab: mean loss over a batch source,
// perplexity, bits per byte, and pass@k for sampled code completions.
//
// Data flow. A batch source from package data yields (X, Y) token batches; EvaluateLoss runs the
// caller's loss function on each, reads the losses back to the host, and returns their
// token-weighted mean in nats. Perplexity and BitsPerByte turn that mean into the usual figures;
// BitsPerByte needs the number of UTF-8 bytes a token stands for, which BytesPerToken measures
// on the evaluated text and its tokenization (it is exactly 1 only for a character tokenizer on
// ASCII text). For generated programs, EvaluatePassAtK runs a test on every completion of every
// problem and averages the unbiased pass@k estimator (PassAtK) over the problems.
//
// Unlike the original, which averaged per-batch means, EvaluateLoss weights each batch by its
// number of target tokens, so a short last batch counts for what it holds.
package eval
