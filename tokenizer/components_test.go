package tokenizer

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/tokenizer/internal/regex"
	"golang.org/x/text/unicode/norm"
)

func mustJSON(t *testing.T, s string) *HF {
	t.Helper()
	h, err := FromJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func checkEncode(t *testing.T, h *HF, text string, ids []int, toks []string) {
	t.Helper()
	gi, gt := h.EncodeWithTokens(text)
	if !reflect.DeepEqual(gi, ids) || !reflect.DeepEqual(gt, toks) {
		t.Errorf("%q: got %v %q, want %v %q", text, gi, gt, ids, toks)
	}
}

func TestBertWordPiecePipeline(t *testing.T) {
	h := mustJSON(t, `{
	 "added_tokens": [
	  {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
	  {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
	  {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
	  {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
	 "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
	 "pre_tokenizer": {"type": "BertPreTokenizer"},
	 "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
	  "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "un": 6, "##aff": 7, "##able": 8, ",": 9, "!": 10, "中": 11, "cafe": 12}},
	 "post_processor": {"type": "TemplateProcessing",
	  "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
	  "pair": "[CLS] $A [SEP] $B:1 [SEP]:1",
	  "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
	 "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true}}`)
	text := "Hello, unaffable World! Café 中x"
	checkEncode(t, h, text, []int{2, 4, 9, 6, 7, 8, 5, 10, 12, 11, 1, 3},
		[]string{"[CLS]", "hello", ",", "un", "##aff", "##able", "world", "!", "cafe", "中", "[UNK]", "[SEP]"})
	ids := h.Encode(text)
	if got := h.Decode(ids); got != "[CLS] hello, unaffable world! cafe 中 [UNK] [SEP]" {
		t.Errorf("decode: %q", got)
	}
	if got := h.DecodeWith(ids, SkipSpecialTokens(true)); got != "hello, unaffable world! cafe 中" {
		t.Errorf("decode skipping specials: %q", got)
	}
	pair := h.EncodePair("hello", "world")
	if !reflect.DeepEqual(pair.IDs, []int{2, 4, 3, 5, 3}) || !reflect.DeepEqual(pair.TypeIDs, []int{0, 0, 0, 1, 1}) {
		t.Errorf("pair: %+v", pair)
	}
	if !reflect.DeepEqual(pair.SpecialTokensMask, []bool{true, false, true, false, true}) {
		t.Errorf("special mask %v", pair.SpecialTokensMask)
	}
}

func TestMetaspaceFirstScheme(t *testing.T) {
	h := mustJSON(t, `{
	 "added_tokens": [{"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
	 "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},
	 "model": {"type": "BPE", "vocab": {"<unk>": 0, "<s>": 1, "▁": 2, "a": 3, "b": 4, "▁a": 5}, "merges": ["▁ a"], "unk_token": "<unk>"},
	 "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}}`)
	checkEncode(t, h, "a b", []int{5, 2, 4}, []string{"▁a", "▁", "b"})
	checkEncode(t, h, "<s>a b", []int{1, 3, 2, 4}, []string{"<s>", "a", "▁", "b"})
	if got := h.Decode([]int{5, 2, 4}); got != "a b" {
		t.Errorf("decode %q", got)
	}
}

func TestAddedTokenFlags(t *testing.T) {
	h := mustJSON(t, `{
	 "added_tokens": [
	  {"id": 3, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true},
	  {"id": 6, "content": "YES", "single_word": true, "lstrip": false, "rstrip": false, "normalized": true, "special": false},
	  {"id": 7, "content": "<sep>", "single_word": false, "lstrip": false, "rstrip": true, "normalized": false, "special": true}],
	 "normalizer": {"type": "Lowercase"},
	 "pre_tokenizer": {"type": "WhitespaceSplit"},
	 "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1, "world": 2, "<mask>": 3, "a": 8, "b": 9}, "unk_token": "[UNK]"}}`)
	checkEncode(t, h, "Hello <mask> World", []int{1, 3, 2}, []string{"hello", " <mask>", "world"})
	checkEncode(t, h, "hello<mask>", []int{1, 3}, []string{"hello", "<mask>"})
	checkEncode(t, h, "YES yes yesterday", []int{6, 6, 0}, []string{"yes", "yes", "[UNK]"})
	checkEncode(t, h, "a<sep>   b", []int{8, 7, 9}, []string{"a", "<sep>   ", "b"})
	if got := h.Decode([]int{1, 3, 6, 7}); got != "hello <mask> YES <sep>" {
		t.Errorf("decode without decoder: %q", got)
	}
}

func TestBPEOptions(t *testing.T) {
	mk := func(extra string) *HF {
		return mustJSON(t, `{"model": {"type": "BPE", "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3},
			"merges": [["a", "b"]], "unk_token": "<unk>"`+extra+`}}`)
	}
	checkEncode(t, mk(`, "fuse_unk": true`), "abxyab", []int{3, 0, 3}, []string{"ab", "<unk>", "ab"})
	checkEncode(t, mk(`, "fuse_unk": false`), "abxyab", []int{3, 0, 0, 3}, []string{"ab", "<unk>", "<unk>", "ab"})
	affix := mustJSON(t, `{"pre_tokenizer": {"type": "WhitespaceSplit"},
		"model": {"type": "BPE", "vocab": {"a": 0, "##b</w>": 1, "ab</w>": 2, "##b": 3, "b</w>": 4},
		"merges": ["a ##b</w>"], "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>"},
		"decoder": {"type": "BPEDecoder", "suffix": "</w>"}}`)
	checkEncode(t, affix, "ab b", []int{2, 4}, []string{"ab</w>", "b</w>"})
	if got := affix.Decode([]int{2, 4}); got != "ab b" {
		t.Errorf("BPEDecoder: %q", got)
	}
	// ignore_merges: a word in the vocabulary is one token even when the
	// merges would not build it.
	im := mustJSON(t, `{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "abc": 3}, "merges": [], "ignore_merges": true}}`)
	checkEncode(t, im, "abc", []int{3}, []string{"abc"})
	checkEncode(t, im, "cab", []int{2, 0, 1}, []string{"c", "a", "b"})
}

func TestUnigramOptions(t *testing.T) {
	h := mustJSON(t, `{"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": true,
		"vocab": [["<unk>", 0.0], ["a", -1.0], ["<0xC3>", -5.0], ["<0xA9>", -5.0], ["b", -1.0], ["ab", -1.5]]}}`)
	checkEncode(t, h, "ab", []int{5}, []string{"ab"})
	checkEncode(t, h, "aéb", []int{1, 2, 3, 4}, []string{"a", "<0xC3>", "<0xA9>", "b"})
	checkEncode(t, h, "a中文b", []int{1, 0, 4}, []string{"a", "中文", "b"})
}

func TestRobertaProcessing(t *testing.T) {
	h := mustJSON(t, `{"model": {"type": "WordLevel", "vocab": {"<s>": 0, "</s>": 2, "a": 5, "b": 6}, "unk_token": "<s>"},
		"pre_tokenizer": {"type": "WhitespaceSplit"},
		"post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": true, "add_prefix_space": true}}`)
	checkEncode(t, h, "a b", []int{0, 5, 6, 2}, []string{"<s>", "a", "b", "</s>"})
	if p := h.EncodePair("a", "b"); !reflect.DeepEqual(p.IDs, []int{0, 5, 2, 2, 6, 2}) {
		t.Errorf("pair %v", p.IDs)
	}
	if id, ok := h.BOS(); !ok || id != 0 {
		t.Errorf("BOS %d", id)
	}
}

func runPre(t *testing.T, js string, s string) []string {
	t.Helper()
	pt, err := parsePreTokenizer(json.RawMessage(js), "pre_tokenizer")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	pt.split(&encodeCtx{}, piece{s, true}, func(p piece) { out = append(out, p.text) })
	return out
}

func TestPreTokenizers(t *testing.T) {
	cases := []struct {
		js, in string
		want   []string
	}{
		{`{"type": "Digits", "individual_digits": true}`, "abc123d", []string{"abc", "1", "2", "3", "d"}},
		{`{"type": "Digits", "individual_digits": false}`, "abc123d", []string{"abc", "123", "d"}},
		{`{"type": "Punctuation", "behavior": "Isolated"}`, "hi!? there.", []string{"hi", "!", "?", " there", "."}},
		{`{"type": "Whitespace"}`, "Hey, friend!  héllo", []string{"Hey", ",", "friend", "!", "héllo"}},
		{`{"type": "WhitespaceSplit"}`, " a  b\tc ", []string{"a", "b", "c"}},
		{`{"type": "CharDelimiterSplit", "delimiter": "_"}`, "a_b__c", []string{"a", "b", "c"}},
		{`{"type": "Split", "pattern": {"String": "-"}, "behavior": "Removed", "invert": false}`, "a-b--c-", []string{"a", "b", "c"}},
		{`{"type": "Split", "pattern": {"String": "-"}, "behavior": "Isolated", "invert": false}`, "a-b--c-", []string{"a", "-", "b", "-", "-", "c", "-"}},
		{`{"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithPrevious", "invert": false}`, "a-b--c-", []string{"a-", "b-", "-", "c-"}},
		{`{"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithNext", "invert": false}`, "a-b--c-", []string{"a", "-b", "-", "-c", "-"}},
		{`{"type": "Split", "pattern": {"String": "-"}, "behavior": "Contiguous", "invert": false}`, "a-b--c-", []string{"a", "-", "b", "--", "c", "-"}},
		{`{"type": "Split", "pattern": {"String": "-"}, "behavior": "Removed", "invert": true}`, "a-b--c-", []string{"-", "-", "-", "-"}},
		{`{"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": false}`, "a \n b", []string{"a", "b"}},
		{`{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}`, "hello  world", []string{"▁hello", "▁", "▁world"}},
		{`{"type": "Metaspace", "replacement": "▁", "add_prefix_space": false}`, "a b", []string{"a", "▁b"}},
		{`{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}`, "Hello world", []string{"ĠHello", "Ġworld"}},
		{`{"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Digits", "individual_digits": true}]}`, "ab12 c3", []string{"ab", "1", "2", "c", "3"}},
	}
	for _, c := range cases {
		if got := runPre(t, c.js, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s on %q: got %q want %q", c.js, c.in, got, c.want)
		}
	}
}

func TestNormalizers(t *testing.T) {
	re := regex.MustCompile(" +")
	cases := []struct {
		n       normalizer
		in, out string
	}{
		{lowercase{}, "İSTANBUL ΣΑΣ", "i\u0307stanbul σασ"},
		{strip{true, true}, "  a b \n", "a b"},
		{strip{false, true}, "  a ", "  a"},
		{prepend("▁"), "", ""},
		{prepend("▁"), "a", "▁a"},
		{unicodeNorm{norm.NFKC}, "ﬁ①", "fi1"},
		{unicodeNorm{norm.NFD}, "é", "e\u0301"},
		{stripAccents{}, "e\u0301a", "ea"},
		{replaceNorm{regexPattern{re}, "_"}, "a  b c", "a_b_c"},
		{replaceNorm{stringPattern("ab"), "x"}, "abab a", "xx a"},
		{bertNormalizer{true, true, true, true}, "Héllo\tWorld\x00中", "hello world 中 "},
		{nmt{}, "a\u200bb\x01", "a b"},
		{byteLevelNorm{}, "a b", "aĠb"},
		{normalizerSeq{lowercase{}, prepend("_")}, "AB", "_ab"},
	}
	for _, c := range cases {
		if got := c.n.normalize(c.in); got != c.out {
			t.Errorf("%T(%q) = %q, want %q", c.n, c.in, got, c.out)
		}
	}
}

func TestDecoders(t *testing.T) {
	cases := []struct {
		js   string
		in   []string
		want string
	}{
		{`{"type": "Strip", "content": " ", "start": 1, "stop": 1}`, []string{" a ", "  b  "}, "a b "},
		{`{"type": "ByteFallback"}`, []string{"<0x61>", "<0xE4>", "<0xB8>", "<0xAD>", "x", "<0xFF>", "<0xFF>"}, "a中x\uFFFD\uFFFD"},
		{`{"type": "Fuse"}`, []string{"a", "b"}, "ab"},
		{`{"type": "WordPiece", "prefix": "##", "cleanup": true}`, []string{"hello", "##s", ",", "do", "n't", "go", "."}, "hellos, don't go."},
		{`{"type": "BPEDecoder", "suffix": "</w>"}`, []string{"hel", "lo</w>", "world</w>"}, "hello world"},
		{`{"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": true}`, []string{"<pad>", "h", "h", "<pad>", "e", "|", "l", "l", "<pad>", "l"}, "he ll"},
		{`{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}`, []string{"▁a", "b▁"}, " ab "},
		{`{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never"}`, []string{"▁a", "▁b"}, " a b"},
		{`{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"}`, []string{"▁▁a", "▁b"}, "a b"},
		{`{"type": "ByteLevel"}`, []string{"Ġhi", "中", "Ã©"}, " hi中é"},
		{`{"type": "ByteLevel"}`, []string{"ð", "Ł"}, "\uFFFD"},
		{`{"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}`,
			[]string{"▁hi", "<0x0A>", "▁there"}, "hi\n there"},
	}
	for _, c := range cases {
		d, err := parseDecoder(json.RawMessage(c.js), "decoder")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(d.decodeChain(c.in), ""); got != c.want {
			t.Errorf("%s on %q: got %q want %q", c.js, c.in, got, c.want)
		}
	}
}

func TestLossyUTF8(t *testing.T) {
	cases := map[string]string{
		"abc":                "abc",
		"\xF0\x9F\x99":       "\uFFFD",
		"\xC3(":              "\uFFFD(",
		"\xED\xA0\x80":       "\uFFFD\uFFFD\uFFFD",
		"a\xFFb\xE4\xB8\xAD": "a\uFFFDb中",
		"\xE4\xB8":           "\uFFFD",
		"\xF4\x90\x80\x80":   "\uFFFD\uFFFD\uFFFD\uFFFD",
	}
	for in, want := range cases {
		if got := lossyUTF8([]byte(in)); got != want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTemplateStrings(t *testing.T) {
	for in, want := range map[string]templatePart{
		"$A":      {},
		"$B:1":    {seqB: true, typeID: 1},
		"$1":      {typeID: 1},
		"[CLS]":   {special: "[CLS]"},
		"[SEP]:1": {special: "[SEP]", typeID: 1},
	} {
		got, err := parseTemplateString(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, err)
		}
	}
	if _, err := parseTemplateString("$C"); err == nil {
		t.Error("$C accepted")
	}
}
