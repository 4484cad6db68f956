// Package tokenizer turns text into token ids and back for lmxlab.
//
// The Tokenizer interface is what the rest of lmxlab uses. Three kinds
// implement it:
//
//   - HF, loaded from a Hugging Face tokenizer.json (Load / FromFile /
//     FromJSON), byte-exact with the Python tokenizers library;
//   - Char, a character-level vocabulary built from a text, serializable
//     as JSON so a checkpoint can carry it;
//   - Tiktoken, OpenAI's BPE encodings (gpt2, r50k_base, p50k_base,
//     cl100k_base, o200k_base) with their ranks embedded in the binary.
//
// # Data flow of HF
//
// Encoding runs these stages, each configured by a section of
// tokenizer.json:
//
//  1. Added tokens ("added_tokens"): special and added tokens are found
//     first, leftmost-longest, and cut out of the text with their
//     single_word, lstrip and rstrip rules. Tokens with normalized=false
//     are matched on the raw text; the rest of the text is then normalized
//     and tokens with normalized=true are matched on the normalized text.
//  2. Normalizer ("normalizer"): Unicode normalization (NFC, NFD, NFKC,
//     NFKD), Lowercase, Prepend, Replace, Strip, StripAccents, Nmt,
//     ByteLevel, BertNormalizer, Precompiled (SentencePiece's charsmap) and
//     Sequence, applied to the text between added tokens.
//  3. Pre-tokenizer ("pre_tokenizer"): splits the text into words:
//     ByteLevel (GPT-2's regex and byte-to-rune mapping), Split (a string or
//     Oniguruma regex with a split behavior), Metaspace, Whitespace,
//     WhitespaceSplit, Digits, Punctuation, BertPreTokenizer,
//     CharDelimiterSplit and Sequence. Regexes run on the engine in
//     internal/regex, which has the look-ahead and Unicode classes these
//     patterns need.
//  4. Model ("model"): each word becomes tokens: BPE (merges as "a b"
//     strings or pairs, ignore_merges, byte_fallback, fuse_unk, subword
//     prefix and end-of-word suffix), Unigram (Viterbi), WordPiece or
//     WordLevel.
//  5. Post-processor ("post_processor"): adds special tokens when asked
//     (the default): TemplateProcessing, RobertaProcessing, BertProcessing,
//     ByteLevel (no change to ids) and Sequence.
//
// Decoding maps ids to token strings (added tokens included, special ones
// unless skipped) and runs the decoder ("decoder"): ByteLevel, Metaspace,
// Replace, ByteFallback, Fuse, Strip, WordPiece, BPEDecoder, CTC and
// Sequence; the pieces are then concatenated.
//
// A tokenizer_config.json beside tokenizer.json, when present, supplies the
// BOS/EOS/UNK/PAD token names and the chat template.
//
// Not supported: the UnicodeScripts pre-tokenizer (Load fails naming the
// component) and BPE dropout (ignored: encoding is deterministic).
// Truncation and padding settings are ignored. Offsets are not computed;
// the Metaspace "first" prepend scheme treats a piece as first when it
// starts the input and no added token precedes it.
package tokenizer

// Tokenizer is what lmxlab needs from a tokenizer.
type Tokenizer interface {
	// Encode returns the token ids of text.
	Encode(text string) []int
	// Decode returns the text of ids.
	Decode(ids []int) string
	// VocabSize is one more than the largest id the tokenizer can produce
	// (the size of an embedding table for it).
	VocabSize() int
}
