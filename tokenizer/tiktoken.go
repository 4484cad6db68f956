package tokenizer

import (
	"fmt"
	"sort"

	tiktoken "github.com/tiktoken-go/tokenizer"
)

// Tiktoken wraps OpenAI's BPE encodings from github.com/tiktoken-go/tokenizer,
// whose ranks are compiled into the binary (no download).
type Tiktoken struct {
	name     string
	codec    tiktoken.Codec
	nVocab   int
	specials map[string]int
	byID     map[int]string
}

var _ Tokenizer = (*Tiktoken)(nil)

type tiktokenSpec struct {
	enc      tiktoken.Encoding
	nVocab   int
	specials map[string]int
}

var tiktokenSpecs = map[string]tiktokenSpec{
	// gpt2 has the ranks and pattern of r50k_base.
	"gpt2":      {tiktoken.R50kBase, 50257, map[string]int{"<|endoftext|>": 50256}},
	"r50k_base": {tiktoken.R50kBase, 50257, map[string]int{"<|endoftext|>": 50256}},
	"p50k_base": {tiktoken.P50kBase, 50281, map[string]int{"<|endoftext|>": 50256}},
	"cl100k_base": {tiktoken.Cl100kBase, 100277, map[string]int{"<|endoftext|>": 100257,
		"<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}},
	"o200k_base": {tiktoken.O200kBase, 200019, map[string]int{"<|endoftext|>": 199999, "<|endofprompt|>": 200018}},
}

// TiktokenEncodings lists the names NewTiktoken accepts.
func TiktokenEncodings() []string {
	var out []string
	for k := range tiktokenSpecs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewTiktoken returns the named encoding: gpt2, r50k_base, p50k_base,
// cl100k_base or o200k_base.
func NewTiktoken(name string) (*Tiktoken, error) {
	spec, ok := tiktokenSpecs[name]
	if !ok {
		return nil, fmt.Errorf("tiktoken: unknown encoding %q (known: %v)", name, TiktokenEncodings())
	}
	c, err := tiktoken.Get(spec.enc)
	if err != nil {
		return nil, fmt.Errorf("tiktoken %s: %w", name, err)
	}
	t := &Tiktoken{name: name, codec: c, nVocab: spec.nVocab, specials: spec.specials, byID: map[int]string{}}
	for s, id := range spec.specials {
		t.byID[id] = s
	}
	return t, nil
}

// Name is the encoding name.
func (t *Tiktoken) Name() string { return t.name }

// Encode encodes text as ordinary text: special-token strings in it are
// not treated as special (tiktoken's encode_ordinary).
func (t *Tiktoken) Encode(text string) []int {
	ids, _, err := t.codec.Encode(validString(text))
	if err != nil {
		return nil
	}
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// Decode returns the text of ids, special tokens included; unknown ids are
// skipped and invalid UTF-8 becomes U+FFFD.
func (t *Tiktoken) Decode(ids []int) string {
	var buf []byte
	var run []uint
	flush := func() {
		if len(run) == 0 {
			return
		}
		if s, err := t.codec.Decode(run); err == nil {
			buf = append(buf, s...)
		} else {
			for _, id := range run {
				if s, err := t.codec.Decode([]uint{id}); err == nil {
					buf = append(buf, s...)
				}
			}
		}
		run = run[:0]
	}
	for _, id := range ids {
		if s, ok := t.byID[id]; ok {
			flush()
			buf = append(buf, s...)
			continue
		}
		if id >= 0 && id < t.nVocab {
			run = append(run, uint(id))
		}
	}
	flush()
	return lossyUTF8(buf)
}

// VocabSize is tiktoken's n_vocab: ranks plus special tokens.
func (t *Tiktoken) VocabSize() int { return t.nVocab }

// EOS returns the <|endoftext|> id.
func (t *Tiktoken) EOS() (int, bool) { id, ok := t.specials["<|endoftext|>"]; return id, ok }

// SpecialTokens returns the special tokens by name.
func (t *Tiktoken) SpecialTokens() map[string]int {
	out := make(map[string]int, len(t.specials))
	for k, v := range t.specials {
		out[k] = v
	}
	return out
}
