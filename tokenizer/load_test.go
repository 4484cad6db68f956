package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixtureJSON(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(sharedFile(t, filepath.Join("fixtures", "tokenizers", name)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mutate decodes a tokenizer.json, lets f change it and encodes it again.
func mutate(t *testing.T, data []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

func TestLoadErrors(t *testing.T) {
	base := fixtureJSON(t, "bytelevel_bpe.json")
	uni := fixtureJSON(t, "unigram_metaspace.json")
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"truncated", base[:len(base)/2], []string{"invalid JSON at byte"}},
		{"empty", nil, []string{"invalid JSON"}},
		{"not an object", []byte(`[1, 2]`), []string{"invalid tokenizer.json"}},
		{"no model", mutate(t, base, func(m map[string]any) { delete(m, "model") }), []string{"model", "missing model"}},
		{"unknown normalizer", mutate(t, base, func(m map[string]any) {
			m["normalizer"] = obj(`{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Bogus"}]}`)
		}), []string{"normalizer.normalizers[1]", "Bogus"}},
		{"unknown pre-tokenizer", mutate(t, base, func(m map[string]any) {
			m["pre_tokenizer"] = obj(`{"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "Nope"}]}`)
		}), []string{"pre_tokenizer.pretokenizers[1]", "Nope"}},
		{"bad split regex", mutate(t, base, func(m map[string]any) {
			m["pre_tokenizer"] = obj(`{"type": "Split", "pattern": {"Regex": "(a|b"}, "behavior": "Isolated", "invert": false}`)
		}), []string{"pre_tokenizer (Split)", "regex", "missing ')'"}},
		{"bad split behavior", mutate(t, base, func(m map[string]any) {
			m["pre_tokenizer"] = obj(`{"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"}`)
		}), []string{"pre_tokenizer (Split)", "Sideways"}},
		{"unknown decoder", mutate(t, base, func(m map[string]any) {
			m["decoder"] = obj(`{"type": "Sequence", "decoders": [{"type": "Fuse"}, {"type": "Mystery"}]}`)
		}), []string{"decoder.decoders[1]", "Mystery"}},
		{"unknown post-processor", mutate(t, base, func(m map[string]any) {
			m["post_processor"] = obj(`{"type": "Sequence", "processors": [{"type": "Zzz"}]}`)
		}), []string{"post_processor.processors[0]", "Zzz"}},
		{"template with unknown special", mutate(t, base, func(m map[string]any) {
			m["post_processor"] = obj(`{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<x>", "type_id": 0}}], "pair": [], "special_tokens": {}}`)
		}), []string{"post_processor (TemplateProcessing)", "<x>"}},
		{"unknown model", mutate(t, base, func(m map[string]any) {
			m["model"].(map[string]any)["type"] = "Markov"
		}), []string{"model (Markov)", "unknown model type"}},
		{"merge token missing", mutate(t, base, func(m map[string]any) {
			model := m["model"].(map[string]any)
			model["merges"] = append(model["merges"].([]any), []any{"a", "zzzq"})
		}), []string{"model (BPE)", "merges[", `"zzzq" is not in the vocabulary`}},
		{"merge result missing", mutate(t, base, func(m map[string]any) {
			model := m["model"].(map[string]any)
			model["merges"] = []any{[]any{"x", "q"}}
			delete(model["vocab"].(map[string]any), "xq")
		}), []string{"model (BPE)", "merges[0]", `merged token "xq"`}},
		{"bad merge line", mutate(t, base, func(m map[string]any) {
			m["model"].(map[string]any)["merges"] = []any{"a b c"}
		}), []string{"model (BPE)", "merges[0]"}},
		{"bad vocab id", mutate(t, base, func(m map[string]any) {
			m["model"].(map[string]any)["vocab"].(map[string]any)["a"] = -3
		}), []string{"model (BPE)", "invalid id -3"}},
		{"unigram unk out of range", mutate(t, uni, func(m map[string]any) {
			m["model"].(map[string]any)["unk_id"] = 100000
		}), []string{"model (Unigram)", "unk_id"}},
		{"unigram bad piece", mutate(t, uni, func(m map[string]any) {
			m["model"].(map[string]any)["vocab"] = obj(`[["a", -1.0], [3, -2.0]]`)
		}), []string{"model (Unigram)", "vocab[1]"}},
		{"added token without content", mutate(t, base, func(m map[string]any) {
			m["added_tokens"] = obj(`[{"id": 5}]`)
		}), []string{"added_tokens[0]"}},
		{"metaspace conflict", mutate(t, uni, func(m map[string]any) {
			m["pre_tokenizer"] = obj(`{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "add_prefix_space": false}`)
		}), []string{"pre_tokenizer (Metaspace)", "prepend_scheme"}},
		{"component without type", mutate(t, base, func(m map[string]any) {
			m["decoder"] = obj(`{"add_prefix_space": true}`)
		}), []string{"decoder", "missing field type"}},
		{"precompiled", mutate(t, base, func(m map[string]any) {
			m["normalizer"] = obj(`{"type": "Precompiled", "precompiled_charsmap": "AAE="}`)
		}), []string{"normalizer (Precompiled)", "precompiled_charsmap"}},
		{"unicode scripts", mutate(t, base, func(m map[string]any) {
			m["pre_tokenizer"] = obj(`{"type": "UnicodeScripts"}`)
		}), []string{"pre_tokenizer (UnicodeScripts)", "unknown pre-tokenizer"}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".json")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := FromFile(path)
			if err == nil {
				t.Fatal("loaded a bad file")
			}
			msg := err.Error()
			for _, w := range append(c.want, path) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
	if _, err := FromFile(filepath.Join(dir, "nonexistent.json")); err == nil || !strings.Contains(err.Error(), "nonexistent.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadDirectoryAndConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), fixtureJSON(t, "sentencepiece_bpe_bytefallback.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := `{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "unk_token": "<unk>",
		"pad_token": null, "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
		"added_tokens_decoder": {"1": {"content": "<s>", "special": true}}}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := tk.(*HF)
	if id, ok := h.BOS(); !ok || id != 1 {
		t.Errorf("BOS = %d, %v", id, ok)
	}
	if id, ok := h.EOS(); !ok || id != 2 {
		t.Errorf("EOS = %d, %v", id, ok)
	}
	if id, ok := h.UNK(); !ok || id != 0 {
		t.Errorf("UNK = %d, %v", id, ok)
	}
	if !strings.Contains(h.ChatTemplate(), "messages") {
		t.Errorf("chat template %q", h.ChatTemplate())
	}
	if h.Config().AddedTokensDecoder[1].Content != "<s>" {
		t.Error("added_tokens_decoder not read")
	}
	if id, ok := h.PAD(); ok {
		t.Errorf("pad_token is null but PAD = %d", id)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"bos_token": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json") {
		t.Errorf("bad config: %v", err)
	}
}

func TestSpecialsAndLookups(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures", "tokenizers")
	sp, err := FromFile(filepath.Join(dir, "sentencepiece_bpe_bytefallback.json"))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := sp.BOS(); !ok || id != 1 {
		t.Errorf("sentencepiece BOS = %d %v", id, ok)
	}
	if id, ok := sp.EOS(); !ok || id != 2 {
		t.Errorf("sentencepiece EOS = %d %v", id, ok)
	}
	if got := sp.EncodeWith("hi", AddSpecialTokens(false)).IDs; len(got) == 0 || got[0] == 1 {
		t.Errorf("AddSpecialTokens(false) kept <s>: %v", got)
	}
	ids := sp.Encode("hi")
	if got := sp.DecodeWith(ids, SkipSpecialTokens(true)); got != "hi" {
		t.Errorf("skip special: %q", got)
	}
	if !sp.IsSpecial(1) || sp.IsSpecial(300) {
		t.Error("IsSpecial")
	}
	if s, ok := sp.IDToToken(13); !ok || s != "<0x0A>" {
		t.Errorf("IDToToken(13) = %q", s)
	}
	if id, ok := sp.TokenToID("<0x0A>"); !ok || id != 13 {
		t.Errorf("TokenToID = %d", id)
	}
	if _, ok := sp.IDToToken(1 << 20); ok {
		t.Error("IDToToken of an unknown id")
	}
	gpt, err := FromFile(filepath.Join(dir, "bytelevel_bpe.json"))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := gpt.EOS(); !ok || id != 0 {
		t.Errorf("gpt EOS = %d %v", id, ok)
	}
	if len(gpt.SpecialTokens()) != 1 || len(gpt.AddedTokens()) != 1 {
		t.Errorf("special tokens %v", gpt.SpecialTokens())
	}
	pair := sp.EncodePair("a", "b")
	if len(pair.IDs) != len(pair.TypeIDs) || pair.TypeIDs[len(pair.TypeIDs)-1] != 1 {
		t.Errorf("pair encoding %+v", pair)
	}
	// Decode drops unknown ids, and invalid UTF-8 input is cleaned.
	if got := gpt.Decode([]int{-1, 1 << 25}); got != "" {
		t.Errorf("decode of unknown ids = %q", got)
	}
	if got := gpt.Decode(gpt.Encode("a\xffb")); got != "a\uFFFDb" {
		t.Errorf("invalid UTF-8 round trip = %q", got)
	}
}
