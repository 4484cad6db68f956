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

// pattern finds matches in a string. each reports spans that cover the
// whole string in order, matches and the gaps between them (as
// find_matches does in the Rust library); an empty string gives one empty
// gap.
type pattern interface {
	each(s string, f func(span))
}

// spansOf collects the spans of p in s.
func spansOf(p pattern, s string) []span {
	var out []span
	p.each(s, func(sp span) { out = append(out, sp) })
	return out
}

// stringPattern matches a literal string (non-overlapping, leftmost).
type stringPattern string

func (p stringPattern) each(s string, f func(span)) {
	if s == "" {
		f(span{0, 0, false})
		return
	}
	if p == "" {
		// The Rust library escapes the string into a regex; the empty
		// regex matches at every char boundary.
		emptyMatches(s, f)
		return
	}
	prev := 0
	for i := 0; ; {
		j := strings.Index(s[i:], string(p))
		if j < 0 {
			break
		}
		st := i + j
		if st > prev {
			f(span{prev, st, false})
		}
		f(span{st, st + len(p), true})
		prev = st + len(p)
		i = prev
	}
	if prev < len(s) {
		f(span{prev, len(s), false})
	}
}

func emptyMatches(s string, f func(span)) {
	prev := 0
	for i := range s {
		if i > prev {
			f(span{prev, i, false})
		}
		f(span{i, i, true})
		prev = i
	}
	if prev < len(s) {
		f(span{prev, len(s), false})
	}
	f(span{len(s), len(s), true})
}

// regexPattern matches an Oniguruma regex.
type regexPattern struct{ re *regex.Regexp }

func (p regexPattern) each(s string, f func(span)) {
	if s == "" {
		f(span{0, 0, false})
		return
	}
	prev := 0
	p.re.FindAll(s, func(a, b int) bool {
		if a != prev {
			f(span{prev, a, false})
		}
		f(span{a, b, true})
		prev = b
		return true
	})
	if prev != len(s) {
		f(span{prev, len(s), false})
	}
}

// funcPattern matches each rune for which fn is true, one rune per match.
type funcPattern func(rune) bool

func (fn funcPattern) each(s string, f func(span)) {
	if s == "" {
		f(span{0, 0, false})
		return
	}
	last := 0
	for i, r := range s {
		if fn(r) {
			if last < i {
				f(span{last, i, false})
			}
			_, sz := utf8.DecodeRuneInString(s[i:])
			f(span{i, i + sz, true})
			last = i + sz
		}
	}
	if last < len(s) {
		f(span{last, len(s), false})
	}
}

// invertPattern swaps matches and gaps.
type invertPattern struct{ p pattern }

func (p invertPattern) each(s string, f func(span)) {
	p.p.each(s, func(sp span) {
		sp.match = !sp.match
		f(sp)
	})
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
	p.each(s, func(sp span) {
		if sp.match {
			sb.WriteString(content)
		} else {
			sb.WriteString(s[sp.start:sp.end])
		}
	})
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

// splitter applies a split behavior to a stream of spans, reporting the
// ranges to keep (possibly empty) to out. Call flush after the last span.
type splitter struct {
	b       splitBehavior
	out     func(span)
	pending span
	has     bool // pending is set
	prev    bool // the previous span was a match
}

func (sp *splitter) add(x span) {
	switch sp.b {
	case behaviorRemoved:
		if !x.match {
			sp.out(x)
		}
		return
	case behaviorIsolated:
		sp.out(span{x.start, x.end, false})
		return
	case behaviorContiguous:
		if x.match == sp.prev && sp.has {
			sp.pending.end = x.end
		} else {
			sp.flush()
			sp.pending, sp.has = span{x.start, x.end, false}, true
		}
	case behaviorMergedWithPrevious:
		if x.match && !sp.prev && sp.has {
			sp.pending.end = x.end
		} else {
			sp.flush()
			sp.pending, sp.has = span{x.start, x.end, false}, true
		}
	default: // merged with next: a match joins the gap after it
		if sp.has && sp.pending.match && !x.match {
			sp.out(span{sp.pending.start, x.end, false})
			sp.has = false
		} else {
			sp.flush()
			if x.match {
				sp.pending, sp.has = x, true
			} else {
				sp.out(x)
			}
		}
	}
	sp.prev = x.match
}

func (sp *splitter) flush() {
	if sp.has {
		sp.out(span{sp.pending.start, sp.pending.end, false})
		sp.has = false
	}
}

// splitEach splits s by p with behavior b, reporting the kept ranges.
func splitEach(p pattern, s string, b splitBehavior, out func(span)) {
	sp := splitter{b: b, out: out}
	p.each(s, sp.add)
	sp.flush()
}
