package tokenizer

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must return a
// tokenizer or an error, never panic, and a loaded tokenizer must encode
// and decode without panicking.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"bytelevel_bpe.json", "tiktoken_style_bpe.json",
		"sentencepiece_bpe_bytefallback.json", "unigram_metaspace.json"} {
		data := fixtureJSON(f, name)
		f.Add(data)
		f.Add(data[:len(data)/3])
	}
	f.Add([]byte(`{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}},
		"normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
		"post_processor": {"type": "BertProcessing", "sep": ["[UNK]", 0], "cls": ["a", 1]},
		"decoder": {"type": "WordPiece"}}`))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
		"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<=a)b|\\s+(?!\\S)"}, "behavior": "MergedWithNext", "invert": true}}`))
	f.Add([]byte(`{"model": {"vocab": [["a", -1.0], ["<unk>", 0.0]], "unk_id": 1}, "added_tokens": [{"id": 9, "content": "x", "lstrip": true, "rstrip": true, "single_word": true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := FromJSON(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, s := range []string{"", "Hello world, it's 12345!", " \n\t x ", "ab abab ba", "中文 🙂 x\u0301", "\xff\xfe"} {
			ids := h.Encode(s)
			_ = h.Decode(ids)
			_ = h.DecodeWith(ids, SkipSpecialTokens(true))
		}
	})
}

// FuzzEncode encodes arbitrary text with the fixture tokenizers: ids stay
// in range, and the byte-level ones decode back to the (valid UTF-8) input.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "First Citizen:\nBefore we proceed", "  x  ", "I'M don't", "\u00a0\u2003中文🙂",
		"<|endoftext|>a<|endoftext|>", "aaaaaaaaaaaaaaaaaaaa", "\r\n\r\n 1234567 -7e10"} {
		f.Add(s)
	}
	dir := filepath.Join(sharedDir(f), "fixtures", "tokenizers")
	var toks []*HF
	var lossless []bool
	for _, name := range []string{"bytelevel_bpe.json", "tiktoken_style_bpe.json",
		"sentencepiece_bpe_bytefallback.json", "unigram_metaspace.json"} {
		h, err := FromFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		toks = append(toks, h)
		lossless = append(lossless, strings.Contains(name, "bpe") && !strings.Contains(name, "sentencepiece"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, h := range toks {
			ids, tokens := h.EncodeWithTokens(s)
			if len(ids) != len(tokens) {
				t.Fatalf("%d ids but %d tokens", len(ids), len(tokens))
			}
			for _, id := range ids {
				if id < 0 || id >= h.VocabSize() {
					t.Fatalf("id %d out of range", id)
				}
			}
			dec := h.Decode(ids)
			if !utf8.ValidString(dec) {
				t.Fatalf("decode gave invalid UTF-8 %q", dec)
			}
			if lossless[i] && utf8.ValidString(s) && dec != s {
				t.Fatalf("tokenizer %d: round trip of %q gave %q", i, s, dec)
			}
		}
	})
}
