package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Load reads a Hugging Face tokenizer: path is a tokenizer.json file or a
// directory holding one. A tokenizer_config.json beside it is read too.
func Load(path string) (Tokenizer, error) { return FromFile(path) }

// FromFile is Load returning the concrete type.
func FromFile(path string) (*HF, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "tokenizer.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{File: path, Err: err}
	}
	h, err := FromJSON(data)
	if err != nil {
		return nil, withFile(err, path)
	}
	cfgPath := filepath.Join(filepath.Dir(path), "tokenizer_config.json")
	if cdata, err := os.ReadFile(cfgPath); err == nil {
		cfg, err := ParseConfig(cdata)
		if err != nil {
			return nil, &LoadError{File: cfgPath, Err: err}
		}
		h.applyConfig(cfg)
	}
	return h, nil
}

func withFile(err error, path string) error {
	var le *LoadError
	if errors.As(err, &le) {
		le.File = path
		return le
	}
	return &LoadError{File: path, Err: err}
}

// FromJSON builds a tokenizer from the contents of a tokenizer.json.
func FromJSON(data []byte) (*HF, error) {
	var f struct {
		Version       string
		AddedTokens   json.RawMessage `json:"added_tokens"`
		Normalizer    json.RawMessage
		PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
		Model         json.RawMessage
		PostProcessor json.RawMessage `json:"post_processor"`
		Decoder       json.RawMessage
	}
	if err := json.Unmarshal(data, &f); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &LoadError{Err: fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)}
		}
		return nil, &LoadError{Err: fmt.Errorf("invalid tokenizer.json: %v", err)}
	}
	if f.Model == nil {
		return nil, &LoadError{Component: "model", Err: fmt.Errorf("missing model section")}
	}
	h := &HF{bos: -1, eos: -1, unk: -1, pad: -1}
	var err error
	if h.norm, err = parseNormalizer(f.Normalizer, "normalizer"); err != nil {
		return nil, err
	}
	if h.pre, err = parsePreTokenizer(f.PreTokenizer, "pre_tokenizer"); err != nil {
		return nil, err
	}
	if h.model, err = parseModel(f.Model, "model"); err != nil {
		return nil, err
	}
	if h.post, err = parsePostProcessor(f.PostProcessor, "post_processor"); err != nil {
		return nil, err
	}
	if h.dec, err = parseDecoder(f.Decoder, "decoder"); err != nil {
		return nil, err
	}
	added, err := parseAddedTokens(f.AddedTokens)
	if err != nil {
		return nil, err
	}
	// As in the Rust library, a token the model knows keeps the model's id.
	for i := range added {
		if id, ok := h.model.tokenToID(added[i].Content); ok {
			added[i].ID = id
		}
	}
	h.added = newAddedVocab(added, h.norm)
	h.vocabSize = h.model.size()
	for _, t := range h.added.tokens {
		h.vocabSize = max(h.vocabSize, t.ID+1)
	}
	h.guessSpecials()
	return h, nil
}

// guessSpecials finds BOS/EOS/UNK/PAD without a tokenizer_config.json: from
// the post-processor template, then from well-known token names.
func (h *HF) guessSpecials() {
	if t, ok := h.post.(*templateProcessor); ok && len(t.single) > 0 {
		if p := t.single[0]; p.special != "" && len(t.specials[p.special].ids) == 1 {
			h.bos = t.specials[p.special].ids[0]
		}
		if p := t.single[len(t.single)-1]; len(t.single) > 1 && p.special != "" && len(t.specials[p.special].ids) == 1 {
			h.eos = t.specials[p.special].ids[0]
		}
	}
	if c, ok := h.post.(*clsSepProcessor); ok {
		h.bos, h.eos = c.cls.id, c.sep.id
	}
	pick := func(cur int, names ...string) int {
		if cur >= 0 {
			return cur
		}
		for _, n := range names {
			if id, ok := h.TokenToID(n); ok {
				return id
			}
		}
		return -1
	}
	h.bos = pick(h.bos, "<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>", "[CLS]")
	h.eos = pick(h.eos, "</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "<|im_end|>", "[SEP]")
	h.unk = pick(h.unk, "<unk>", "[UNK]", "<|unk|>")
	h.pad = pick(h.pad, "<pad>", "[PAD]", "<|pad|>", "<|finetune_right_pad_id|>")
	switch m := h.model.(type) {
	case *unigram:
		if m.unkID >= 0 {
			h.unk = m.unkID
		}
	case *bpe:
		if m.unkID >= 0 {
			h.unk = m.unkID
		}
	}
}

// Config holds the tokenizer_config.json settings lmxlab uses.
type Config struct {
	BOSToken, EOSToken, UNKToken, PADToken string
	// ChatTemplate is the default template; ChatTemplates has the named
	// ones when the file lists several.
	ChatTemplate   string
	ChatTemplates  map[string]string
	AddBOSToken    *bool
	AddEOSToken    *bool
	ModelMaxLength float64
	// AddedTokensDecoder is the "added_tokens_decoder" table.
	AddedTokensDecoder map[int]AddedToken

	// nulls records the special tokens set to null explicitly ("the
	// model has none").
	nulls map[string]bool
}

// ParseConfig reads a tokenizer_config.json.
func ParseConfig(data []byte) (*Config, error) {
	var raw struct {
		BOS            json.RawMessage `json:"bos_token"`
		EOS            json.RawMessage `json:"eos_token"`
		UNK            json.RawMessage `json:"unk_token"`
		PAD            json.RawMessage `json:"pad_token"`
		ChatTemplate   json.RawMessage `json:"chat_template"`
		AddBOSToken    *bool           `json:"add_bos_token"`
		AddEOSToken    *bool           `json:"add_eos_token"`
		ModelMaxLength float64         `json:"model_max_length"`
		AddedDecoder   map[string]struct {
			Content    string `json:"content"`
			SingleWord bool   `json:"single_word"`
			LStrip     bool   `json:"lstrip"`
			RStrip     bool   `json:"rstrip"`
			Normalized bool   `json:"normalized"`
			Special    bool   `json:"special"`
		} `json:"added_tokens_decoder"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	c := &Config{AddBOSToken: raw.AddBOSToken, AddEOSToken: raw.AddEOSToken, ModelMaxLength: raw.ModelMaxLength,
		nulls: map[string]bool{}}
	var err error
	tok := func(r json.RawMessage, name string) string {
		if string(r) == "null" {
			c.nulls[name] = true
		}
		if err != nil || len(r) == 0 || string(r) == "null" {
			return ""
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			return s
		}
		var o struct{ Content string }
		if e := json.Unmarshal(r, &o); e != nil {
			err = fmt.Errorf("%s: expected a string or an object with content", name)
		}
		return o.Content
	}
	c.BOSToken, c.EOSToken = tok(raw.BOS, "bos_token"), tok(raw.EOS, "eos_token")
	c.UNKToken, c.PADToken = tok(raw.UNK, "unk_token"), tok(raw.PAD, "pad_token")
	if err != nil {
		return nil, err
	}
	if len(raw.ChatTemplate) > 0 && string(raw.ChatTemplate) != "null" {
		if json.Unmarshal(raw.ChatTemplate, &c.ChatTemplate) != nil {
			var list []struct{ Name, Template string }
			if err := json.Unmarshal(raw.ChatTemplate, &list); err != nil {
				return nil, fmt.Errorf("chat_template: expected a string or a list of {name, template}")
			}
			c.ChatTemplates = map[string]string{}
			for _, t := range list {
				c.ChatTemplates[t.Name] = t.Template
			}
			c.ChatTemplate = c.ChatTemplates["default"]
		}
	}
	if raw.AddedDecoder != nil {
		c.AddedTokensDecoder = map[int]AddedToken{}
		for k, v := range raw.AddedDecoder {
			var id int
			if _, err := fmt.Sscanf(k, "%d", &id); err != nil || id < 0 {
				return nil, fmt.Errorf("added_tokens_decoder: bad id %q", k)
			}
			c.AddedTokensDecoder[id] = AddedToken{ID: id, Content: v.Content, SingleWord: v.SingleWord,
				LStrip: v.LStrip, RStrip: v.RStrip, Normalized: v.Normalized, Special: v.Special}
		}
	}
	return c, nil
}

func (h *HF) applyConfig(c *Config) {
	h.config = c
	set := func(dst *int, name string) {
		if name == "" {
			return
		}
		*dst = -1
		if id, ok := h.TokenToID(name); ok {
			*dst = id
		}
	}
	set(&h.bos, c.BOSToken)
	set(&h.eos, c.EOSToken)
	set(&h.unk, c.UNKToken)
	set(&h.pad, c.PADToken)
	for name, dst := range map[string]*int{"bos_token": &h.bos, "eos_token": &h.eos, "unk_token": &h.unk, "pad_token": &h.pad} {
		if c.nulls[name] {
			*dst = -1
		}
	}
}
