package regex

import (
	"fmt"
	"unicode"
)

type opcode uint8

const (
	opRune   opcode = iota // match rune r
	opFold                 // match any rune of fold
	opClass                // match a rune of cls
	opAny                  // any rune but '\n'
	opAnyNL                // any rune
	opSplit                // try x, then y
	opJmp                  // go to x
	opMatch                // success
	opAssert               // zero-width assertion
	opLook                 // look-around sub-program sub
	opAtomic               // atomic sub-program sub
	opStar                 // greedy loop of the one-rune matcher body, then x
)

type inst struct {
	op     opcode
	assert assertKind
	r      rune
	x, y   int32
	sub    int32
	cls    *charClass
	fold   []rune
	guard  *charClass // opSplit: runes that can start branch x (nil: any)
	body   *inst      // opStar: the one-rune matcher repeated
}

// matchRune reports whether the one-rune matcher in accepts r.
func (in *inst) matchRune(r rune) bool {
	switch in.op {
	case opRune:
		return r == in.r
	case opClass:
		return in.cls.matches(r)
	case opFold:
		for _, f := range in.fold {
			if f == r {
				return true
			}
		}
		return false
	case opAny:
		return r != '\n'
	}
	return true // opAnyNL
}

type prog struct {
	insts []inst
}

// subprog is the body of a look-around or atomic group, run as its own
// program.
type subprog struct {
	p              *prog
	look           bool
	behind, neg    bool
	minLen, maxLen int // in runes, for look-behind
}

const maxInsts = 200000

type compiler struct {
	subs  []*subprog
	insts []inst
	err   error
}

func compileProgram(root *node) (*prog, []*subprog, error) {
	c := &compiler{}
	p := c.program(root)
	if c.err != nil {
		return nil, nil, c.err
	}
	return p, c.subs, nil
}

func (c *compiler) program(n *node) *prog {
	saved := c.insts
	c.insts = nil
	c.emit(n)
	c.add(inst{op: opMatch})
	p := &prog{insts: c.insts}
	c.insts = saved
	return p
}

func (c *compiler) add(in inst) int {
	if len(c.insts) >= maxInsts && c.err == nil {
		c.err = fmt.Errorf("pattern compiles to more than %d instructions", maxInsts)
	}
	c.insts = append(c.insts, in)
	return len(c.insts) - 1
}

func (c *compiler) emit(n *node) {
	if c.err != nil {
		return
	}
	switch n.kind {
	case nEmpty:
	case nRune:
		if n.fold {
			var orbit []rune
			orbit = append(orbit, n.r)
			for f := unicode.SimpleFold(n.r); f != n.r; f = unicode.SimpleFold(f) {
				orbit = append(orbit, f)
			}
			c.add(inst{op: opFold, fold: orbit})
		} else {
			c.add(inst{op: opRune, r: n.r})
		}
	case nClass:
		prepareClass(n.cls)
		c.add(inst{op: opClass, cls: n.cls})
	case nAny:
		if n.dotall {
			c.add(inst{op: opAnyNL})
		} else {
			c.add(inst{op: opAny})
		}
	case nConcat:
		for _, s := range n.subs {
			c.emit(s)
		}
	case nAlt:
		var jumps []int
		for i, s := range n.subs {
			if i < len(n.subs)-1 {
				sp := c.add(inst{op: opSplit, guard: firstSet(s)})
				c.insts[sp].x = int32(len(c.insts))
				c.emit(s)
				jumps = append(jumps, c.add(inst{op: opJmp}))
				c.insts[sp].y = int32(len(c.insts))
			} else {
				c.emit(s)
			}
		}
		for _, j := range jumps {
			c.insts[j].x = int32(len(c.insts))
		}
	case nRepeat:
		c.emitRepeat(n)
	case nAssert:
		c.add(inst{op: opAssert, assert: n.assert})
	case nLook:
		sp := &subprog{look: true, behind: n.behind, neg: n.neg}
		if n.behind {
			lo, hi := runeLen(n.subs[0])
			if hi < 0 {
				c.err = fmt.Errorf("look-behind must have a bounded length")
				return
			}
			sp.minLen, sp.maxLen = lo, hi
		}
		sp.p = c.program(n.subs[0])
		c.subs = append(c.subs, sp)
		c.add(inst{op: opLook, sub: int32(len(c.subs) - 1)})
	case nAtomic:
		sp := &subprog{}
		sp.p = c.program(n.subs[0])
		c.subs = append(c.subs, sp)
		c.add(inst{op: opAtomic, sub: int32(len(c.subs) - 1)})
	}
}

func (c *compiler) emitRepeat(n *node) {
	body := n.subs[0]
	for i := 0; i < n.min; i++ {
		c.emit(body)
	}
	if n.max < 0 && n.greedy && isOneRune(body) {
		// A greedy loop over one rune: opStar runs it without a
		// split per iteration.
		mark := len(c.insts)
		c.emit(body)
		bi := c.insts[mark]
		c.insts = c.insts[:mark]
		c.add(inst{op: opStar, body: &bi, x: int32(mark + 1)})
		return
	}
	if n.max < 0 {
		// L: split body, end; body; jmp L; end:
		l := c.add(inst{op: opSplit})
		if n.greedy {
			c.insts[l].guard = firstSet(body)
		}
		c.emit(body)
		c.add(inst{op: opJmp, x: int32(l)})
		end := int32(len(c.insts))
		if n.greedy {
			c.insts[l].x, c.insts[l].y = int32(l+1), end
		} else {
			c.insts[l].x, c.insts[l].y = end, int32(l+1)
		}
		return
	}
	var splits []int
	var guard *charClass
	if n.greedy {
		guard = firstSet(body)
	}
	for i := n.min; i < n.max; i++ {
		splits = append(splits, c.add(inst{op: opSplit, guard: guard}))
		c.emit(body)
	}
	end := int32(len(c.insts))
	for _, s := range splits {
		if n.greedy {
			c.insts[s].x, c.insts[s].y = int32(s+1), end
		} else {
			c.insts[s].x, c.insts[s].y = end, int32(s+1)
		}
	}
}

func isOneRune(n *node) bool { return n.kind == nRune || n.kind == nClass || n.kind == nAny }

// runeLen returns the minimum and maximum number of runes n can match
// (max < 0: unbounded).
func runeLen(n *node) (int, int) {
	switch n.kind {
	case nRune, nClass, nAny:
		return 1, 1
	case nConcat:
		lo, hi := 0, 0
		for _, s := range n.subs {
			a, b := runeLen(s)
			lo += a
			if hi >= 0 {
				if b < 0 {
					hi = -1
				} else {
					hi += b
				}
			}
		}
		return lo, hi
	case nAlt:
		lo, hi := -1, 0
		for _, s := range n.subs {
			a, b := runeLen(s)
			if lo < 0 || a < lo {
				lo = a
			}
			if hi >= 0 && (b < 0 || b > hi) {
				hi = b
			}
		}
		return lo, hi
	case nRepeat:
		a, b := runeLen(n.subs[0])
		lo := a * n.min
		if n.max < 0 {
			if b == 0 {
				return lo, 0
			}
			return lo, -1
		}
		if b < 0 {
			return lo, -1
		}
		return lo, b * n.max
	case nAtomic:
		return runeLen(n.subs[0])
	}
	return 0, 0
}

func prepareClass(c *charClass) {
	for _, s := range c.subs {
		prepareClass(s)
	}
	for _, s := range c.inter {
		prepareClass(s)
	}
	c.prepare()
}
