package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lmxlab/lmxlab/tokenizer/internal/regex"
)

// AddedToken is a token matched in the text before pre-tokenization, as
// listed in the "added_tokens" section of tokenizer.json.
type AddedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	// SingleWord: only match when not inside a word.
	SingleWord bool `json:"single_word"`
	// LStrip / RStrip: the match swallows the white space on its left /
	// right.
	LStrip bool `json:"lstrip"`
	RStrip bool `json:"rstrip"`
	// Normalized: match against the normalized text (else the raw text).
	Normalized bool `json:"normalized"`
	// Special: a control token (skipped by decoding with
	// SkipSpecialTokens).
	Special bool `json:"special"`
}

// split is a part of the input: either text still to tokenize or an added
// token already recognised (tok >= 0, an index into addedVocab.tokens).
type split struct {
	text  string
	tok   int
	first bool
}

type addedVocab struct {
	tokens    []AddedToken
	byContent map[string]int
	byID      map[int]int
	raw       tokenMatcher // tokens with normalized=false
	normed    tokenMatcher // tokens with normalized=true, normalized
}

// tokenMatcher finds the leftmost-longest occurrence of a set of strings.
type tokenMatcher struct {
	first [256]bool
	nodes []matchNode
}

type matchNode struct {
	next map[byte]int32
	val  int32 // pattern value, -1: none
}

func (m *tokenMatcher) add(pat string, val int) {
	if pat == "" {
		return
	}
	if len(m.nodes) == 0 {
		m.nodes = []matchNode{{val: -1}}
	}
	m.first[pat[0]] = true
	cur := int32(0)
	for i := 0; i < len(pat); i++ {
		nd := &m.nodes[cur]
		if nd.next == nil {
			nd.next = map[byte]int32{}
		}
		nx, ok := nd.next[pat[i]]
		if !ok {
			nx = int32(len(m.nodes))
			m.nodes[cur].next[pat[i]] = nx
			m.nodes = append(m.nodes, matchNode{val: -1})
		}
		cur = nx
	}
	if m.nodes[cur].val < 0 { // the first token with this text wins
		m.nodes[cur].val = int32(val)
	}
}

// find returns the leftmost-longest match starting at or after from.
func (m *tokenMatcher) find(s string, from int) (start, end, val int, ok bool) {
	if len(m.nodes) == 0 {
		return 0, 0, 0, false
	}
	for i := from; i < len(s); i++ {
		if !m.first[s[i]] {
			continue
		}
		cur, best := int32(0), -1
		for j := i; j < len(s); j++ {
			nx, ok := m.nodes[cur].next[s[j]]
			if !ok {
				break
			}
			cur = nx
			if v := m.nodes[cur].val; v >= 0 {
				best, val = j+1, int(v)
			}
		}
		if best > 0 {
			return i, best, val, true
		}
	}
	return 0, 0, 0, false
}

func newAddedVocab(tokens []AddedToken, norm normalizer) *addedVocab {
	av := &addedVocab{byContent: map[string]int{}, byID: map[int]int{}}
	for _, t := range tokens {
		if t.Content == "" {
			continue
		}
		if i, ok := av.byContent[t.Content]; ok {
			// A repeated content updates the earlier entry.
			delete(av.byID, av.tokens[i].ID)
			av.tokens[i] = t
			av.byID[t.ID] = i
			continue
		}
		av.byContent[t.Content] = len(av.tokens)
		av.byID[t.ID] = len(av.tokens)
		av.tokens = append(av.tokens, t)
	}
	for i, t := range av.tokens {
		if t.Normalized {
			pat := t.Content
			if norm != nil {
				pat = norm.normalize(pat)
			}
			av.normed.add(pat, i)
		} else {
			av.raw.add(t.Content, i)
		}
	}
	return av
}

func isRustWord(r rune) bool { return regex.IsWord(r) || r == 0x200C || r == 0x200D }

// findMatches splits s around added-token matches (tok = -1 for text), with
// the single_word, lstrip and rstrip rules of the Rust library.
func (av *addedVocab) findMatches(dst []split, s string, first bool, m *tokenMatcher) []split {
	startOffset := 0
	emit := func(a, b, tok int) {
		dst = append(dst, split{s[a:b], tok, first && a == 0})
	}
	for pos := 0; ; {
		st, en, idx, ok := m.find(s, pos)
		if !ok {
			break
		}
		pos = en
		t := av.tokens[idx]
		if t.SingleWord {
			before, _ := utf8.DecodeLastRuneInString(s[:st])
			after, _ := utf8.DecodeRuneInString(s[en:])
			startSpace := st == 0 || !isRustWord(before)
			stopSpace := en == len(s) || !isRustWord(after)
			if !startSpace || !stopSpace {
				continue
			}
		}
		if t.LStrip {
			st = max(len(strings.TrimRightFunc(s[:st], unicode.IsSpace)), startOffset)
		}
		if t.RStrip {
			en += len(s[en:]) - len(strings.TrimLeftFunc(s[en:], unicode.IsSpace))
		}
		if startOffset < st {
			emit(startOffset, st, -1)
		}
		emit(st, en, idx)
		startOffset = en
	}
	if startOffset < len(s) {
		emit(startOffset, len(s), -1)
	}
	return dst
}

// extract splits text on added tokens and normalizes the rest: first the
// tokens matched on raw text, then, in each normalized remainder, the
// tokens matched on normalized text. Empty parts are dropped.
func (av *addedVocab) extract(text string, norm normalizer) []split {
	parts := av.findMatches(nil, text, true, &av.raw)
	out := make([]split, 0, len(parts))
	for _, p := range parts {
		if p.tok >= 0 {
			out = append(out, p)
			continue
		}
		s := p.text
		if norm != nil {
			s = norm.normalize(s)
		}
		out = av.findMatches(out, s, p.first, &av.normed)
	}
	kept := out[:0]
	for _, p := range out {
		if p.text != "" {
			kept = append(kept, p)
		}
	}
	return kept
}

func parseAddedTokens(raw json.RawMessage) ([]AddedToken, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []struct {
		ID         *int    `json:"id"`
		Content    *string `json:"content"`
		SingleWord bool    `json:"single_word"`
		LStrip     bool    `json:"lstrip"`
		RStrip     bool    `json:"rstrip"`
		Normalized *bool   `json:"normalized"`
		Special    bool    `json:"special"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, componentError("added_tokens", "", err)
	}
	out := make([]AddedToken, 0, len(items))
	for i, it := range items {
		if it.ID == nil || it.Content == nil {
			return nil, componentError(fmt.Sprintf("added_tokens[%d]", i), "", fmt.Errorf("missing id or content"))
		}
		if *it.ID < 0 || *it.ID > 1<<30 {
			return nil, componentError(fmt.Sprintf("added_tokens[%d]", i), "", fmt.Errorf("invalid id %d", *it.ID))
		}
		t := AddedToken{ID: *it.ID, Content: *it.Content, SingleWord: it.SingleWord, LStrip: it.LStrip,
			RStrip: it.RStrip, Normalized: !it.Special, Special: it.Special}
		if it.Normalized != nil {
			t.Normalized = *it.Normalized
		}
		out = append(out, t)
	}
	return out, nil
}
