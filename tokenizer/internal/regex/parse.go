// Package regex is a small backtracking regular-expression engine with the
// Oniguruma features that Hugging Face tokenizer.json files use and Go's
// regexp package lacks: look-ahead and look-behind assertions, atomic groups,
// possessive and lazy quantifiers, inline flags and Unicode property classes.
//
// Matching follows Oniguruma's leftmost-first (Perl-like) semantics, so the
// splits match the Python tokenizers library. To rule out catastrophic
// backtracking every (instruction, position) state is explored at most once
// per search (the bit-state technique), so a whole FindAll scan costs
// O(len(program) × len(text)) steps for patterns without look-around, and
// look-around results are memoised per position.
//
// Not supported (Compile returns an error naming the construct):
// back-references, named back-references, subexpression calls, conditionals,
// \G, \K, \X, absent operators and unbounded look-behind.
package regex

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a syntax or feature error, with the byte offset in the pattern.
type Error struct {
	Pattern string
	Offset  int
	Msg     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("regex %q: at offset %d: %s", e.Pattern, e.Offset, e.Msg)
}

type nodeKind uint8

const (
	nEmpty nodeKind = iota
	nRune           // one rune (fold: case-insensitive)
	nClass          // character class
	nAny            // '.': any rune but '\n' (dotall: any rune)
	nConcat
	nAlt
	nRepeat // subs[0] repeated min..max (max < 0: unbounded)
	nLook   // look-around assertion on subs[0]
	nAtomic // atomic group (?>...)
	nAssert // zero-width assertion
)

type assertKind uint8

const (
	aLineStart assertKind = iota // ^
	aLineEnd                     // $
	aTextStart                   // \A
	aTextEnd                     // \z
	aTextEndNL                   // \Z
	aWordB                       // \b
	aNotWordB                    // \B
)

type node struct {
	kind     nodeKind
	r        rune
	fold     bool
	dotall   bool
	cls      *charClass
	subs     []*node
	min, max int
	greedy   bool
	behind   bool // look-behind (else look-ahead)
	neg      bool // negative look-around
	assert   assertKind
}

type flags struct {
	fold, dotall, extended bool
}

type parser struct {
	src   string
	pos   int // byte offset into src
	flags flags
	depth int
}

const maxDepth = 200
const maxRepeat = 1000

func (p *parser) errf(format string, args ...any) error {
	return &Error{Pattern: p.src, Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() rune {
	if p.eof() {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return r
}

func (p *parser) next() rune {
	r, sz := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += sz
	return r
}

func (p *parser) lookingAt(s string) bool { return strings.HasPrefix(p.src[p.pos:], s) }

func parse(src string) (*node, error) {
	if !utf8.ValidString(src) {
		return nil, &Error{Pattern: src, Msg: "pattern is not valid UTF-8"}
	}
	p := &parser{src: src}
	n, err := p.parseAlt()
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.errf("unmatched ')'")
	}
	return n, nil
}

// skipExtended skips white space and comments in (?x) mode.
func (p *parser) skipExtended() {
	for p.flags.extended && !p.eof() {
		r := p.peek()
		if unicode.IsSpace(r) {
			p.next()
			continue
		}
		if r == '#' {
			for !p.eof() && p.peek() != '\n' {
				p.next()
			}
			continue
		}
		return
	}
}

// parseAlt parses alternatives up to a ')' or the end of the pattern. Inline
// flags set inside stay in force until the end of the enclosing group.
func (p *parser) parseAlt() (*node, error) {
	p.depth++
	if p.depth > maxDepth {
		return nil, p.errf("pattern nests too deeply")
	}
	defer func() { p.depth-- }()
	var alts []*node
	var cur []*node
	for {
		p.skipExtended()
		if p.eof() || p.peek() == ')' {
			break
		}
		if p.peek() == '|' {
			p.next()
			alts = append(alts, concat(cur))
			cur = nil
			continue
		}
		atom, err := p.parseAtom()
		if err != nil {
			return nil, err
		}
		if atom == nil { // a flag-only group such as (?i)
			continue
		}
		atom, err = p.parseQuantifiers(atom)
		if err != nil {
			return nil, err
		}
		cur = append(cur, atom)
	}
	alts = append(alts, concat(cur))
	if len(alts) == 1 {
		return alts[0], nil
	}
	return &node{kind: nAlt, subs: alts}, nil
}

func concat(ns []*node) *node {
	switch len(ns) {
	case 0:
		return &node{kind: nEmpty}
	case 1:
		return ns[0]
	}
	return &node{kind: nConcat, subs: ns}
}

func (p *parser) parseQuantifiers(atom *node) (*node, error) {
	for {
		p.skipExtended()
		if p.eof() {
			return atom, nil
		}
		start := p.pos
		var min, max int
		switch p.peek() {
		case '*':
			p.next()
			min, max = 0, -1
		case '+':
			p.next()
			min, max = 1, -1
		case '?':
			p.next()
			min, max = 0, 1
		case '{':
			lo, hi, ok := p.parseInterval()
			if !ok {
				return atom, nil // a literal '{'
			}
			min, max = lo, hi
		default:
			return atom, nil
		}
		if atom.kind == nAssert || atom.kind == nLook {
			p.pos = start
			return nil, p.errf("target of repeat operator is invalid")
		}
		if min > maxRepeat || max > maxRepeat {
			p.pos = start
			return nil, p.errf("repeat count larger than %d", maxRepeat)
		}
		rep := &node{kind: nRepeat, subs: []*node{atom}, min: min, max: max, greedy: true}
		interval := p.src[start] == '{'
		if !p.eof() {
			switch p.peek() {
			case '?':
				p.next()
				rep.greedy = false
			case '+':
				if !interval { // possessive: *+ ++ ?+
					p.next()
					rep = &node{kind: nAtomic, subs: []*node{rep}}
				}
			}
		}
		atom = rep
	}
}

// parseInterval parses {n}, {n,}, {n,m} or {,m}. It leaves the position
// untouched and returns ok=false when the text is not an interval (then '{'
// is a literal, as in Oniguruma).
func (p *parser) parseInterval() (lo, hi int, ok bool) {
	s := p.src[p.pos:]
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, 0, false
	}
	body := s[1:end]
	parts := strings.Split(body, ",")
	num := func(t string) (int, bool) {
		if t == "" || len(t) > 6 {
			return 0, false
		}
		for _, c := range t {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		v, err := strconv.Atoi(t)
		return v, err == nil
	}
	switch len(parts) {
	case 1:
		v, good := num(parts[0])
		if !good {
			return 0, 0, false
		}
		lo, hi = v, v
	case 2:
		if parts[0] == "" {
			lo = 0
		} else {
			v, good := num(parts[0])
			if !good {
				return 0, 0, false
			}
			lo = v
		}
		if parts[1] == "" {
			if parts[0] == "" {
				return 0, 0, false
			}
			hi = -1
		} else {
			v, good := num(parts[1])
			if !good {
				return 0, 0, false
			}
			hi = v
		}
	default:
		return 0, 0, false
	}
	if hi >= 0 && hi < lo {
		return 0, 0, false
	}
	p.pos += end + 1
	return lo, hi, true
}

func (p *parser) parseAtom() (*node, error) {
	start := p.pos
	r := p.next()
	switch r {
	case '(':
		return p.parseGroup(start)
	case '[':
		cls, err := p.parseClass()
		if err != nil {
			return nil, err
		}
		cls.fold = p.flags.fold
		return &node{kind: nClass, cls: cls}, nil
	case '.':
		return &node{kind: nAny, dotall: p.flags.dotall}, nil
	case '^':
		return &node{kind: nAssert, assert: aLineStart}, nil
	case '$':
		return &node{kind: nAssert, assert: aLineEnd}, nil
	case '*', '+', '?':
		p.pos = start
		return nil, p.errf("target of repeat operator is not specified")
	case '\\':
		return p.parseEscape()
	}
	return &node{kind: nRune, r: r, fold: p.flags.fold && hasFold(r)}, nil
}

func hasFold(r rune) bool { return unicode.SimpleFold(r) != r }

func (p *parser) parseGroup(start int) (*node, error) {
	// Flags changed inside a group end with it; a flag-only group such as
	// (?i) changes the flags of the enclosing group instead.
	saved := p.flags
	if !p.lookingAt("?") {
		return p.groupBody(start, saved, func(n *node) *node { return n })
	}
	p.next() // '?'
	switch {
	case p.lookingAt(":"):
		p.next()
		return p.groupBody(start, saved, func(n *node) *node { return n })
	case p.lookingAt("="), p.lookingAt("!"):
		neg := p.next() == '!'
		return p.groupBody(start, saved, func(n *node) *node {
			return &node{kind: nLook, subs: []*node{n}, neg: neg}
		})
	case p.lookingAt("<="), p.lookingAt("<!"):
		p.next()
		neg := p.next() == '!'
		return p.groupBody(start, saved, func(n *node) *node {
			return &node{kind: nLook, subs: []*node{n}, neg: neg, behind: true}
		})
	case p.lookingAt(">"):
		p.next()
		return p.groupBody(start, saved, func(n *node) *node {
			return &node{kind: nAtomic, subs: []*node{n}}
		})
	case p.lookingAt("#"):
		for !p.eof() && p.peek() != ')' {
			p.next()
		}
		if p.eof() {
			return nil, p.errf("end pattern in group")
		}
		p.next()
		return nil, nil
	case p.lookingAt("<"), p.lookingAt("P<"), p.lookingAt("'"):
		// Named capturing group: captures are not reported, so it
		// is just a group.
		if p.lookingAt("P") {
			p.next()
		}
		closer := byte('>')
		if p.next() == '\'' {
			closer = '\''
		}
		end := strings.IndexByte(p.src[p.pos:], closer)
		if end <= 0 {
			return nil, p.errf("invalid group name")
		}
		p.pos += end + 1
		return p.groupBody(start, saved, func(n *node) *node { return n })
	case p.lookingAt("~"):
		return nil, p.errf("absent operator (?~...) is not supported")
	case p.lookingAt("("):
		return nil, p.errf("conditional groups are not supported")
	}
	// Inline flags: (?imx-imx) or (?imx-imx:...)
	on := true
	f := p.flags
	for {
		if p.eof() {
			return nil, p.errf("end pattern in group")
		}
		c := p.next()
		switch c {
		case 'i':
			f.fold = on
		case 'm', 's':
			f.dotall = on
		case 'x':
			f.extended = on
		case '-':
			if !on {
				return nil, p.errf("invalid group option")
			}
			on = false
		case ')':
			p.flags = f // lasts to the end of the enclosing group
			return nil, nil
		case ':':
			p.flags = f
			n, err := p.parseAlt()
			if err != nil {
				return nil, err
			}
			if p.eof() {
				p.pos = start
				return nil, p.errf("missing ')'")
			}
			p.next()
			p.flags = saved
			return n, nil
		default:
			p.pos -= utf8.RuneLen(c)
			return nil, p.errf("undefined group option %q", c)
		}
	}
}

func (p *parser) groupBody(start int, saved flags, wrap func(*node) *node) (*node, error) {
	n, err := p.parseAlt()
	if err != nil {
		return nil, err
	}
	if p.eof() {
		p.pos = start
		return nil, p.errf("missing ')'")
	}
	p.next()
	p.flags = saved
	return wrap(n), nil
}

// parseEscape parses the escape after a backslash outside a class.
func (p *parser) parseEscape() (*node, error) {
	if p.eof() {
		return nil, p.errf("end pattern at escape")
	}
	start := p.pos - 1
	r := p.peek()
	switch r {
	case 'A':
		p.next()
		return &node{kind: nAssert, assert: aTextStart}, nil
	case 'z':
		p.next()
		return &node{kind: nAssert, assert: aTextEnd}, nil
	case 'Z':
		p.next()
		return &node{kind: nAssert, assert: aTextEndNL}, nil
	case 'b':
		p.next()
		return &node{kind: nAssert, assert: aWordB}, nil
	case 'B':
		p.next()
		return &node{kind: nAssert, assert: aNotWordB}, nil
	case 'R':
		p.next()
		// (?>\r\n|[\n\v\f\r\x85\u2028\u2029])
		crlf := &node{kind: nConcat, subs: []*node{{kind: nRune, r: '\r'}, {kind: nRune, r: '\n'}}}
		cls := &charClass{}
		for _, c := range []rune{'\n', '\v', '\f', '\r', 0x85, 0x2028, 0x2029} {
			cls.addRange(c, c)
		}
		alt := &node{kind: nAlt, subs: []*node{crlf, {kind: nClass, cls: cls}}}
		return &node{kind: nAtomic, subs: []*node{alt}}, nil
	case 'G', 'K', 'X', 'g', 'k', 'y', 'Y', 'O':
		p.pos = start
		return nil, p.errf("escape \\%c is not supported", r)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		p.pos = start
		return nil, p.errf("back-references are not supported")
	}
	cls, single, err := p.parseClassEscape(false)
	if err != nil {
		return nil, err
	}
	if cls != nil {
		cls.fold = p.flags.fold
		return &node{kind: nClass, cls: cls}, nil
	}
	return &node{kind: nRune, r: single, fold: p.flags.fold && hasFold(single)}, nil
}
