package tokenizer

import (
	"strings"
)

// HF is a Hugging Face tokenizer loaded from tokenizer.json. It is safe for
// concurrent use.
type HF struct {
	norm  normalizer
	pre   preTokenizer
	model model
	post  postProcessor
	dec   decoder
	added *addedVocab

	vocabSize int
	config    *Config
	bos, eos  int // -1: none
	unk, pad  int
}

var _ Tokenizer = (*HF)(nil)

// Encoding is the full result of encoding one sequence (or a pair).
type Encoding struct {
	IDs    []int
	Tokens []string
	// TypeIDs are the segment ids the post-processor assigns.
	TypeIDs []int
	// SpecialTokensMask is true for tokens the post-processor added.
	SpecialTokensMask []bool
}

type encodeConfig struct{ addSpecial bool }

// EncodeOption changes how text is encoded.
type EncodeOption func(*encodeConfig)

// AddSpecialTokens sets whether the post-processor adds its special tokens
// (such as a leading <s>). The default is true, as in the Python library.
func AddSpecialTokens(v bool) EncodeOption { return func(c *encodeConfig) { c.addSpecial = v } }

type decodeConfig struct{ skipSpecial bool }

// DecodeOption changes how ids are decoded.
type DecodeOption func(*decodeConfig)

// SkipSpecialTokens drops special tokens from decoded text. The default is
// false: special tokens are kept.
func SkipSpecialTokens(v bool) DecodeOption { return func(c *decodeConfig) { c.skipSpecial = v } }

// Encode returns the ids of text, with the post-processor's special tokens.
func (h *HF) Encode(text string) []int {
	enc := h.encodeSeq(text)
	if h.post != nil {
		enc = h.post.process(enc, nil, true)
	}
	ids := make([]int, len(enc.toks))
	for i, t := range enc.toks {
		ids[i] = t.id
	}
	return ids
}

// EncodeWithTokens returns the ids of text and their token strings.
func (h *HF) EncodeWithTokens(text string, opts ...EncodeOption) ([]int, []string) {
	e := h.EncodeWith(text, opts...)
	return e.IDs, e.Tokens
}

// EncodeWith encodes one sequence.
func (h *HF) EncodeWith(text string, opts ...EncodeOption) Encoding {
	cfg := encodeConfig{addSpecial: true}
	for _, o := range opts {
		o(&cfg)
	}
	enc := h.encodeSeq(text)
	if h.post != nil {
		enc = h.post.process(enc, nil, cfg.addSpecial)
	}
	return export(enc)
}

// EncodePair encodes a pair of sequences (as for sentence-pair tasks).
func (h *HF) EncodePair(a, b string, opts ...EncodeOption) Encoding {
	cfg := encodeConfig{addSpecial: true}
	for _, o := range opts {
		o(&cfg)
	}
	ea, eb := h.encodeSeq(a), h.encodeSeq(b)
	eb.setTypeID(1)
	var enc *encoding
	if h.post != nil {
		enc = h.post.process(ea, eb, cfg.addSpecial)
	} else {
		enc = defaultProcess(ea, eb)
	}
	return export(enc)
}

func export(enc *encoding) Encoding {
	enc.meta()
	out := Encoding{IDs: make([]int, len(enc.toks)), Tokens: make([]string, len(enc.toks)),
		TypeIDs: enc.typeIDs, SpecialTokensMask: enc.special}
	for i, t := range enc.toks {
		out.IDs[i], out.Tokens[i] = t.id, t.value
	}
	return out
}

// encodeSeq runs added-token extraction, normalization, pre-tokenization
// and the model on one sequence.
func (h *HF) encodeSeq(text string) *encoding {
	text = validString(text)
	toks := make([]token, 0, len(text)/3+4)
	c := encodeCtx{hint: len(text)}
	emit := func(q piece) { toks = h.model.tokenize(toks, q.text) }
	for _, sp := range h.added.extract(text, h.norm) {
		if sp.tok >= 0 {
			toks = append(toks, token{h.added.tokens[sp.tok].ID, sp.text})
			continue
		}
		p := piece{sp.text, sp.first}
		if h.pre != nil {
			h.pre.split(&c, p, emit)
		} else {
			emit(p)
		}
	}
	return newEncoding(toks, 0, false)
}

// Decode returns the text of ids, special tokens kept.
func (h *HF) Decode(ids []int) string { return h.DecodeWith(ids) }

// DecodeWith decodes ids; ids the tokenizer does not know are skipped.
func (h *HF) DecodeWith(ids []int, opts ...DecodeOption) string {
	var cfg decodeConfig
	for _, o := range opts {
		o(&cfg)
	}
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if i, ok := h.added.byID[id]; ok {
			t := h.added.tokens[i]
			if cfg.skipSpecial && t.Special {
				continue
			}
			toks = append(toks, t.Content)
			continue
		}
		if s, ok := h.model.idToToken(id); ok {
			if cfg.skipSpecial && h.isSpecialContent(s) {
				continue
			}
			toks = append(toks, s)
		}
	}
	if h.dec == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(h.dec.decodeChain(toks), "")
}

func (h *HF) isSpecialContent(s string) bool {
	i, ok := h.added.byContent[s]
	return ok && h.added.tokens[i].Special
}

// VocabSize is one more than the largest id of the model or the added
// tokens.
func (h *HF) VocabSize() int { return h.vocabSize }

// TokenToID returns the id of a token string (added tokens first).
func (h *HF) TokenToID(s string) (int, bool) {
	if i, ok := h.added.byContent[s]; ok {
		return h.added.tokens[i].ID, true
	}
	return h.model.tokenToID(s)
}

// IDToToken returns the token string of an id (added tokens first).
func (h *HF) IDToToken(id int) (string, bool) {
	if i, ok := h.added.byID[id]; ok {
		return h.added.tokens[i].Content, true
	}
	return h.model.idToToken(id)
}

// AddedTokens returns the added tokens (special or not) in file order.
func (h *HF) AddedTokens() []AddedToken { return append([]AddedToken(nil), h.added.tokens...) }

// SpecialTokens returns the added tokens marked special.
func (h *HF) SpecialTokens() []AddedToken {
	var out []AddedToken
	for _, t := range h.added.tokens {
		if t.Special {
			out = append(out, t)
		}
	}
	return out
}

// IsSpecial reports whether id is a special added token.
func (h *HF) IsSpecial(id int) bool {
	i, ok := h.added.byID[id]
	return ok && h.added.tokens[i].Special
}

func optID(id int) (int, bool) { return id, id >= 0 }

// BOS returns the beginning-of-sequence token id, if the tokenizer has one.
func (h *HF) BOS() (int, bool) { return optID(h.bos) }

// EOS returns the end-of-sequence token id, if the tokenizer has one.
func (h *HF) EOS() (int, bool) { return optID(h.eos) }

// UNK returns the unknown token id, if known.
func (h *HF) UNK() (int, bool) { return optID(h.unk) }

// PAD returns the padding token id, if known.
func (h *HF) PAD() (int, bool) { return optID(h.pad) }

// Config returns the settings read from tokenizer_config.json (nil when
// there was none).
func (h *HF) Config() *Config { return h.config }

// ChatTemplate returns the default chat template from
// tokenizer_config.json, or "".
func (h *HF) ChatTemplate() string {
	if h.config == nil {
		return ""
	}
	return h.config.ChatTemplate
}
