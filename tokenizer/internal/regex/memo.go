package regex

// memo is the set of visited (instruction, position) states, stored as
// bitmaps in chunks of 1<<shift positions allocated on first use.
type memo struct {
	ninst  int
	shift  uint
	low    int // chunks below low were released
	chunks [][]uint64
	used   []int
	free   [][]uint64
}

func (m *memo) init(ninst, n int, shift uint) {
	if ninst != m.ninst || shift != m.shift {
		m.free = nil
	}
	m.ninst, m.shift, m.low = ninst, shift, 0
	nc := (n >> shift) + 1
	if cap(m.chunks) >= nc {
		m.chunks = m.chunks[:nc]
	} else {
		m.chunks = make([][]uint64, nc)
	}
}

func (m *memo) visit(pc, pos int) bool {
	ci := pos >> m.shift
	c := m.chunks[ci]
	if c == nil {
		if n := len(m.free); n > 0 {
			c = m.free[n-1]
			m.free = m.free[:n-1]
		} else {
			c = make([]uint64, ((1<<m.shift)*m.ninst+63)/64)
		}
		m.chunks[ci] = c
		m.used = append(m.used, ci)
	}
	bit := (pos&(1<<m.shift-1))*m.ninst + pc
	w, b := bit>>6, uint64(1)<<(bit&63)
	if c[w]&b != 0 {
		return true
	}
	c[w] |= b
	return false
}

func (m *memo) clearRow(pos int) {
	c := m.chunks[pos>>m.shift]
	if c == nil {
		return
	}
	lo := (pos & (1<<m.shift - 1)) * m.ninst
	hi := lo + m.ninst // clear bits [lo, hi)
	for lo < hi {
		w := lo >> 6
		n := min(64-lo&63, hi-lo)
		var mask uint64 = ^uint64(0)
		if n < 64 {
			mask = (uint64(1)<<n - 1) << (lo & 63)
		}
		c[w] &^= mask
		lo += n
	}
}

func (m *memo) clearAll() {
	for _, ci := range m.used {
		if c := m.chunks[ci]; c != nil {
			clear(c)
			m.free = append(m.free, c)
			m.chunks[ci] = nil
		}
	}
	m.used = m.used[:0]
}

// releaseBelow frees the chunks wholly before pos: the main search never
// moves backwards.
func (m *memo) releaseBelow(pos int) {
	limit := pos >> m.shift
	for ; m.low < limit; m.low++ {
		if c := m.chunks[m.low]; c != nil {
			clear(c)
			m.free = append(m.free, c)
			m.chunks[m.low] = nil
		}
	}
}

// firstSet returns a class holding every rune a match can start with, or nil
// when the pattern can match the empty string.
func firstSet(n *node) *charClass {
	cls := &charClass{}
	if nonEmpty := addFirst(n, cls); !nonEmpty {
		return nil
	}
	prepareClass(cls)
	return cls
}

// addFirst adds the runes n can start with to cls and reports whether n
// always consumes at least one rune. Zero-width assertions only narrow a
// match, so skipping them keeps the set a superset.
func addFirst(n *node, cls *charClass) bool {
	switch n.kind {
	case nRune:
		sub := &charClass{fold: n.fold}
		sub.addRange(n.r, n.r)
		cls.subs = append(cls.subs, sub)
		return true
	case nClass:
		cls.subs = append(cls.subs, n.cls)
		return true
	case nAny:
		if n.dotall {
			cls.addPred(func(rune) bool { return true }, false)
		} else {
			cls.addPred(func(r rune) bool { return r != '\n' }, false)
		}
		return true
	case nConcat:
		for _, s := range n.subs {
			if addFirst(s, cls) {
				return true
			}
		}
		return false
	case nAlt:
		all := true
		for _, s := range n.subs {
			if !addFirst(s, cls) {
				all = false
			}
		}
		return all
	case nRepeat:
		ne := addFirst(n.subs[0], cls)
		return ne && n.min > 0
	case nAtomic:
		return addFirst(n.subs[0], cls)
	}
	return false
}
