package tokenizer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Char is a character-level tokenizer: id i is the i-th character of a
// sorted vocabulary. Its JSON form ({"type": "char", "chars": "..."}) lets a
// checkpoint store it.
type Char struct {
	chars []rune
	index map[rune]int
}

var _ Tokenizer = (*Char)(nil)

// NewChar builds the vocabulary from the sorted unique characters of text.
// Invalid UTF-8 bytes count as U+FFFD.
func NewChar(text string) *Char {
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	chars := make([]rune, 0, len(seen))
	for r := range seen {
		chars = append(chars, r)
	}
	slices.Sort(chars)
	c, _ := NewCharFromRunes(chars)
	return c
}

// NewCharFromRunes uses chars, in order, as the vocabulary.
func NewCharFromRunes(chars []rune) (*Char, error) {
	c := &Char{chars: append([]rune(nil), chars...), index: make(map[rune]int, len(chars))}
	for i, r := range c.chars {
		if !utf8.ValidRune(r) {
			return nil, fmt.Errorf("char tokenizer: invalid character %U", r)
		}
		if _, dup := c.index[r]; dup {
			return nil, fmt.Errorf("char tokenizer: duplicate character %q", r)
		}
		c.index[r] = i
	}
	return c, nil
}

// Encode maps each character to its id; characters outside the
// vocabulary are dropped (see EncodeStrict).
func (c *Char) Encode(text string) []int {
	ids := make([]int, 0, len(text))
	for _, r := range text {
		if id, ok := c.index[r]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// EncodeStrict is Encode that fails on a character outside the vocabulary.
func (c *Char) EncodeStrict(text string) ([]int, error) {
	ids := make([]int, 0, len(text))
	for i, r := range text {
		id, ok := c.index[r]
		if !ok {
			return nil, fmt.Errorf("char tokenizer: character %q at byte %d is not in the vocabulary", r, i)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Decode maps ids back to characters; unknown ids are skipped.
func (c *Char) Decode(ids []int) string {
	var sb strings.Builder
	sb.Grow(len(ids))
	for _, id := range ids {
		if id >= 0 && id < len(c.chars) {
			sb.WriteRune(c.chars[id])
		}
	}
	return sb.String()
}

// VocabSize is the number of characters.
func (c *Char) VocabSize() int { return len(c.chars) }

// Chars returns the vocabulary in id order.
func (c *Char) Chars() []rune { return append([]rune(nil), c.chars...) }

type charJSON struct {
	Type  string `json:"type"`
	Chars string `json:"chars"`
}

// MarshalJSON stores the vocabulary as one string in id order.
func (c *Char) MarshalJSON() ([]byte, error) {
	return json.Marshal(charJSON{Type: "char", Chars: string(c.chars)})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (c *Char) UnmarshalJSON(data []byte) error {
	var v charJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("char tokenizer: %w", err)
	}
	if v.Type != "char" {
		return fmt.Errorf("char tokenizer: type is %q, want \"char\"", v.Type)
	}
	nc, err := NewCharFromRunes([]rune(v.Chars))
	if err != nil {
		return err
	}
	*c = *nc
	return nil
}
