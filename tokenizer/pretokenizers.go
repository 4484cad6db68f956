package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lmxlab/lmxlab/tokenizer/internal/regex"
)

// piece is a part of the (normalized) input on its way to the model. first
// is true when it starts at offset 0 of the original text (the Metaspace
// "first" prepend scheme depends on it).
type piece struct {
	text  string
	first bool
}

// encodeCtx is per-call scratch space.
type encodeCtx struct {
	// arena backs the byte-level strings of one call: strings cut from a
	// strings.Builder stay valid as it grows, which saves an allocation
	// per piece.
	arena strings.Builder
	hint  int // input length, to size the arena
}

// byteLevel maps every byte of s to its printable rune.
func (c *encodeCtx) byteLevel(s string) string {
	if c.arena.Cap() == 0 {
		c.arena.Grow(c.hint + c.hint/4 + 16)
	}
	start := c.arena.Len()
	for i := 0; i < len(s); i++ {
		if b := s[i]; b > ' ' && b < 0x7F {
			c.arena.WriteByte(b)
		} else {
			c.arena.WriteString(byteToStr[b])
		}
	}
	return c.arena.String()[start:]
}

// preTokenizer splits a piece into smaller pieces, reported in order to
// emit.
type preTokenizer interface {
	split(c *encodeCtx, p piece, emit func(piece))
}

// keepSpans returns a span consumer that emits the non-empty spans of p.
func keepSpans(p piece, emit func(piece)) func(span) {
	return func(sp span) {
		if sp.end > sp.start {
			emit(piece{p.text[sp.start:sp.end], p.first && sp.start == 0})
		}
	}
}

const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

var gpt2Regex = regex.MustCompile(gpt2Pattern)

type byteLevelPre struct{ addPrefixSpace, useRegex bool }

func (b byteLevelPre) split(c *encodeCtx, p piece, emit func(piece)) {
	s := p.text
	if b.addPrefixSpace && s != "" && s[0] != ' ' {
		s = " " + s
	}
	if !b.useRegex {
		emit(piece{c.byteLevel(s), p.first})
		return
	}
	(regexPattern{gpt2Regex}).each(s, func(sp span) {
		if sp.end > sp.start {
			emit(piece{c.byteLevel(s[sp.start:sp.end]), p.first && sp.start == 0})
		}
	})
}

type splitPre struct {
	pat      pattern
	behavior splitBehavior
}

func (sp splitPre) split(_ *encodeCtx, p piece, emit func(piece)) {
	splitEach(sp.pat, p.text, sp.behavior, keepSpans(p, emit))
}

const (
	prependAlways = iota
	prependNever
	prependFirst
)

type metaspacePre struct {
	repl    rune
	scheme  int
	splitOn bool
}

func (m metaspacePre) split(_ *encodeCtx, p piece, emit func(piece)) {
	rs := string(m.repl)
	s := strings.ReplaceAll(p.text, " ", rs)
	if s != "" && !strings.HasPrefix(s, rs) {
		if m.scheme == prependAlways || m.scheme == prependFirst && p.first {
			s = rs + s
		}
	}
	q := piece{s, p.first}
	if !m.splitOn {
		emit(q)
		return
	}
	repl := m.repl
	splitEach(funcPattern(func(r rune) bool { return r == repl }), s, behaviorMergedWithNext, keepSpans(q, emit))
}

var whitespaceRegex = regex.MustCompile(`\w+|[^\w\s]+`)

// isPunc is Rust's char::is_ascii_punctuation || is_punctuation.
func isPunc(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '!' && r <= '/' || r >= ':' && r <= '@' || r >= '[' && r <= '`' || r >= '{' && r <= '~'
	}
	return unicode.IsPunct(r)
}

type funcSplitPre struct {
	f        funcPattern
	behavior splitBehavior
}

func (f funcSplitPre) split(_ *encodeCtx, p piece, emit func(piece)) {
	splitEach(f.f, p.text, f.behavior, keepSpans(p, emit))
}

type preTokSeq []preTokenizer

func (s preTokSeq) split(c *encodeCtx, p piece, emit func(piece)) {
	fns := make([]func(piece), len(s)+1)
	fns[len(s)] = emit
	for i := len(s) - 1; i >= 0; i-- {
		pt, next := s[i], fns[i+1]
		fns[i] = func(q piece) { pt.split(c, q, next) }
	}
	fns[0](p)
}

func parsePreTokenizer(raw json.RawMessage, path string) (preTokenizer, error) {
	typ, fields, err := componentType(raw, path)
	if err != nil || typ == "" {
		return nil, err
	}
	bad := func(err error) error { return componentError(path, typ, err) }
	switch typ {
	case "ByteLevel":
		v := struct {
			AddPrefixSpace *bool `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		b := byteLevelPre{true, true}
		if v.AddPrefixSpace != nil {
			b.addPrefixSpace = *v.AddPrefixSpace
		}
		if v.UseRegex != nil {
			b.useRegex = *v.UseRegex
		}
		return b, nil
	case "Split":
		var v struct {
			Pattern  json.RawMessage
			Behavior string
			Invert   bool
		}
		if err := json.Unmarshal(raw, &v); err != nil || v.Pattern == nil {
			return nil, bad(missing(err, "pattern"))
		}
		p, err := parsePattern(v.Pattern)
		if err != nil {
			return nil, bad(err)
		}
		if v.Invert {
			p = invertPattern{p}
		}
		b, err := parseBehavior(v.Behavior)
		if err != nil {
			return nil, bad(err)
		}
		return splitPre{p, b}, nil
	case "Metaspace":
		v := struct {
			Replacement    *string
			PrependScheme  *string `json:"prepend_scheme"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
			Split          *bool
		}{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		repl, scheme, err := metaspaceConfig(v.Replacement, v.PrependScheme, v.AddPrefixSpace)
		if err != nil {
			return nil, bad(err)
		}
		m := metaspacePre{repl: repl, scheme: scheme, splitOn: true}
		if v.Split != nil {
			m.splitOn = *v.Split
		}
		return m, nil
	case "Whitespace":
		return splitPre{invertPattern{regexPattern{whitespaceRegex}}, behaviorRemoved}, nil
	case "WhitespaceSplit":
		return funcSplitPre{unicode.IsSpace, behaviorRemoved}, nil
	case "Digits":
		var v struct {
			IndividualDigits bool `json:"individual_digits"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		if v.IndividualDigits {
			return funcSplitPre{unicode.IsNumber, behaviorIsolated}, nil
		}
		return funcSplitPre{unicode.IsNumber, behaviorContiguous}, nil
	case "Punctuation":
		var v struct{ Behavior string }
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		b := behaviorIsolated
		if v.Behavior != "" {
			if b, err = parseBehavior(v.Behavior); err != nil {
				return nil, bad(err)
			}
		}
		return funcSplitPre{isPunc, b}, nil
	case "BertPreTokenizer":
		return preTokSeq{funcSplitPre{unicode.IsSpace, behaviorRemoved}, funcSplitPre{isPunc, behaviorIsolated}}, nil
	case "CharDelimiterSplit":
		var v struct{ Delimiter string }
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		if utf8.RuneCountInString(v.Delimiter) != 1 {
			return nil, bad(fmt.Errorf("delimiter must be one character, got %q", v.Delimiter))
		}
		d, _ := utf8.DecodeRuneInString(v.Delimiter)
		return funcSplitPre{func(r rune) bool { return r == d }, behaviorRemoved}, nil
	case "Sequence":
		seq, err := parseSequence(fields, "pretokenizers", path, parsePreTokenizer, bad)
		if err != nil {
			return nil, err
		}
		return preTokSeq(seq), nil
	}
	return nil, componentError(path, typ, fmt.Errorf("unknown pre-tokenizer type %q", typ))
}

// metaspaceConfig reads the replacement and prepend scheme shared by the
// Metaspace pre-tokenizer and decoder, accepting the legacy
// add_prefix_space field.
func metaspaceConfig(replacement, scheme *string, addPrefixSpace *bool) (rune, int, error) {
	repl := '▁'
	if replacement != nil {
		if utf8.RuneCountInString(*replacement) != 1 {
			return 0, 0, fmt.Errorf("replacement must be one character, got %q", *replacement)
		}
		repl, _ = utf8.DecodeRuneInString(*replacement)
	}
	sc := prependAlways
	if scheme != nil {
		switch *scheme {
		case "always":
			sc = prependAlways
		case "never":
			sc = prependNever
		case "first":
			sc = prependFirst
		default:
			return 0, 0, fmt.Errorf("unknown prepend_scheme %q", *scheme)
		}
	}
	if addPrefixSpace != nil && !*addPrefixSpace {
		if scheme != nil && sc != prependNever {
			return 0, 0, fmt.Errorf("add_prefix_space does not match declared prepend_scheme")
		}
		sc = prependNever
	}
	return repl, sc, nil
}
