package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"
)

// unkPenalty is subtracted from the lowest piece score to score an unknown
// character, as in SentencePiece.
const unkPenalty = 10.0

type unigram struct {
	pieces       []string
	scores       []float64
	vocab        map[string]int
	unkID        int // -1: none
	byteFallback bool
	minScore     float64
	trie         byteTrie
	byteIDs      [256]int
	cache        wordCache
}

func (u *unigram) tokenToID(s string) (int, bool) { id, ok := u.vocab[s]; return id, ok }
func (u *unigram) idToToken(id int) (string, bool) {
	if id < 0 || id >= len(u.pieces) {
		return "", false
	}
	return u.pieces[id], true
}
func (u *unigram) size() int { return len(u.pieces) }

func (u *unigram) tokenize(dst []token, word string) []token {
	if word == "" {
		return dst
	}
	if t, ok := u.cache.get(word); ok {
		return append(dst, t...)
	}
	start := len(dst)
	for _, s := range u.viterbi(word) {
		if id, ok := u.vocab[s]; ok {
			dst = append(dst, token{id, s})
			continue
		}
		if u.byteFallback {
			all := true
			for k := 0; k < len(s); k++ {
				if u.byteIDs[s[k]] < 0 {
					all = false
					break
				}
			}
			if all {
				for k := 0; k < len(s); k++ {
					dst = append(dst, token{u.byteIDs[s[k]], fmt.Sprintf("<0x%02X>", s[k])})
				}
				continue
			}
		}
		if u.unkID >= 0 {
			dst = append(dst, token{u.unkID, s})
		}
	}
	u.cache.put(word, append([]token(nil), dst[start:]...))
	return dst
}

// viterbi returns the best segmentation of s, unknown runs fused.
func (u *unigram) viterbi(s string) []string {
	n := len(s)
	type node struct {
		score float64
		start int // -1: unreached
		id    int
	}
	best := make([]node, n+1)
	for i := range best {
		best[i].start = -1
	}
	unkScore := u.minScore - unkPenalty
	for st := 0; st < n; {
		base := best[st].score
		_, mblen := utf8.DecodeRuneInString(s[st:])
		single := false
		u.trie.prefixes(s, st, func(end, id int) {
			cand := u.scores[id] + base
			t := &best[end]
			if t.start < 0 || cand > t.score {
				t.score, t.start, t.id = cand, st, id
			}
			if end-st == mblen {
				single = true
			}
		})
		if !single {
			t := &best[st+mblen]
			cand := unkScore + base
			if t.start < 0 || cand > t.score {
				t.score, t.start, t.id = cand, st, u.unkID
			}
		}
		st += mblen
	}
	var out []string
	unkEnd := -1 // end of the pending run of unknown pieces
	for end := n; end > 0; {
		nd := best[end]
		if nd.start < 0 { // unreachable: cannot happen, every char has a node
			break
		}
		if u.unkID >= 0 && nd.id == u.unkID {
			if unkEnd < 0 {
				unkEnd = end
			}
		} else {
			if unkEnd >= 0 {
				out = append(out, s[end:unkEnd])
				unkEnd = -1
			}
			out = append(out, s[nd.start:end])
		}
		end = nd.start
	}
	if unkEnd >= 0 {
		out = append(out, s[:unkEnd])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// byteTrie is a trie over the bytes of the vocabulary pieces.
type byteTrie struct {
	root  [256]int32 // root children, 0: none
	nodes []trieNode
	edges []trieEdge
}

type trieNode struct {
	id          int32 // piece id ending here, -1: none
	first, nkid int32 // children: edges[first:first+nkid], sorted by byte
}

type trieEdge struct {
	b     byte
	child int32
}

func buildTrie(pieces []string, idOf func(string) int) byteTrie {
	// Sort the pieces and lay the trie out breadth-first from sorted runs.
	sorted := make([]string, 0, len(pieces))
	for _, p := range pieces {
		if p != "" {
			sorted = append(sorted, p)
		}
	}
	sort.Strings(sorted)
	type build struct {
		kids map[byte]int32
		id   int32
	}
	bn := []build{{id: -1}}
	for _, p := range sorted {
		cur := int32(0)
		for k := 0; k < len(p); k++ {
			if bn[cur].kids == nil {
				bn[cur].kids = map[byte]int32{}
			}
			nx, ok := bn[cur].kids[p[k]]
			if !ok {
				nx = int32(len(bn))
				bn = append(bn, build{id: -1})
				bn[cur].kids[p[k]] = nx
			}
			cur = nx
		}
		bn[cur].id = int32(idOf(p))
	}
	t := byteTrie{nodes: make([]trieNode, len(bn))}
	for i, b := range bn {
		keys := make([]int, 0, len(b.kids))
		for k := range b.kids {
			keys = append(keys, int(k))
		}
		sort.Ints(keys)
		t.nodes[i] = trieNode{id: b.id, first: int32(len(t.edges)), nkid: int32(len(keys))}
		for _, k := range keys {
			t.edges = append(t.edges, trieEdge{byte(k), b.kids[byte(k)]})
			if i == 0 {
				t.root[k] = b.kids[byte(k)]
			}
		}
	}
	return t
}

// prefixes calls f(end, id) for every piece that is a prefix of s[start:],
// shortest first.
func (t *byteTrie) prefixes(s string, start int, f func(end, id int)) {
	if start >= len(s) {
		return
	}
	node := t.root[s[start]]
	for j := start + 1; node != 0; j++ {
		nd := &t.nodes[node]
		if nd.id >= 0 {
			f(j, int(nd.id))
		}
		if j >= len(s) {
			return
		}
		c := s[j]
		edges := t.edges[nd.first : nd.first+nd.nkid]
		node = 0
		if len(edges) > 8 {
			k := sort.Search(len(edges), func(i int) bool { return edges[i].b >= c })
			if k < len(edges) && edges[k].b == c {
				node = edges[k].child
			}
		} else {
			for _, e := range edges {
				if e.b == c {
					node = e.child
					break
				}
			}
		}
	}
}

func parseUnigram(raw json.RawMessage, path string) (*unigram, error) {
	var v struct {
		UnkID        *int `json:"unk_id"`
		Vocab        [][2]json.RawMessage
		ByteFallback bool `json:"byte_fallback"`
	}
	bad := func(err error) error { return componentError(path, "Unigram", err) }
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, bad(err)
	}
	if v.Vocab == nil {
		return nil, bad(fmt.Errorf("missing field vocab"))
	}
	u := &unigram{vocab: make(map[string]int, len(v.Vocab)), unkID: -1, byteFallback: v.ByteFallback, minScore: math.Inf(1)}
	for i, e := range v.Vocab {
		var p string
		var sc float64
		if err := json.Unmarshal(e[0], &p); err != nil {
			return nil, bad(fmt.Errorf("vocab[%d]: piece must be a string", i))
		}
		if err := json.Unmarshal(e[1], &sc); err != nil {
			return nil, bad(fmt.Errorf("vocab[%d]: score must be a number", i))
		}
		u.pieces = append(u.pieces, p)
		u.scores = append(u.scores, sc)
		u.vocab[p] = i
		u.minScore = math.Min(u.minScore, sc)
	}
	if v.UnkID != nil {
		if *v.UnkID < 0 || *v.UnkID >= len(u.pieces) {
			return nil, bad(fmt.Errorf("unk_id %d is outside the vocabulary (size %d)", *v.UnkID, len(u.pieces)))
		}
		u.unkID = *v.UnkID
	}
	for i := range u.byteIDs {
		u.byteIDs[i] = -1
		if id, ok := u.vocab[fmt.Sprintf("<0x%02X>", i)]; ok {
			u.byteIDs[i] = id
		}
	}
	u.trie = buildTrie(u.pieces, func(p string) int { return u.vocab[p] })
	return u, nil
}
