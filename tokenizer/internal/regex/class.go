package regex

import (
	"strings"
	"unicode"
)

type runeRange struct{ lo, hi rune }

type pred struct {
	fn  func(rune) bool
	neg bool
}

// charClass is a set of runes: the union of ranges, predicates and nested
// classes, or the intersection of inter (a && b), optionally negated and
// case-folded.
type charClass struct {
	negate bool
	fold   bool
	ranges []runeRange
	preds  []pred
	subs   []*charClass
	inter  []*charClass

	ascii [2]uint64 // membership of runes < 128, set by prepare
}

func (c *charClass) addRange(lo, hi rune) { c.ranges = append(c.ranges, runeRange{lo, hi}) }

func (c *charClass) addPred(fn func(rune) bool, neg bool) {
	c.preds = append(c.preds, pred{fn, neg})
}

func (c *charClass) raw(r rune) bool {
	if len(c.inter) > 0 {
		for _, op := range c.inter {
			if !op.match(r) {
				return false
			}
		}
		return true
	}
	for _, rg := range c.ranges {
		if r >= rg.lo && r <= rg.hi {
			return true
		}
	}
	for _, p := range c.preds {
		if p.fn(r) != p.neg {
			return true
		}
	}
	for _, s := range c.subs {
		if s.match(r) {
			return true
		}
	}
	return false
}

func (c *charClass) contains(r rune) bool {
	if c.raw(r) {
		return true
	}
	if c.fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if c.raw(f) {
				return true
			}
		}
	}
	return false
}

// match is the slow path, usable before prepare.
func (c *charClass) match(r rune) bool { return c.contains(r) != c.negate }

// prepare fills the ASCII bitmap.
func (c *charClass) prepare() {
	for r := rune(0); r < 128; r++ {
		if c.match(r) {
			c.ascii[r>>6] |= 1 << (r & 63)
		}
	}
}

// matches is the fast membership test for a prepared class.
func (c *charClass) matches(r rune) bool {
	if r < 128 {
		return c.ascii[r>>6]&(1<<(r&63)) != 0
	}
	return c.contains(r) != c.negate
}

func isDigitU(r rune) bool {
	if r < 128 {
		return r >= '0' && r <= '9'
	}
	return unicode.Is(unicode.Nd, r)
}

func isSpaceU(r rune) bool { return unicode.IsSpace(r) }

func isAlphabetic(r rune) bool {
	if r < 128 {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// IsWord reports whether r is an Oniguruma Unicode word character
// (Alphabetic, Mark, Decimal_Number or Connector_Punctuation).
func IsWord(r rune) bool {
	if r < 128 {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
	}
	return isAlphabetic(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r)
}

func isHexDigit(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}

func escapePred(r rune) func(rune) bool {
	switch r {
	case 'd':
		return isDigitU
	case 'w':
		return IsWord
	case 's':
		return isSpaceU
	default: // 'h'
		return isHexDigit
	}
}

func isAssigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

func tablePred(t *unicode.RangeTable) func(rune) bool {
	return func(r rune) bool { return unicode.Is(t, r) }
}

var properties map[string]func(rune) bool

func normName(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(s)
}

func init() {
	properties = map[string]func(rune) bool{}
	for name, t := range unicode.Categories {
		properties[normName(name)] = tablePred(t)
	}
	for name, t := range unicode.Scripts {
		properties[normName(name)] = tablePred(t)
	}
	for name, t := range unicode.Properties {
		properties[normName(name)] = tablePred(t)
	}
	// Other (C) includes unassigned code points (Cn) in Oniguruma.
	properties["c"] = func(r rune) bool { return unicode.Is(unicode.C, r) || !isAssigned(r) }
	properties["cn"] = func(r rune) bool { return !isAssigned(r) }
	long := map[string]string{
		"letter": "l", "casedletter": "lc", "uppercaseletter": "lu", "lowercaseletter": "ll",
		"titlecaseletter": "lt", "modifierletter": "lm", "otherletter": "lo",
		"mark": "m", "combiningmark": "m", "nonspacingmark": "mn", "spacingmark": "mc",
		"enclosingmark": "me", "number": "n", "decimalnumber": "nd", "letternumber": "nl",
		"othernumber": "no", "punctuation": "p", "connectorpunctuation": "pc",
		"dashpunctuation": "pd", "openpunctuation": "ps", "closepunctuation": "pe",
		"initialpunctuation": "pi", "finalpunctuation": "pf", "otherpunctuation": "po",
		"symbol": "s", "mathsymbol": "sm", "currencysymbol": "sc", "modifiersymbol": "sk",
		"othersymbol": "so", "separator": "z", "spaceseparator": "zs", "lineseparator": "zl",
		"paragraphseparator": "zp", "other": "c", "control": "cc", "format": "cf",
		"privateuse": "co", "surrogate": "cs", "unassigned": "cn",
	}
	properties["lc"] = func(r rune) bool { return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt) }
	properties["l&"] = properties["lc"]
	for l, s := range long {
		properties[l] = properties[s]
	}
	for _, name := range []string{"alpha", "alnum", "upper", "lower", "space", "blank", "cntrl",
		"punct", "xdigit", "word", "graph", "print", "ascii", "digit"} {
		properties[name], _ = posixClass(name)
	}
	properties["alphabetic"] = isAlphabetic
	properties["uppercase"] = properties["upper"]
	properties["lowercase"] = properties["lower"]
	properties["whitespace"] = isSpaceU
	properties["any"] = func(rune) bool { return true }
}

func lookupProperty(name string) (func(rune) bool, bool) {
	f, ok := properties[normName(name)]
	return f, ok
}

// posixClass returns the Unicode meaning of a POSIX bracket name.
func posixClass(name string) (func(rune) bool, bool) {
	switch name {
	case "alpha":
		return isAlphabetic, true
	case "digit":
		return isDigitU, true
	case "alnum":
		return func(r rune) bool { return isAlphabetic(r) || isDigitU(r) }, true
	case "upper":
		return func(r rune) bool { return unicode.IsUpper(r) || unicode.Is(unicode.Other_Uppercase, r) }, true
	case "lower":
		return func(r rune) bool { return unicode.IsLower(r) || unicode.Is(unicode.Other_Lowercase, r) }, true
	case "space":
		return isSpaceU, true
	case "blank":
		return func(r rune) bool { return r == '\t' || unicode.Is(unicode.Zs, r) }, true
	case "cntrl":
		return func(r rune) bool { return unicode.Is(unicode.Cc, r) }, true
	case "punct":
		return func(r rune) bool {
			return unicode.IsPunct(r) || r < 128 && strings.ContainsRune("$+<=>^`|~", r)
		}, true
	case "xdigit":
		return isHexDigit, true
	case "word":
		return IsWord, true
	case "graph":
		return func(r rune) bool {
			return !isSpaceU(r) && !unicode.Is(unicode.Cc, r) && isAssigned(r) && !unicode.Is(unicode.Cs, r)
		}, true
	case "print":
		return func(r rune) bool {
			return (!isSpaceU(r) || unicode.Is(unicode.Zs, r)) && !unicode.Is(unicode.Cc, r) && isAssigned(r) && !unicode.Is(unicode.Cs, r)
		}, true
	case "ascii":
		return func(r rune) bool { return r < 128 }, true
	}
	return nil, false
}
