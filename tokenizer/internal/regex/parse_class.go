package regex

import (
	"strconv"
	"strings"
	"unicode"
)

// parseClassEscape parses an escape (after the backslash) that stands for
// either one rune or a class. It is shared by atoms and bracket classes.
func (p *parser) parseClassEscape(inClass bool) (*charClass, rune, error) {
	start := p.pos - 1
	if p.eof() {
		return nil, 0, p.errf("end pattern at escape")
	}
	r := p.next()
	switch r {
	case 'd', 'D', 'w', 'W', 's', 'S', 'h', 'H':
		cls := &charClass{}
		cls.addPred(escapePred(unicode.ToLower(r)), unicode.IsUpper(r))
		return cls, 0, nil
	case 'p', 'P':
		neg := r == 'P'
		if !p.lookingAt("{") {
			p.pos = start
			return nil, 0, p.errf("invalid character property name")
		}
		end := strings.IndexByte(p.src[p.pos:], '}')
		if end < 0 {
			p.pos = start
			return nil, 0, p.errf("invalid character property name")
		}
		name := p.src[p.pos+1 : p.pos+end]
		if strings.HasPrefix(name, "^") {
			neg = !neg
			name = name[1:]
		}
		pred, ok := lookupProperty(name)
		if !ok {
			p.pos = start
			return nil, 0, p.errf("invalid character property name {%s}", name)
		}
		p.pos += end + 1
		cls := &charClass{}
		cls.addPred(pred, neg)
		return cls, 0, nil
	case 't':
		return nil, '\t', nil
	case 'n':
		return nil, '\n', nil
	case 'r':
		return nil, '\r', nil
	case 'f':
		return nil, '\f', nil
	case 'v':
		return nil, '\v', nil
	case 'a':
		return nil, '\a', nil
	case 'e':
		return nil, 0x1b, nil
	case 'b':
		if inClass {
			return nil, '\b', nil
		}
	case 'x':
		if p.lookingAt("{") {
			end := strings.IndexByte(p.src[p.pos:], '}')
			if end < 0 {
				return nil, 0, p.errf("invalid code point value")
			}
			v, err := strconv.ParseUint(p.src[p.pos+1:p.pos+end], 16, 32)
			if err != nil || v > unicode.MaxRune {
				return nil, 0, p.errf("invalid code point value")
			}
			p.pos += end + 1
			return nil, rune(v), nil
		}
		return nil, p.hexDigits(2), nil
	case 'u':
		n := 0
		for n < 4 && p.pos+n < len(p.src) && isHex(p.src[p.pos+n]) {
			n++
		}
		if n != 4 {
			p.pos = start
			return nil, 0, p.errf("invalid Unicode escape")
		}
		return nil, p.hexDigits(4), nil
	case '0':
		v := 0
		for i := 0; i < 2 && !p.eof() && p.peek() >= '0' && p.peek() <= '7'; i++ {
			v = v*8 + int(p.next()-'0')
		}
		return nil, rune(v), nil
	case 'c':
		if p.eof() {
			return nil, 0, p.errf("end pattern at control")
		}
		return nil, p.next() & 0x1f, nil
	}
	if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
		p.pos = start
		return nil, 0, p.errf("undefined escape \\%c", r)
	}
	return nil, r, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// hexDigits reads up to n hex digits (at least one is not required: Onig
// reads "\x" alone as NUL).
func (p *parser) hexDigits(n int) rune {
	v := rune(0)
	for i := 0; i < n && p.pos < len(p.src) && isHex(p.src[p.pos]); i++ {
		c := p.src[p.pos]
		p.pos++
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + rune(c-'a'+10)
		default:
			v = v*16 + rune(c-'A'+10)
		}
	}
	return v
}

// parseClass parses a bracket class; the '[' is already consumed.
func (p *parser) parseClass() (*charClass, error) {
	start := p.pos - 1
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf("pattern nests too deeply")
	}
	cls := &charClass{}
	if p.lookingAt("^") {
		p.next()
		cls.negate = true
	}
	cur := &charClass{} // the union being built (left of any &&)
	var operands []*charClass
	first := true
	for {
		if p.eof() {
			p.pos = start
			return nil, p.errf("premature end of char-class")
		}
		if p.lookingAt("]") && !first {
			p.next()
			break
		}
		if p.lookingAt("&&") {
			p.pos += 2
			operands = append(operands, cur)
			cur = &charClass{}
			first = false
			continue
		}
		if p.lookingAt("[:") {
			if sub, ok := p.parsePosix(); ok {
				cur.subs = append(cur.subs, sub)
				first = false
				continue
			}
		}
		if p.lookingAt("[") {
			p.next()
			sub, err := p.parseClass()
			if err != nil {
				return nil, err
			}
			cur.subs = append(cur.subs, sub)
			first = false
			continue
		}
		lo, sub, err := p.classAtom()
		if err != nil {
			return nil, err
		}
		first = false
		if sub != nil {
			cur.subs = append(cur.subs, sub)
			continue
		}
		// A range?
		if p.lookingAt("-") && !p.lookingAt("-]") && p.pos+1 < len(p.src) {
			save := p.pos
			p.next()
			if p.lookingAt("[") || p.lookingAt("&&") {
				p.pos = save
				cur.addRange(lo, lo)
				continue
			}
			hi, sub2, err := p.classAtom()
			if err != nil {
				return nil, err
			}
			if sub2 != nil {
				// [a-\d]: '-' is a literal
				cur.addRange(lo, lo)
				cur.addRange('-', '-')
				cur.subs = append(cur.subs, sub2)
				continue
			}
			if hi < lo {
				p.pos = save
				return nil, p.errf("empty range in char class")
			}
			cur.addRange(lo, hi)
			continue
		}
		cur.addRange(lo, lo)
	}
	if len(operands) > 0 {
		operands = append(operands, cur)
		cls.inter = operands
	} else {
		cls.ranges = cur.ranges
		cls.preds = cur.preds
		cls.subs = cur.subs
	}
	return cls, nil
}

// classAtom reads one rune or escape inside a bracket class.
func (p *parser) classAtom() (rune, *charClass, error) {
	r := p.next()
	if r != '\\' {
		return r, nil, nil
	}
	cls, single, err := p.parseClassEscape(true)
	if err != nil {
		return 0, nil, err
	}
	return single, cls, nil
}

func (p *parser) parsePosix() (*charClass, bool) {
	s := p.src[p.pos:]
	end := strings.Index(s, ":]")
	if end < 0 {
		return nil, false
	}
	name := s[2:end]
	neg := false
	if strings.HasPrefix(name, "^") {
		neg = true
		name = name[1:]
	}
	pred, ok := posixClass(name)
	if !ok {
		return nil, false
	}
	p.pos += end + 2
	cls := &charClass{}
	cls.addPred(pred, neg)
	return cls, true
}
