package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites text before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

type normalizerSeq []normalizer

func (n normalizerSeq) normalize(s string) string {
	for _, x := range n {
		s = x.normalize(s)
	}
	return s
}

type unicodeNorm struct{ form norm.Form }

func (n unicodeNorm) normalize(s string) string { return n.form.String(s) }

type lowercase struct{}

func (lowercase) normalize(s string) string {
	// Rust's char::to_lowercase, one char at a time (no final-sigma rule):
	// the simple mapping except U+0130, which lowercases to "i̇".
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		if r == 0x130 {
			sb.WriteString("i\u0307")
			continue
		}
		sb.WriteRune(unicode.ToLower(r))
	}
	return sb.String()
}

type prepend string

func (p prepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return string(p) + s
}

type replaceNorm struct {
	pat     pattern
	content string
}

func (r replaceNorm) normalize(s string) string { return replaceAll(r.pat, s, r.content) }

type strip struct{ left, right bool }

func (st strip) normalize(s string) string {
	if st.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if st.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s
}

type stripAccents struct{}

func (stripAccents) normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsMark(r) {
			return -1
		}
		return r
	}, s)
}

// nmt is the NMT normalizer: drops some control chars and maps other
// separators to a space.
type nmt struct{}

func (nmt) normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x01 && r <= 0x08, r == 0x0B, r >= 0x0E && r <= 0x1F, r == 0x7F, r == 0x8F, r == 0x9F:
			return -1
		case r == 0x09, r == 0x0A, r == 0x0C, r == 0x0D, r == 0x1680, r >= 0x200B && r <= 0x200F,
			r == 0x2028, r == 0x2029, r == 0x2581, r == 0xFEFF, r == 0xFFFD:
			return ' '
		}
		return r
	}, s)
}

// byteLevelNorm maps each byte to its GPT-2 printable rune.
type byteLevelNorm struct{}

func (byteLevelNorm) normalize(s string) string { return byteLevelEncode(s) }

// bertNormalizer is BERT's text cleaning, CJK spacing, accent stripping and
// lowercasing.
type bertNormalizer struct {
	cleanText, chineseChars, stripAccents, lowercase bool
}

func isChineseChar(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F || r >= 0x2B740 && r <= 0x2B81F || r >= 0x2B920 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}

func (b bertNormalizer) normalize(s string) string {
	if b.cleanText {
		s = strings.Map(func(r rune) rune {
			if r == 0 || r == 0xFFFD {
				return -1
			}
			if r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r) {
				return ' '
			}
			if unicode.Is(unicode.C, r) {
				return -1
			}
			return r
		}, s)
	}
	if b.chineseChars {
		var sb strings.Builder
		for _, r := range s {
			if isChineseChar(r) {
				sb.WriteByte(' ')
				sb.WriteRune(r)
				sb.WriteByte(' ')
			} else {
				sb.WriteRune(r)
			}
		}
		s = sb.String()
	}
	if b.stripAccents {
		s = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return r
		}, norm.NFD.String(s))
	}
	if b.lowercase {
		s = lowercase{}.normalize(s)
	}
	return s
}

func parseNormalizer(raw json.RawMessage, path string) (normalizer, error) {
	typ, fields, err := componentType(raw, path)
	if err != nil || typ == "" {
		return nil, err
	}
	bad := func(err error) error { return componentError(path, typ, err) }
	switch typ {
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
	case "Lowercase":
		return lowercase{}, nil
	case "StripAccents":
		return stripAccents{}, nil
	case "Nmt":
		return nmt{}, nil
	case "ByteLevel":
		return byteLevelNorm{}, nil
	case "Prepend":
		var v struct{ Prepend *string }
		if err := json.Unmarshal(raw, &v); err != nil || v.Prepend == nil {
			return nil, bad(missing(err, "prepend"))
		}
		return prepend(*v.Prepend), nil
	case "Replace":
		p, content, err := parseReplace(raw)
		if err != nil {
			return nil, bad(err)
		}
		return replaceNorm{p, content}, nil
	case "Strip":
		v := struct {
			StripLeft  *bool `json:"strip_left"`
			StripRight *bool `json:"strip_right"`
		}{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		st := strip{true, true}
		if v.StripLeft != nil {
			st.left = *v.StripLeft
		}
		if v.StripRight != nil {
			st.right = *v.StripRight
		}
		return st, nil
	case "BertNormalizer":
		v := struct {
			CleanText          *bool `json:"clean_text"`
			HandleChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents       *bool `json:"strip_accents"`
			Lowercase          *bool `json:"lowercase"`
		}{}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		b := bertNormalizer{true, true, false, true}
		if v.CleanText != nil {
			b.cleanText = *v.CleanText
		}
		if v.HandleChineseChars != nil {
			b.chineseChars = *v.HandleChineseChars
		}
		if v.Lowercase != nil {
			b.lowercase = *v.Lowercase
		}
		b.stripAccents = b.lowercase
		if v.StripAccents != nil {
			b.stripAccents = *v.StripAccents
		}
		return b, nil
	case "Sequence":
		seq, err := parseSequence(fields, "normalizers", path, parseNormalizer, bad)
		if err != nil {
			return nil, err
		}
		return normalizerSeq(seq), nil
	case "Precompiled":
		var v struct {
			Charsmap *string `json:"precompiled_charsmap"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		if v.Charsmap == nil || *v.Charsmap == "" {
			return normalizerSeq(nil), nil // no rules
		}
		p, err := parsePrecompiled(*v.Charsmap)
		if err != nil {
			return nil, bad(err)
		}
		return p, nil
	}
	return nil, componentError(path, typ, fmt.Errorf("unknown normalizer type %q", typ))
}

// parseReplace reads the pattern and content of a Replace normalizer or decoder (the two share
// their JSON form).
func parseReplace(raw json.RawMessage) (pattern, string, error) {
	var v struct {
		Pattern json.RawMessage
		Content *string
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.Pattern == nil || v.Content == nil {
		return nil, "", missing(err, "pattern and content")
	}
	p, err := parsePattern(v.Pattern)
	if err != nil {
		return nil, "", err
	}
	return p, *v.Content, nil
}
