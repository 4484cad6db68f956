package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// encoding is a token sequence in the making. typeIDs and special are nil
// while every token has type id 0 and is not special.
type encoding struct {
	toks    []token
	typeIDs []int
	special []bool
}

func newEncoding(toks []token, typeID int, special bool) *encoding {
	e := &encoding{toks: toks}
	if typeID != 0 || special {
		e.meta()
		for i := range e.toks {
			e.typeIDs[i], e.special[i] = typeID, special
		}
	}
	return e
}

// meta allocates typeIDs and special.
func (e *encoding) meta() {
	if e.typeIDs == nil {
		e.typeIDs = make([]int, len(e.toks), cap(e.toks))
		e.special = make([]bool, len(e.toks), cap(e.toks))
	}
}

func (e *encoding) append(o *encoding) {
	if e.typeIDs == nil && o.typeIDs == nil {
		e.toks = append(e.toks, o.toks...)
		return
	}
	e.meta()
	o.meta()
	e.toks = append(e.toks, o.toks...)
	e.typeIDs = append(e.typeIDs, o.typeIDs...)
	e.special = append(e.special, o.special...)
}

func (e *encoding) setTypeID(t int) {
	if t == 0 && e.typeIDs == nil {
		return
	}
	e.meta()
	for i := range e.typeIDs {
		e.typeIDs[i] = t
	}
}

// postProcessor adds special tokens around one sequence or a pair (b may
// be nil).
type postProcessor interface {
	process(a, b *encoding, addSpecial bool) *encoding
}

// defaultProcess concatenates a pair unchanged.
func defaultProcess(a, b *encoding) *encoding {
	if b == nil {
		return a
	}
	a.append(b)
	return a
}

type identityProcessor struct{}

func (identityProcessor) process(a, b *encoding, _ bool) *encoding { return defaultProcess(a, b) }

type templatePart struct {
	special string // special-token key; "" for a sequence
	seqB    bool   // sequence B (else A)
	typeID  int
}

type specialEntry struct {
	ids    []int
	tokens []string
}

type templateProcessor struct {
	single, pair []templatePart
	specials     map[string]specialEntry
}

func (t *templateProcessor) process(a, b *encoding, addSpecial bool) *encoding {
	if !addSpecial {
		return defaultProcess(a, b)
	}
	tmpl := t.single
	if b != nil {
		tmpl = t.pair
	}
	out := &encoding{}
	for _, p := range tmpl {
		if p.special == "" {
			src := a
			if p.seqB {
				src = b
			}
			if src == nil {
				continue
			}
			seq := &encoding{toks: src.toks, typeIDs: append([]int(nil), src.typeIDs...), special: src.special}
			seq.setTypeID(p.typeID)
			out.append(seq)
			continue
		}
		sp := t.specials[p.special]
		toks := make([]token, len(sp.ids))
		for i, id := range sp.ids {
			toks[i] = token{id, sp.tokens[i]}
		}
		out.append(newEncoding(toks, p.typeID, true))
	}
	return out
}

// clsSepProcessor is RobertaProcessing / BertProcessing:
// [cls] A [sep] and [cls] A [sep] ([sep]) B [sep].
type clsSepProcessor struct {
	cls, sep    token
	doubleSep   bool // RoBERTa puts two separators between a pair
	pairTypeOne bool // BERT gives the second sequence type id 1
}

func (c *clsSepProcessor) process(a, b *encoding, addSpecial bool) *encoding {
	if !addSpecial {
		return defaultProcess(a, b)
	}
	one := func(t token, typ int) *encoding { return newEncoding([]token{t}, typ, true) }
	out := one(c.cls, 0)
	out.append(a)
	out.append(one(c.sep, 0))
	if b == nil {
		return out
	}
	typ := 0
	if c.pairTypeOne {
		typ = 1
	}
	if c.doubleSep {
		out.append(one(c.sep, typ))
	}
	b.setTypeID(typ)
	out.append(b)
	out.append(one(c.sep, typ))
	return out
}

type processorSeq []postProcessor

func (s processorSeq) process(a, b *encoding, addSpecial bool) *encoding {
	for _, p := range s {
		a = p.process(a, b, addSpecial)
		b = nil
	}
	return a
}

func parsePostProcessor(raw json.RawMessage, path string) (postProcessor, error) {
	typ, fields, err := componentType(raw, path)
	if err != nil || typ == "" {
		return nil, err
	}
	bad := func(err error) error { return componentError(path, typ, err) }
	switch typ {
	case "ByteLevel":
		return identityProcessor{}, nil
	case "TemplateProcessing":
		var v struct {
			Single, Pair  json.RawMessage
			SpecialTokens map[string]struct {
				ID     string
				IDs    []int
				Tokens []string
			} `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		t := &templateProcessor{specials: map[string]specialEntry{}}
		for k, sp := range v.SpecialTokens {
			if len(sp.IDs) != len(sp.Tokens) {
				return nil, bad(fmt.Errorf("special_tokens[%q]: %d ids but %d tokens", k, len(sp.IDs), len(sp.Tokens)))
			}
			t.specials[k] = specialEntry{sp.IDs, sp.Tokens}
		}
		if t.single, err = parseTemplate(v.Single, t.specials); err != nil {
			return nil, bad(fmt.Errorf("single: %w", err))
		}
		if t.pair, err = parseTemplate(v.Pair, t.specials); err != nil {
			return nil, bad(fmt.Errorf("pair: %w", err))
		}
		return t, nil
	case "RobertaProcessing", "BertProcessing":
		var v struct{ Sep, Cls [2]json.RawMessage }
		if err := json.Unmarshal(raw, &v); err != nil || v.Sep[0] == nil || v.Cls[0] == nil {
			return nil, bad(missing(err, "sep and cls"))
		}
		pair := func(p [2]json.RawMessage, name string) (token, error) {
			var t token
			if json.Unmarshal(p[0], &t.value) != nil || json.Unmarshal(p[1], &t.id) != nil {
				return t, fmt.Errorf("%s must be [token, id]", name)
			}
			return t, nil
		}
		c := &clsSepProcessor{doubleSep: typ == "RobertaProcessing", pairTypeOne: typ == "BertProcessing"}
		if c.sep, err = pair(v.Sep, "sep"); err != nil {
			return nil, bad(err)
		}
		if c.cls, err = pair(v.Cls, "cls"); err != nil {
			return nil, bad(err)
		}
		return c, nil
	case "Sequence":
		seq, err := parseSequence(fields, "processors", path, parsePostProcessor, bad)
		if err != nil {
			return nil, err
		}
		return processorSeq(seq), nil
	}
	return nil, componentError(path, typ, fmt.Errorf("unknown post-processor type %q", typ))
}

// parseTemplate reads a template as a list of {"SpecialToken": {...}} /
// {"Sequence": {...}} items, or as a string such as "[CLS] $A [SEP]".
func parseTemplate(raw json.RawMessage, specials map[string]specialEntry) ([]templatePart, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []struct {
		SpecialToken *struct {
			ID     string
			TypeID int `json:"type_id"`
		}
		Sequence *struct {
			ID     string
			TypeID int `json:"type_id"`
		}
	}
	var parts []templatePart
	if err := json.Unmarshal(raw, &items); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, fmt.Errorf("expected a list of template pieces: %w", err)
		}
		for _, f := range strings.Fields(s) {
			p, err := parseTemplateString(f)
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
		}
	} else {
		for i, it := range items {
			switch {
			case it.SpecialToken != nil:
				parts = append(parts, templatePart{special: it.SpecialToken.ID, typeID: it.SpecialToken.TypeID})
			case it.Sequence != nil:
				if it.Sequence.ID != "A" && it.Sequence.ID != "B" {
					return nil, fmt.Errorf("[%d]: sequence id must be A or B, got %q", i, it.Sequence.ID)
				}
				parts = append(parts, templatePart{seqB: it.Sequence.ID == "B", typeID: it.Sequence.TypeID})
			default:
				return nil, fmt.Errorf("[%d]: expected SpecialToken or Sequence", i)
			}
		}
	}
	for _, p := range parts {
		if p.special != "" {
			if _, ok := specials[p.special]; !ok {
				return nil, fmt.Errorf("special token %q is missing from special_tokens", p.special)
			}
		}
	}
	return parts, nil
}

// parseTemplateString reads "$A", "$B:1", "$1", "[CLS]:0" style pieces.
func parseTemplateString(f string) (templatePart, error) {
	name, typ := f, 0
	if i := strings.LastIndexByte(f, ':'); i > 0 {
		var n int
		if _, err := fmt.Sscanf(f[i+1:], "%d", &n); err == nil {
			name, typ = f[:i], n
		}
	}
	switch name {
	case "$", "$A", "$a":
		return templatePart{typeID: typ}, nil
	case "$B", "$b":
		return templatePart{seqB: true, typeID: typ}, nil
	}
	if strings.HasPrefix(name, "$") {
		// $N is sequence A with type id N.
		var n int
		if _, err := fmt.Sscanf(name[1:], "%d", &n); err != nil || fmt.Sprint(n) != name[1:] {
			return templatePart{}, fmt.Errorf("unknown sequence %q", name)
		}
		return templatePart{typeID: n}, nil
	}
	return templatePart{special: name, typeID: typ}, nil
}
