package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// wordPiece is BERT's greedy longest-match-first subword model.
type wordPiece struct {
	vocab    map[string]int
	vocabR   vocabTable
	unk      string
	unkID    int // -1: unk not in vocab
	prefix   string
	maxChars int
}

func (w *wordPiece) tokenToID(s string) (int, bool)  { id, ok := w.vocab[s]; return id, ok }
func (w *wordPiece) idToToken(id int) (string, bool) { return w.vocabR.get(id) }
func (w *wordPiece) size() int                       { return len(w.vocabR.byID) }

func (w *wordPiece) unknown(dst []token) []token {
	if w.unkID < 0 {
		return dst
	}
	return append(dst, token{w.unkID, w.unk})
}

func (w *wordPiece) tokenize(dst []token, word string) []token {
	if utf8.RuneCountInString(word) > w.maxChars {
		return w.unknown(dst)
	}
	start := len(dst)
	for pos := 0; pos < len(word); {
		end := len(word)
		found := false
		for pos < end {
			sub := word[pos:end]
			if pos > 0 {
				sub = w.prefix + sub
			}
			if id, ok := w.vocab[sub]; ok {
				dst = append(dst, token{id, sub})
				found = true
				break
			}
			_, sz := utf8.DecodeLastRuneInString(word[pos:end])
			end -= sz
		}
		if !found {
			return w.unknown(dst[:start])
		}
		pos = end
	}
	return dst
}

func parseWordPiece(raw json.RawMessage, path string) (*wordPiece, error) {
	v := struct {
		Vocab                   map[string]int
		UnkToken                *string `json:"unk_token"`
		ContinuingSubwordPrefix *string `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int    `json:"max_input_chars_per_word"`
	}{}
	bad := func(err error) error { return componentError(path, "WordPiece", err) }
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, bad(err)
	}
	if v.Vocab == nil {
		return nil, bad(fmt.Errorf("missing field vocab"))
	}
	if err := checkIDs(v.Vocab); err != nil {
		return nil, bad(err)
	}
	w := &wordPiece{vocab: v.Vocab, vocabR: newVocabTable(v.Vocab), unk: "[UNK]", prefix: "##", maxChars: 100}
	if v.UnkToken != nil {
		w.unk = *v.UnkToken
	}
	if v.ContinuingSubwordPrefix != nil {
		w.prefix = *v.ContinuingSubwordPrefix
	}
	if v.MaxInputCharsPerWord != nil {
		w.maxChars = *v.MaxInputCharsPerWord
	}
	w.unkID = -1
	if id, ok := v.Vocab[w.unk]; ok {
		w.unkID = id
	}
	return w, nil
}

// wordLevel maps whole words to ids.
type wordLevel struct {
	vocab  map[string]int
	vocabR vocabTable
	unkID  int
	unk    string
}

func (w *wordLevel) tokenToID(s string) (int, bool)  { id, ok := w.vocab[s]; return id, ok }
func (w *wordLevel) idToToken(id int) (string, bool) { return w.vocabR.get(id) }
func (w *wordLevel) size() int                       { return len(w.vocabR.byID) }

func (w *wordLevel) tokenize(dst []token, word string) []token {
	if id, ok := w.vocab[word]; ok {
		return append(dst, token{id, word})
	}
	if w.unkID >= 0 {
		return append(dst, token{w.unkID, w.unk})
	}
	return dst
}

func parseWordLevel(raw json.RawMessage, path string) (*wordLevel, error) {
	var v struct {
		Vocab    map[string]int
		UnkToken *string `json:"unk_token"`
	}
	bad := func(err error) error { return componentError(path, "WordLevel", err) }
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, bad(err)
	}
	if v.Vocab == nil {
		return nil, bad(fmt.Errorf("missing field vocab"))
	}
	if err := checkIDs(v.Vocab); err != nil {
		return nil, bad(err)
	}
	w := &wordLevel{vocab: v.Vocab, vocabR: newVocabTable(v.Vocab), unkID: -1}
	if v.UnkToken != nil {
		w.unk = *v.UnkToken
		if id, ok := v.Vocab[w.unk]; ok {
			w.unkID = id
		}
	}
	return w, nil
}

func checkIDs(vocab map[string]int) error {
	for s, id := range vocab {
		if id < 0 || id > 1<<30 {
			return fmt.Errorf("vocab: token %q has invalid id %d", s, id)
		}
	}
	return nil
}

// parseModel reads the "model" section.
func parseModel(raw json.RawMessage, path string) (model, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, componentError(path, "", fmt.Errorf("missing model"))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, componentError(path, "", fmt.Errorf("expected an object: %w", err))
	}
	var typ string
	if t, ok := fields["type"]; ok {
		if err := json.Unmarshal(t, &typ); err != nil {
			return nil, componentError(path, "", fmt.Errorf("field type must be a string"))
		}
	} else {
		// Old files leave the type out; infer it from the fields.
		switch {
		case fields["merges"] != nil:
			typ = "BPE"
		case fields["unk_id"] != nil:
			typ = "Unigram"
		case fields["max_input_chars_per_word"] != nil || fields["continuing_subword_prefix"] != nil:
			typ = "WordPiece"
		default:
			typ = "WordLevel"
		}
	}
	switch typ {
	case "BPE":
		return parseBPE(raw, path)
	case "Unigram":
		return parseUnigram(raw, path)
	case "WordPiece":
		return parseWordPiece(raw, path)
	case "WordLevel":
		return parseWordLevel(raw, path)
	}
	return nil, componentError(path, typ, fmt.Errorf("unknown model type %q", typ))
}
