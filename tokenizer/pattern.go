package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lmxlab/lmxlab/tokenizer/internal/regex"
)

// span is a byte range of a string and whether a pattern matched it.
type span struct {
	start, end int
	match      bool
}

// pattern finds matches in a string; the spans it returns cover the whole
// string in order, matches and the gaps between them (as find_matches does
// in the Rust library).
type pattern interface {
	spans(s string) []span
}

// stringPattern matches a literal string (non-overlapping, leftmost).
type stringPattern string

func (p stringPattern) spans(s string) []span {
	if s == "" {
		return []span{{0, 0, false}}
	}
	if p == "" {
		// The Rust library escapes the string into a regex; the empty
		// regex matches at every char boundary.
		return emptyMatches(s)
	}
	var out []span
	prev := 0
	for i := 0; ; {
		j := strings.Index(s[i:], string(p))
		if j < 0 {
			break
		}
		st := i + j
		if st > prev {
			out = append(out, span{prev, st, false})
		}
		out = append(out, span{st, st + len(p), true})
		prev = st + len(p)
		i = prev
	}
	if prev < len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return out
}

func emptyMatches(s string) []span {
	var out []span
	prev := 0
	for i := range s {
		if i > prev {
			out = append(out, span{prev, i, false})
		}
		out = append(out, span{i, i, true})
		prev = i
	}
	if prev < len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return append(out, span{len(s), len(s), true})
}

// regexPattern matches an Oniguruma regex.
type regexPattern struct{ re *regex.Regexp }

func (p regexPattern) spans(s string) []span {
	if s == "" {
		return []span{{0, 0, false}}
	}
	var out []span
	prev := 0
	p.re.FindAll(s, func(a, b int) bool {
		if a != prev {
			out = append(out, span{prev, a, false})
		}
		out = append(out, span{a, b, true})
		prev = b
		return true
	})
	if prev != len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return out
}

// funcPattern matches each rune for which f is true, one rune per match.
type funcPattern func(rune) bool

func (f funcPattern) spans(s string) []span {
	if s == "" {
		return []span{{0, 0, false}}
	}
	var out []span
	last := 0
	for i, r := range s {
		if f(r) {
			if last < i {
				out = append(out, span{last, i, false})
			}
			e := i + utf8.RuneLen(r)
			if r == utf8.RuneError {
				_, e0 := utf8.DecodeRuneInString(s[i:])
				e = i + e0
			}
			out = append(out, span{i, e, true})
			last = e
		}
	}
	if last < len(s) {
		out = append(out, span{last, len(s), false})
	}
	return out
}

// invertPattern swaps matches and gaps.
type invertPattern struct{ p pattern }

func (p invertPattern) spans(s string) []span {
	out := p.p.spans(s)
	for i := range out {
		out[i].match = !out[i].match
	}
	return out
}

// parsePattern reads {"String": "..."} or {"Regex": "..."}.
func parsePattern(raw json.RawMessage) (pattern, error) {
	var p struct {
		String *string
		Regex  *string
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	switch {
	case p.String != nil:
		return stringPattern(*p.String), nil
	case p.Regex != nil:
		re, err := regex.Compile(*p.Regex)
		if err != nil {
			return nil, err
		}
		return regexPattern{re}, nil
	}
	return nil, fmt.Errorf("pattern must have a String or Regex field")
}

// replaceAll replaces every match of p in s by content.
func replaceAll(p pattern, s, content string) string {
	if sp, ok := p.(stringPattern); ok && sp != "" {
		return strings.ReplaceAll(s, string(sp), content)
	}
	var sb strings.Builder
	for _, sp := range p.spans(s) {
		if sp.match {
			sb.WriteString(content)
		} else {
			sb.WriteString(s[sp.start:sp.end])
		}
	}
	return sb.String()
}

// splitBehavior is what a split does with the matched delimiters.
type splitBehavior int

const (
	behaviorRemoved splitBehavior = iota
	behaviorIsolated
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch strings.ToLower(s) {
	case "removed":
		return behaviorRemoved, nil
	case "isolated":
		return behaviorIsolated, nil
	case "merged_with_previous", "mergedwithprevious":
		return behaviorMergedWithPrevious, nil
	case "merged_with_next", "mergedwithnext":
		return behaviorMergedWithNext, nil
	case "contiguous":
		return behaviorContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

// splitSpans turns pattern spans into the ranges to keep, by behavior. Empty
// ranges are dropped by the caller.
func splitSpans(spans []span, b splitBehavior) []span {
	switch b {
	case behaviorRemoved:
		out := spans[:0]
		for _, sp := range spans {
			if !sp.match {
				out = append(out, sp)
			}
		}
		return out
	case behaviorIsolated:
		return spans
	case behaviorContiguous:
		var out []span
		prev := false
		for _, sp := range spans {
			if sp.match == prev && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prev = sp.match
		}
		return out
	case behaviorMergedWithPrevious:
		var out []span
		prev := false
		for _, sp := range spans {
			if sp.match && !prev && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prev = sp.match
		}
		return out
	default: // merged with next
		var out []span
		prev := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prev && len(out) > 0 {
				out[len(out)-1].start = sp.start
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prev = sp.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
}
