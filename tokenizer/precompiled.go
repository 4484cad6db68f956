package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// precompiled is SentencePiece's compiled normalization rules (the
// "precompiled_charsmap" that conversions of T5, ALBERT, XLM-R and others
// carry): a Darts-clone double-array trie over UTF-8 keys whose values are
// offsets of NUL-terminated replacements in a string blob.
type precompiled struct {
	units      []uint32
	normalized string
}

func parsePrecompiled(b64 string) (*precompiled, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("precompiled_charsmap: %v", err)
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("precompiled_charsmap: %d bytes is too short", len(data))
	}
	size := int(binary.LittleEndian.Uint32(data))
	if size%4 != 0 || size > len(data)-4 {
		return nil, fmt.Errorf("precompiled_charsmap: bad trie size %d", size)
	}
	p := &precompiled{units: make([]uint32, size/4), normalized: string(data[4+size:])}
	for i := range p.units {
		p.units[i] = binary.LittleEndian.Uint32(data[4+4*i:])
	}
	if len(p.units) == 0 {
		return nil, fmt.Errorf("precompiled_charsmap: empty trie")
	}
	return p, nil
}

func unitOffset(u uint32) int   { return int((u >> 10) << ((u & (1 << 9)) >> 6)) }
func unitLabel(u uint32) uint32 { return u & (1<<31 | 0xFF) }
func unitHasLeaf(u uint32) bool { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32 { return u & (1<<31 - 1) }

// transform returns the replacement of the shortest key that is a prefix
// of chunk (as spm_precompiled does), or ok=false.
func (p *precompiled) transform(chunk string) (string, bool) {
	pos := unitOffset(p.units[0])
	for i := 0; i < len(chunk); i++ {
		c := chunk[i]
		if c == 0 {
			break
		}
		pos ^= int(c)
		if pos >= len(p.units) || unitLabel(p.units[pos]) != uint32(c) {
			return "", false
		}
		u := p.units[pos]
		pos ^= unitOffset(u)
		if unitHasLeaf(u) {
			if pos >= len(p.units) {
				return "", false
			}
			v := int(unitValue(p.units[pos]))
			if v > len(p.normalized) {
				return "", false
			}
			rest := p.normalized[v:]
			if end := strings.IndexByte(rest, 0); end >= 0 {
				rest = rest[:end]
			}
			return rest, true
		}
	}
	return "", false
}

// normalize replaces each grapheme cluster shorter than 6 bytes that has a
// rule as a whole, and otherwise each character that has one: the odd
// shape SentencePiece (and so the Rust library) uses.
func (p *precompiled) normalize(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	state := -1
	for rest := s; rest != ""; {
		var g string
		g, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if len(g) < 6 {
			if norm, ok := p.transform(g); ok {
				sb.WriteString(norm)
				continue
			}
		}
		for i := 0; i < len(g); {
			_, sz := utf8.DecodeRuneInString(g[i:])
			part := g[i : i+sz]
			i += sz
			if norm, ok := p.transform(part); ok {
				sb.WriteString(norm)
			} else {
				sb.WriteString(part)
			}
		}
	}
	return sb.String()
}
