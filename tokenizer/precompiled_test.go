package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"sort"
	"testing"
)

// buildCharsmap writes a precompiled_charsmap for rules, laying each trie
// node's children out in a 256-unit block of its own (enough for a test).
func buildCharsmap(rules map[string]string) string {
	type node struct {
		kids     map[byte]*node
		terminal bool
		value    uint32
		base     int
	}
	root := &node{kids: map[byte]*node{}}
	var blob []byte
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := root
		for i := 0; i < len(k); i++ {
			c, ok := n.kids[k[i]]
			if !ok {
				c = &node{kids: map[byte]*node{}}
				n.kids[k[i]] = c
			}
			n = c
		}
		n.terminal, n.value = true, uint32(len(blob))
		blob = append(append(blob, rules[k]...), 0)
	}
	var nodes []*node
	var walk func(n *node)
	walk = func(n *node) {
		n.base = 256 * (len(nodes) + 1)
		nodes = append(nodes, n)
		for _, c := range n.kids {
			walk(c)
		}
	}
	walk(root)
	units := make([]uint32, 256*(len(nodes)+1))
	units[0] = uint32(0^root.base) << 10
	for _, n := range nodes {
		for c, kid := range n.kids {
			idx := n.base ^ int(c)
			u := uint32(idx^kid.base)<<10 | uint32(c)
			if kid.terminal {
				u |= 1 << 8
				units[kid.base] = kid.value | 1<<31
			}
			units[idx] = u
		}
	}
	data := make([]byte, 4, 4+4*len(units)+len(blob))
	binary.LittleEndian.PutUint32(data, uint32(4*len(units)))
	for _, u := range units {
		data = binary.LittleEndian.AppendUint32(data, u)
	}
	return base64.StdEncoding.EncodeToString(append(data, blob...))
}

func TestPrecompiled(t *testing.T) {
	cm := buildCharsmap(map[string]string{
		"A": "a", "\uFB01": "fi", "e\u0301": "é",
		"\uFF76": "\u30AB", "\uFF9E": "\u3099", "\uFF76\uFF9E": "\u30AC",
	})
	p, err := parsePrecompiled(cm)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"AB":            "aB",
		"\uFB01x":       "fix",
		"xe\u0301A":     "xéa",
		"e":             "e",
		"\uFF76":        "\u30AB",
		"\uFF76\uFF9E":  "\u30AB\u3099", // one 6-byte grapheme: per character
		"中文 and spaces": "中文 and spaces",
	} {
		if got := p.normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
	h := mustJSON(t, `{"normalizer": {"type": "Precompiled", "precompiled_charsmap": "`+cm+`"},
		"model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "aB": 1}, "unk_token": "[UNK]"}}`)
	checkEncode(t, h, "AB", []int{1}, []string{"aB"})
}
