package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decoder rewrites the token strings on the way back to text; the results
// are concatenated.
type decoder interface {
	decodeChain(tokens []string) []string
}

type decoderSeq []decoder

func (d decoderSeq) decodeChain(t []string) []string {
	for _, x := range d {
		t = x.decodeChain(t)
	}
	return t
}

// byteLevelDec maps the GPT-2 printable runes back to bytes. A token with a
// rune outside the map is taken as raw text.
type byteLevelDec struct{}

func (byteLevelDec) decodeChain(tokens []string) []string {
	var buf []byte
	for _, t := range tokens {
		start := len(buf)
		ok := true
		for _, r := range t {
			b, in := runeToByte[r]
			if !in {
				ok = false
				break
			}
			buf = append(buf, b)
		}
		if !ok {
			buf = append(buf[:start], t...)
		}
	}
	return []string{lossyUTF8(buf)}
}

type metaspaceDec struct {
	repl   rune
	scheme int
}

func (m metaspaceDec) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		drop := i == 0 && m.scheme != prependNever
		out[i] = strings.Map(func(r rune) rune {
			if r == m.repl {
				if drop {
					return -1
				}
				return ' '
			}
			return r
		}, t)
	}
	return out
}

type replaceDec struct {
	pat     pattern
	content string
}

func (r replaceDec) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = replaceAll(r.pat, t, r.content)
	}
	return out
}

// byteFallbackDec turns runs of <0xXX> tokens back into text; an invalid
// UTF-8 run becomes one U+FFFD per byte.
type byteFallbackDec struct{}

func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	// Rust's u8::from_str_radix, which accepts a leading '+'.
	h := t[3:5]
	v := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '+' && i == 0:
			continue
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return byte(v), true
}

func (byteFallbackDec) decodeChain(tokens []string) []string {
	var out []string
	var pend []byte
	flush := func() {
		if len(pend) == 0 {
			return
		}
		if utf8.Valid(pend) {
			out = append(out, string(pend))
		} else {
			for range pend {
				out = append(out, "\uFFFD")
			}
		}
		pend = pend[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pend = append(pend, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDec struct{}

func (fuseDec) decodeChain(tokens []string) []string { return []string{strings.Join(tokens, "")} }

type stripDec struct {
	content     rune
	start, stop int
}

func (s stripDec) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rs := []rune(t)
		lo := 0
		for lo < s.start && lo < len(rs) && rs[lo] == s.content {
			lo++
		}
		hi := len(rs)
		for k := 0; k < s.stop && hi > lo && rs[hi-1] == s.content; k++ {
			hi--
		}
		out[i] = string(rs[lo:hi])
	}
	return out
}

type wordPieceDec struct {
	prefix  string
	cleanup bool
}

var cleanupPairs = [][2]string{
	{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
	{" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
}

// cleanupText undoes the spaces tokenization puts around punctuation.
func cleanupText(s string) string {
	for _, p := range cleanupPairs {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}

func (w wordPieceDec) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		if i != 0 {
			if strings.HasPrefix(t, w.prefix) {
				t = strings.Replace(t, w.prefix, "", 1)
			} else {
				t = " " + t
			}
		}
		if w.cleanup {
			t = cleanupText(t)
		}
		out[i] = t
	}
	return out
}

// bpeDec replaces the end-of-word suffix by a space (nothing at the end).
type bpeDec struct{ suffix string }

func (b bpeDec) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rep := " "
		if i == len(tokens)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, b.suffix, rep)
	}
	return out
}

type ctcDec struct {
	pad, delim string
	cleanup    bool
}

func (c ctcDec) decodeChain(tokens []string) []string {
	var out []string
	for i, t := range tokens {
		if i > 0 && t == tokens[i-1] {
			continue
		}
		t = strings.ReplaceAll(t, c.pad, "")
		if c.cleanup {
			t = strings.ReplaceAll(cleanupText(t), c.delim, " ")
		}
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

func parseDecoder(raw json.RawMessage, path string) (decoder, error) {
	typ, fields, err := componentType(raw, path)
	if err != nil || typ == "" {
		return nil, err
	}
	bad := func(err error) error { return componentError(path, typ, err) }
	switch typ {
	case "ByteLevel":
		return byteLevelDec{}, nil
	case "Metaspace":
		v := struct {
			Replacement    *string
			PrependScheme  *string `json:"prepend_scheme"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
		}{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		repl, scheme, err := metaspaceConfig(v.Replacement, v.PrependScheme, v.AddPrefixSpace)
		if err != nil {
			return nil, bad(err)
		}
		return metaspaceDec{repl, scheme}, nil
	case "Replace":
		p, content, err := parseReplace(raw)
		if err != nil {
			return nil, bad(err)
		}
		return replaceDec{p, content}, nil
	case "ByteFallback":
		return byteFallbackDec{}, nil
	case "Fuse":
		return fuseDec{}, nil
	case "Strip":
		var v struct {
			Content     string
			Start, Stop int
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		if utf8.RuneCountInString(v.Content) != 1 {
			return nil, bad(fmt.Errorf("content must be one character, got %q", v.Content))
		}
		c, _ := utf8.DecodeRuneInString(v.Content)
		return stripDec{c, v.Start, v.Stop}, nil
	case "WordPiece":
		v := struct {
			Prefix  *string
			Cleanup *bool
		}{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		d := wordPieceDec{"##", true}
		if v.Prefix != nil {
			d.prefix = *v.Prefix
		}
		if v.Cleanup != nil {
			d.cleanup = *v.Cleanup
		}
		return d, nil
	case "BPEDecoder":
		v := struct{ Suffix *string }{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		d := bpeDec{"</w>"}
		if v.Suffix != nil {
			d.suffix = *v.Suffix
		}
		return d, nil
	case "CTC":
		v := struct {
			PadToken           *string `json:"pad_token"`
			WordDelimiterToken *string `json:"word_delimiter_token"`
			Cleanup            *bool
		}{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		d := ctcDec{"<pad>", "|", true}
		if v.PadToken != nil {
			d.pad = *v.PadToken
		}
		if v.WordDelimiterToken != nil {
			d.delim = *v.WordDelimiterToken
		}
		if v.Cleanup != nil {
			d.cleanup = *v.Cleanup
		}
		return d, nil
	case "Sequence":
		seq, err := parseSequence(fields, "decoders", path, parseDecoder, bad)
		if err != nil {
			return nil, err
		}
		return decoderSeq(seq), nil
	}
	return nil, componentError(path, typ, fmt.Errorf("unknown decoder type %q", typ))
}
