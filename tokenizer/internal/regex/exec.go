package regex

import (
	"sync"
	"unicode/utf8"
)

// Regexp is a compiled pattern. It is safe for concurrent use.
type Regexp struct {
	expr  string
	prog  *prog
	subs  []*subprog
	first *charClass
	pool  sync.Pool
}

// Compile parses a pattern in Oniguruma syntax.
func Compile(expr string) (*Regexp, error) {
	root, err := parse(expr)
	if err != nil {
		return nil, err
	}
	p, subs, err := compileProgram(root)
	if err != nil {
		return nil, &Error{Pattern: expr, Msg: err.Error()}
	}
	re := &Regexp{expr: expr, prog: p, subs: subs}
	re.first = firstSet(root)
	return re, nil
}

// MustCompile is Compile that panics on error.
func MustCompile(expr string) *Regexp {
	re, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return re
}

// String returns the source pattern.
func (re *Regexp) String() string { return re.expr }

// FindAll calls yield with the byte offsets of each successive
// non-overlapping match in s, as Oniguruma's find_iter does: an empty match
// right after the previous match is skipped. It stops when yield returns
// false.
func (re *Regexp) FindAll(s string, yield func(start, end int) bool) {
	m := re.machine(s)
	defer re.release(m)
	lastEnd, lastMatchEnd := 0, -1
	for lastEnd <= len(s) {
		st, en := m.search(lastEnd)
		if st < 0 {
			return
		}
		if st == en && en == lastMatchEnd {
			if lastEnd < len(s) {
				_, sz := utf8.DecodeRuneInString(s[lastEnd:])
				lastEnd += sz
			} else {
				lastEnd++
			}
			continue
		}
		lastEnd, lastMatchEnd = en, en
		if !yield(st, en) {
			return
		}
	}
}

// FindAllIndex returns the matches FindAll reports.
func (re *Regexp) FindAllIndex(s string) [][2]int {
	var out [][2]int
	re.FindAll(s, func(a, b int) bool {
		out = append(out, [2]int{a, b})
		return true
	})
	return out
}

// FindIndex returns the leftmost match, or ok=false.
func (re *Regexp) FindIndex(s string) (start, end int, ok bool) {
	m := re.machine(s)
	defer re.release(m)
	st, en := m.search(0)
	return st, en, st >= 0
}

// MatchString reports whether s contains a match.
func (re *Regexp) MatchString(s string) bool {
	_, _, ok := re.FindIndex(s)
	return ok
}

// frame is a backtracking point: resume at (pc, pos). lo >= 0 marks an
// opStar back-off point: after (pc, pos) fails, try pc one rune earlier,
// down to lo.
type frame struct{ pc, pos, lo int32 }

type machine struct {
	re     *Regexp
	text   string
	main   memo
	subMem []*memo // per sub-program, allocated on first use
	slow   []bool  // per program (0: main, i+1: sub i): use the memo from the start
	stacks [][]frame
	look   [][]int8  // per sub: 0 unknown, 1 true, 2 false
	atom   [][]int32 // per sub: 0 unknown, 1 fail, end+2
}

func (re *Regexp) machine(s string) *machine {
	m, _ := re.pool.Get().(*machine)
	if m == nil {
		m = &machine{re: re}
		m.look = make([][]int8, len(re.subs))
		m.atom = make([][]int32, len(re.subs))
		m.subMem = make([]*memo, len(re.subs))
		m.slow = make([]bool, len(re.subs)+1)
	}
	m.text = s
	m.main.init(len(re.prog.insts), len(s), 10)
	for i, sm := range m.subMem {
		if sm != nil {
			sm.init(len(re.subs[i].p.insts), len(s), 6)
		}
	}
	clear(m.slow)
	for i := range m.look {
		m.look[i] = m.look[i][:0]
		m.atom[i] = m.atom[i][:0]
	}
	return m
}

func (re *Regexp) release(m *machine) {
	m.main.clearAll()
	for _, sm := range m.subMem {
		if sm != nil {
			sm.clearAll()
		}
	}
	m.text = ""
	if len(m.main.chunks) > 1<<12 {
		return // do not keep buffers for huge texts alive
	}
	re.pool.Put(m)
}

// search finds the leftmost match starting at or after from.
func (m *machine) search(from int) (int, int) {
	text := m.text
	first := m.re.first
	for s := from; s <= len(text); {
		m.main.releaseBelow(s)
		try := true
		if first != nil {
			if s == len(text) {
				try = false
			} else {
				c := text[s]
				if c < utf8.RuneSelf {
					try = first.matches(rune(c))
				} else {
					r, _ := utf8.DecodeRuneInString(text[s:])
					try = first.matches(r)
				}
			}
		}
		if try {
			if e := m.run(m.re.prog, &m.main, 0, 0, s, -1); e >= 0 {
				if m.slow[0] {
					m.main.clearRow(e)
				}
				return s, e
			}
		}
		if s == len(text) {
			break
		}
		if text[s] < utf8.RuneSelf {
			s++
		} else {
			_, sz := utf8.DecodeRuneInString(text[s:])
			s += sz
		}
	}
	return -1, -1
}

func (m *machine) subMemo(i int) *memo {
	sm := m.subMem[i]
	if sm == nil {
		sm = &memo{}
		sm.init(len(m.re.subs[i].p.insts), len(m.text), 6)
		m.subMem[i] = sm
	}
	return sm
}

func (m *machine) stack(depth int) []frame {
	for len(m.stacks) <= depth {
		m.stacks = append(m.stacks, make([]frame, 0, 64))
	}
	return m.stacks[depth][:0]
}

// stepBudget bounds a plain backtracking run; past it the run starts over
// with the visited-state memo, which bounds the work of the whole scan.
const stepBudget = 4096

// run finds the first match of p from start, in priority order, whose end
// is endAt when endAt >= 0; it returns the end or -1. It first backtracks
// without bookkeeping and, when that takes more than stepBudget steps,
// starts over with mem recording visited states, and keeps using the memo
// for program id (0: main, i+1: sub-program i) for the rest of the scan.
func (m *machine) run(p *prog, mem *memo, id, depth, start, endAt int) int {
	if !m.slow[id] {
		if e, ok := m.exec(p, nil, depth, start, endAt); ok {
			return e
		}
		m.slow[id] = true
	}
	e, _ := m.exec(p, mem, depth, start, endAt)
	return e
}

// exec is one depth-first run; with mem == nil it gives up (ok=false) after
// stepBudget steps.
func (m *machine) exec(p *prog, mem *memo, depth, start, endAt int) (end int, ok bool) {
	text := m.text
	insts := p.insts
	stk := m.stack(depth)
	stk = append(stk, frame{0, int32(start), -1})
	steps := 0
	for len(stk) > 0 {
		f := stk[len(stk)-1]
		stk = stk[:len(stk)-1]
		pc, pos := int(f.pc), int(f.pos)
		if f.lo >= 0 && pos > int(f.lo) {
			_, sz := utf8.DecodeLastRuneInString(text[:pos])
			stk = append(stk, frame{f.pc, int32(pos - sz), f.lo})
		}
	thread:
		for {
			if mem != nil {
				if mem.visit(pc, pos) {
					break
				}
			} else if steps++; steps > stepBudget {
				m.stacks[depth] = stk[:0]
				return -1, false
			}
			in := &insts[pc]
			switch in.op {
			case opRune, opFold, opClass, opAny, opAnyNL:
				if pos >= len(text) {
					break thread
				}
				var r rune
				sz := 1
				if c := text[pos]; c < utf8.RuneSelf {
					r = rune(c)
				} else {
					r, sz = utf8.DecodeRuneInString(text[pos:])
				}
				if !in.matchRune(r) {
					break thread
				}
				pc++
				pos += sz
			case opStar:
				body := in.body
				if mem != nil {
					// One iteration per state, as a split loop.
					if pos < len(text) {
						r, sz := utf8.DecodeRuneInString(text[pos:])
						if body.matchRune(r) {
							stk = append(stk, frame{in.x, int32(pos), -1})
							pos += sz
							continue
						}
					}
					pc = int(in.x)
					continue
				}
				e := pos
				for e < len(text) {
					var r rune
					sz := 1
					if c := text[e]; c < utf8.RuneSelf {
						r = rune(c)
					} else {
						r, sz = utf8.DecodeRuneInString(text[e:])
					}
					if !body.matchRune(r) {
						break
					}
					e += sz
				}
				steps += (e - pos) >> 2
				if e > pos {
					_, sz := utf8.DecodeLastRuneInString(text[:e])
					stk = append(stk, frame{in.x, int32(e - sz), int32(pos)})
				}
				pc, pos = int(in.x), e
			case opSplit:
				if g := in.guard; g != nil {
					// Skip branch x when the next rune cannot start it.
					if pos >= len(text) {
						pc = int(in.y)
						continue
					}
					var r rune
					if c := text[pos]; c < utf8.RuneSelf {
						r = rune(c)
					} else {
						r, _ = utf8.DecodeRuneInString(text[pos:])
					}
					if !g.matches(r) {
						pc = int(in.y)
						continue
					}
				}
				stk = append(stk, frame{in.y, int32(pos), -1})
				pc = int(in.x)
			case opJmp:
				pc = int(in.x)
			case opMatch:
				if endAt < 0 || pos == endAt {
					m.stacks[depth] = stk[:0]
					return pos, true
				}
				break thread
			case opAssert:
				if !m.assert(in.assert, pos) {
					break thread
				}
				pc++
			case opLook:
				if !m.lookAt(int(in.sub), pos, depth) {
					break thread
				}
				pc++
			case opAtomic:
				e := m.atomicAt(int(in.sub), pos, depth)
				if e < 0 {
					break thread
				}
				pc++
				pos = e
			}
		}
	}
	m.stacks[depth] = stk
	return -1, true
}

func (m *machine) assert(k assertKind, pos int) bool {
	text := m.text
	switch k {
	case aLineStart:
		return pos == 0 || text[pos-1] == '\n'
	case aLineEnd:
		return pos == len(text) || text[pos] == '\n'
	case aTextStart:
		return pos == 0
	case aTextEnd:
		return pos == len(text)
	case aTextEndNL:
		return pos == len(text) || pos == len(text)-1 && text[pos] == '\n'
	}
	before, after := false, false
	if pos > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:pos])
		before = IsWord(r)
	}
	if pos < len(text) {
		r, _ := utf8.DecodeRuneInString(text[pos:])
		after = IsWord(r)
	}
	if k == aWordB {
		return before != after
	}
	return before == after
}

func (m *machine) lookAt(i, pos, depth int) bool {
	res := m.look[i]
	if len(res) == 0 {
		if cap(res) >= len(m.text)+1 {
			res = res[:len(m.text)+1]
			clear(res)
		} else {
			res = make([]int8, len(m.text)+1)
		}
		m.look[i] = res
	}
	if v := res[pos]; v != 0 {
		return v == 1
	}
	s := m.re.subs[i]
	mem := m.subMemo(i)
	ok := false
	if !s.behind {
		// A failed run leaves only states that cannot reach a match,
		// which stay valid for later runs; a success also marks its path.
		ok = m.run(s.p, mem, i+1, depth+1, pos, -1) >= 0
		if ok {
			mem.clearAll()
		}
	} else {
		q, k := pos, 0
		for k < s.minLen && q > 0 {
			_, sz := utf8.DecodeLastRuneInString(m.text[:q])
			q -= sz
			k++
		}
		if k == s.minLen {
			for {
				ok = m.run(s.p, mem, i+1, depth+1, q, pos) >= 0
				mem.clearAll()
				if ok || k == s.maxLen || q == 0 {
					break
				}
				_, sz := utf8.DecodeLastRuneInString(m.text[:q])
				q -= sz
				k++
			}
		}
	}
	if s.neg {
		ok = !ok
	}
	if ok {
		res[pos] = 1
	} else {
		res[pos] = 2
	}
	return ok
}

func (m *machine) atomicAt(i, pos, depth int) int {
	res := m.atom[i]
	if len(res) == 0 {
		if cap(res) >= len(m.text)+1 {
			res = res[:len(m.text)+1]
			clear(res)
		} else {
			res = make([]int32, len(m.text)+1)
		}
		m.atom[i] = res
	}
	if v := res[pos]; v != 0 {
		return int(v) - 2
	}
	mem := m.subMemo(i)
	e := m.run(m.re.subs[i].p, mem, i+1, depth+1, pos, -1)
	if e >= 0 {
		mem.clearAll()
	}
	res[pos] = int32(e + 2)
	return e
}
