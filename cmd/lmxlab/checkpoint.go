package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/tokenizer"
	"github.com/lmxlab/lmxlab/train"
)

// tokenizerFile is the checkpoint file naming the tokenizer a model was trained with:
// {"type": "char", "chars": ...}, {"type": "tiktoken", "name": ...} or {"type": "hf"} (then the
// Hugging Face tokenizer.json sits beside it).
const tokenizerFile = "lmxlab_tokenizer.json"

// buildTokenizer makes the tokenizer a --tokenizer flag names: "char" (from the training text),
// a tiktoken encoding (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base) or a tokenizer.json
// path. It also returns the files a checkpoint needs to rebuild it.
func buildTokenizer(spec, text string) (tokenizer.Tokenizer, map[string][]byte, error) {
	switch {
	case spec == "char" || spec == "":
		c := tokenizer.NewChar(text)
		b, err := json.Marshal(c)
		if err != nil {
			return nil, nil, err
		}
		return c, map[string][]byte{tokenizerFile: b}, nil
	case isTiktoken(spec):
		t, err := tokenizer.NewTiktoken(spec)
		if err != nil {
			return nil, nil, err
		}
		b, _ := json.Marshal(map[string]string{"type": "tiktoken", "name": spec})
		return t, map[string][]byte{tokenizerFile: b}, nil
	}
	raw, err := os.ReadFile(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("--tokenizer %q is not char, a tiktoken encoding %v, or a readable tokenizer.json: %w", spec, tokenizer.TiktokenEncodings(), err)
	}
	t, err := tokenizer.FromJSON(raw)
	if err != nil {
		return nil, nil, err
	}
	return t, map[string][]byte{tokenizerFile: []byte(`{"type": "hf"}`), "tokenizer.json": raw}, nil
}

func isTiktoken(name string) bool {
	for _, e := range tokenizer.TiktokenEncodings() {
		if e == name {
			return true
		}
	}
	return false
}

// loadTokenizer rebuilds a checkpoint's tokenizer.
func loadTokenizer(dir string) (tokenizer.Tokenizer, error) {
	raw, err := os.ReadFile(filepath.Join(dir, tokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s has no tokenizer: %w", dir, err)
	}
	var head struct{ Type, Name string }
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, tokenizerFile), err)
	}
	switch head.Type {
	case "char":
		c := &tokenizer.Char{}
		if err := json.Unmarshal(raw, c); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, tokenizerFile), err)
		}
		return c, nil
	case "tiktoken":
		return tokenizer.NewTiktoken(head.Name)
	case "hf":
		return tokenizer.FromFile(filepath.Join(dir, "tokenizer.json"))
	}
	return nil, fmt.Errorf("%s: unknown tokenizer type %q", filepath.Join(dir, tokenizerFile), head.Type)
}

// loadModel loads a checkpoint's model (config.json + model.safetensors) and tokenizer.
func loadModel(dir string) (*models.LanguageModel, tokenizer.Tokenizer, error) {
	raw, err := train.ReadModelConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := models.ParseConfig(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, train.ModelConfigFile), err)
	}
	m, err := models.Build(cfg, nil) // the checkpoint replaces every parameter
	if err != nil {
		return nil, nil, err
	}
	if _, _, err := train.LoadCheckpoint(dir, m, nil); err != nil {
		return nil, nil, err
	}
	tok, err := loadTokenizer(dir)
	if err != nil {
		return nil, nil, err
	}
	if tok.VocabSize() > cfg.VocabSize {
		return nil, nil, fmt.Errorf("checkpoint %s: tokenizer has %d tokens, model only %d", dir, tok.VocabSize(), cfg.VocabSize)
	}
	return m, tok, nil
}
