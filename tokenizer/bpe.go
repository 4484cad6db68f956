package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// token is a model output: an id and its string.
type token struct {
	id    int
	value string
}

// model turns one pre-tokenized piece into tokens.
type model interface {
	tokenize(dst []token, word string) []token
	tokenToID(s string) (int, bool)
	idToToken(id int) (string, bool)
	size() int // largest id + 1
}

// wordCache memoises tokenize results for short words. It stops growing when
// full, as the Rust library's cache does.
type wordCache struct {
	mu sync.RWMutex
	m  map[string][]token
}

const (
	cacheMaxEntries = 200000
	cacheMaxWordLen = 256
)

func (c *wordCache) get(w string) ([]token, bool) {
	c.mu.RLock()
	t, ok := c.m[w]
	c.mu.RUnlock()
	return t, ok
}

func (c *wordCache) put(w string, t []token) {
	if len(w) >= cacheMaxWordLen {
		return
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string][]token)
	}
	if len(c.m) < cacheMaxEntries {
		c.m[strings.Clone(w)] = t
	}
	c.mu.Unlock()
}

// vocabTable maps ids back to strings.
type vocabTable struct {
	byID []string
	has  []bool
}

func newVocabTable(vocab map[string]int) vocabTable {
	maxID := -1
	for _, id := range vocab {
		maxID = max(maxID, id)
	}
	t := vocabTable{byID: make([]string, maxID+1), has: make([]bool, maxID+1)}
	for s, id := range vocab {
		// Several strings with one id: keep the smallest for determinism.
		if !t.has[id] || s < t.byID[id] {
			t.byID[id] = s
		}
		t.has[id] = true
	}
	return t
}

func (t vocabTable) get(id int) (string, bool) {
	if id < 0 || id >= len(t.byID) || !t.has[id] {
		return "", false
	}
	return t.byID[id], true
}

type bpeMerge struct{ rank, id int32 }

// mergeTable is an open-addressing hash table from a token pair to its
// merge, faster than a Go map on this hot path.
type mergeTable struct {
	keys  []uint64 // pair key + 1; 0 marks an empty slot
	vals  []bpeMerge
	shift uint
	n     int
}

func newMergeTable(n int) *mergeTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	shift := uint(64)
	for s := size; s > 1; s >>= 1 {
		shift--
	}
	return &mergeTable{keys: make([]uint64, size), vals: make([]bpeMerge, size), shift: shift}
}

func (t *mergeTable) slot(k uint64) int { return int((k * 0x9E3779B97F4A7C15) >> t.shift) }

// put inserts or replaces (a later duplicate merge wins, as when the Rust
// library collects its merges into a map).
func (t *mergeTable) put(k uint64, v bpeMerge) {
	mask := len(t.keys) - 1
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case 0:
			t.keys[i], t.vals[i] = k+1, v
			t.n++
			return
		case k + 1:
			t.vals[i] = v
			return
		}
	}
}

func (t *mergeTable) get(k uint64) (bpeMerge, bool) {
	mask := len(t.keys) - 1
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case 0:
			return bpeMerge{}, false
		case k + 1:
			return t.vals[i], true
		}
	}
}

type bpe struct {
	vocab        map[string]int
	vocabR       vocabTable
	merges       *mergeTable
	runeIDs      [512]int32 // id of the one-rune token string(r) for r < 512, -1: none
	unkID        int        // -1: none
	prefix       string
	suffix       string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	byteIDs      [256]int // <0xXX> ids, -1 when absent
	inMerge      []bool   // by id: the token is part of some merge pair
	cache        wordCache
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (b *bpe) tokenToID(s string) (int, bool)  { id, ok := b.vocab[s]; return id, ok }
func (b *bpe) idToToken(id int) (string, bool) { return b.vocabR.get(id) }
func (b *bpe) size() int                       { return len(b.vocabR.byID) }

func (b *bpe) tokenize(dst []token, word string) []token {
	if word == "" {
		return dst
	}
	if b.ignoreMerges {
		if id, ok := b.vocab[word]; ok {
			return append(dst, token{id, word})
		}
	}
	if t, ok := b.cache.get(word); ok {
		return append(dst, t...)
	}
	start := len(dst)
	dst = b.mergeWord(dst, word)
	if len(word) < cacheMaxWordLen {
		b.cache.put(word, append([]token(nil), dst[start:]...))
	}
	return dst
}

type bpeSym struct {
	id, prev, next, size int32
}

// longWord is the length past which mergeWord merges and emits the part
// before each unmergeable symbol as soon as it meets one, so that its
// buffers stay small.
const longWord = 256

// mergeWord splits w into symbols (chars, byte-fallback bytes or unknown
// runs), applies the merges, lowest rank first and leftmost first among
// equal ranks, and appends the resulting tokens to dst.
func (b *bpe) mergeWord(dst []token, w string) []token {
	var local [64]bpeSym
	syms := local[:0]
	var h mergeHeap
	long := len(w) > longWord && b.merges.n > 0
	add := func(id int, size int) {
		if long && !b.inMerge[id] && len(syms) > 0 {
			// A symbol in no merge pair is never merged: what comes
			// before it is final once merged.
			dst = b.flush(dst, syms, &h)
			syms = syms[:0]
		}
		n := int32(len(syms))
		if n > 0 {
			syms[n-1].next = n
		}
		syms = append(syms, bpeSym{int32(id), n - 1, -1, int32(size)})
	}
	pendingUnk, unkLen := false, 0
	for i := 0; i < len(w); {
		_, sz := utf8.DecodeRuneInString(w[i:])
		end := i + sz
		s := w[i:end]
		affix := false
		if i > 0 && b.prefix != "" {
			s, affix = b.prefix+s, true
		}
		if end == len(w) && b.suffix != "" {
			s, affix = s+b.suffix, true
		}
		i = end
		id, ok := -1, false
		if c := w[end-sz]; !affix && sz <= 2 && c < 0xC8 {
			// A rune below 512: table lookup.
			r, _ := utf8.DecodeRuneInString(s)
			if x := b.runeIDs[r]; x >= 0 {
				id, ok = int(x), true
			}
		} else {
			id, ok = b.vocab[s]
		}
		if ok {
			if pendingUnk {
				add(b.unkID, unkLen)
				pendingUnk = false
			}
			add(id, sz)
			continue
		}
		if b.byteFallback {
			all := true
			for k := 0; k < len(s); k++ {
				if b.byteIDs[s[k]] < 0 {
					all = false
					break
				}
			}
			if all {
				// As in the Rust library, a pending unknown run is not
				// flushed before byte-fallback tokens.
				for k := 0; k < len(s); k++ {
					add(b.byteIDs[s[k]], 1)
				}
				continue
			}
		}
		if b.unkID < 0 {
			continue
		}
		switch {
		case pendingUnk && b.fuseUnk:
			unkLen += sz
		case pendingUnk:
			add(b.unkID, unkLen)
			unkLen = sz
		default:
			pendingUnk, unkLen = true, sz
		}
	}
	if pendingUnk {
		add(b.unkID, unkLen)
	}
	return b.flush(dst, syms, &h)
}

// flush merges syms and appends the surviving symbols as tokens.
func (b *bpe) flush(dst []token, syms []bpeSym, h *mergeHeap) []token {
	if b.merges.n > 0 && len(syms) >= 2 {
		// A symbol that is in no merge pair never changes and is never
		// merged with a neighbour, so it cuts the word into parts that
		// merge independently (this keeps the heap small).
		seg := 0
		for i := 0; i <= len(syms); i++ {
			if i == len(syms) || !b.inMerge[syms[i].id] {
				if i-seg >= 2 {
					b.mergeRange(syms, seg, i, h)
				}
				seg = i + 1
			}
		}
	}
	for _, s := range syms {
		if s.size > 0 {
			v, _ := b.vocabR.get(int(s.id))
			dst = append(dst, token{int(s.id), v})
		}
	}
	return dst
}

// mergeRange applies the merges to syms[lo:hi].
func (b *bpe) mergeRange(syms []bpeSym, lo, hi int, h *mergeHeap) {
	*h = (*h)[:0]
	for i := lo; i+1 < hi; i++ {
		if m, ok := b.merges.get(pairKey(syms[i].id, syms[i+1].id)); ok {
			h.push(mergeCand{candKey(m.rank, int32(i)), m.id})
		}
	}
	for len(*h) > 0 {
		top := h.pop()
		pos := int32(top.key)
		cur := &syms[pos]
		if cur.size == 0 || cur.next < 0 {
			continue
		}
		right := syms[cur.next]
		if m, ok := b.merges.get(pairKey(cur.id, right.id)); !ok || m.id != top.id {
			continue // stale entry
		}
		syms[cur.next].size = 0
		cur.id = top.id
		cur.size += right.size
		cur.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = pos
		}
		if cur.prev >= 0 {
			if m, ok := b.merges.get(pairKey(syms[cur.prev].id, cur.id)); ok {
				h.push(mergeCand{candKey(m.rank, cur.prev), m.id})
			}
		}
		if cur.next >= 0 {
			if m, ok := b.merges.get(pairKey(cur.id, syms[cur.next].id)); ok {
				h.push(mergeCand{candKey(m.rank, pos), m.id})
			}
		}
	}
}

// mergeCand is a possible merge: key orders by rank, then position.
type mergeCand struct {
	key uint64
	id  int32
}

func candKey(rank, pos int32) uint64 { return uint64(uint32(rank))<<32 | uint64(uint32(pos)) }

// mergeHeap is a binary min-heap on (rank, pos).
type mergeHeap []mergeCand

func (h mergeHeap) less(i, j int) bool { return h[i].key < h[j].key }

func (h *mergeHeap) push(c mergeCand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeHeap) pop() mergeCand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

func parseBPE(raw json.RawMessage, path string) (*bpe, error) {
	var v struct {
		Vocab                   map[string]int
		Merges                  json.RawMessage
		UnkToken                *string  `json:"unk_token"`
		ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
		FuseUnk                 bool     `json:"fuse_unk"`
		ByteFallback            bool     `json:"byte_fallback"`
		IgnoreMerges            bool     `json:"ignore_merges"`
		Dropout                 *float64 `json:"dropout"`
	}
	bad := func(err error) error { return componentError(path, "BPE", err) }
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, bad(err)
	}
	if v.Vocab == nil {
		return nil, bad(fmt.Errorf("missing field vocab"))
	}
	if err := checkIDs(v.Vocab); err != nil {
		return nil, bad(err)
	}
	b := &bpe{vocab: v.Vocab, vocabR: newVocabTable(v.Vocab), unkID: -1,
		fuseUnk: v.FuseUnk, byteFallback: v.ByteFallback, ignoreMerges: v.IgnoreMerges}
	if v.ContinuingSubwordPrefix != nil {
		b.prefix = *v.ContinuingSubwordPrefix
	}
	if v.EndOfWordSuffix != nil {
		b.suffix = *v.EndOfWordSuffix
	}
	if v.UnkToken != nil {
		if id, ok := v.Vocab[*v.UnkToken]; ok {
			b.unkID = id
		}
	}
	for i := range b.byteIDs {
		b.byteIDs[i] = -1
		if id, ok := v.Vocab[fmt.Sprintf("<0x%02X>", i)]; ok {
			b.byteIDs[i] = id
		}
	}
	b.inMerge = make([]bool, b.size())
	pairs, err := parseMerges(v.Merges)
	if err != nil {
		return nil, bad(err)
	}
	b.merges = newMergeTable(len(pairs))
	for rank, p := range pairs {
		a, ok := v.Vocab[p[0]]
		if !ok {
			return nil, bad(fmt.Errorf("merges[%d]: token %q is not in the vocabulary", rank, p[0]))
		}
		c, ok := v.Vocab[p[1]]
		if !ok {
			return nil, bad(fmt.Errorf("merges[%d]: token %q is not in the vocabulary", rank, p[1]))
		}
		if len(p[1]) < len(b.prefix) {
			return nil, bad(fmt.Errorf("merges[%d]: token %q is shorter than the continuing-subword prefix", rank, p[1]))
		}
		merged := p[0] + p[1][len(b.prefix):]
		id, ok := v.Vocab[merged]
		if !ok {
			return nil, bad(fmt.Errorf("merges[%d]: merged token %q is not in the vocabulary", rank, merged))
		}
		b.merges.put(pairKey(int32(a), int32(c)), bpeMerge{int32(rank), int32(id)})
		b.inMerge[a], b.inMerge[c] = true, true
	}
	for r := range b.runeIDs {
		b.runeIDs[r] = -1
		if id, ok := v.Vocab[string(rune(r))]; ok {
			b.runeIDs[r] = int32(id)
		}
	}
	return b, nil
}

// parseMerges reads merges as "a b" strings or as [a, b] pairs.
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err == nil {
		out := make([][2]string, 0, len(lines))
		for _, l := range lines {
			if strings.HasPrefix(l, "#version") {
				continue
			}
			parts := strings.Split(l, " ")
			if len(parts) != 2 {
				return nil, fmt.Errorf("merges[%d]: %q is not two tokens separated by a space", len(out), l)
			}
			out = append(out, [2]string{parts[0], parts[1]})
		}
		return out, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("merges: expected a list of \"a b\" strings or [a, b] pairs: %w", err)
	}
	out := make([][2]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merges[%d]: expected a pair, got %d items", i, len(p))
		}
		out[i] = [2]string{p[0], p[1]}
	}
	return out, nil
}
