package tokenizer

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestCharRoundTrip(t *testing.T) {
	text := "First Citizen:\nBefore we proceed, héllo 中文 🙂!"
	c := NewChar(text)
	if c.VocabSize() != len(c.Chars()) {
		t.Fatal("vocab size mismatch")
	}
	for i := 1; i < len(c.chars); i++ {
		if c.chars[i-1] >= c.chars[i] {
			t.Fatal("vocabulary is not sorted and unique")
		}
	}
	ids := c.Encode(text)
	if len(ids) != len([]rune(text)) {
		t.Fatalf("got %d ids for %d runes", len(ids), len([]rune(text)))
	}
	if got := c.Decode(ids); got != text {
		t.Fatalf("round trip: got %q", got)
	}
	if _, err := c.EncodeStrict("xyz"); err == nil {
		t.Error("EncodeStrict accepted unknown characters")
	}
	if got := c.Encode("FQ"); !reflect.DeepEqual(got, c.Encode("F")) {
		t.Errorf("unknown characters should be dropped, got %v", got)
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Char
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Encode(text), ids) || back.Decode(ids) != text {
		t.Error("JSON round trip changed the tokenizer")
	}
	if err := json.Unmarshal([]byte(`{"type":"char","chars":"aa"}`), &back); err == nil {
		t.Error("duplicate characters accepted")
	}
	if err := json.Unmarshal([]byte(`{"type":"bpe","chars":"ab"}`), &back); err == nil {
		t.Error("wrong type accepted")
	}
}

func TestTiktoken(t *testing.T) {
	known := map[string][]int{
		"gpt2":        {31373, 995},
		"r50k_base":   {31373, 995},
		"p50k_base":   {31373, 995},
		"cl100k_base": {15339, 1917},
		"o200k_base":  {24912, 2375},
	}
	texts := []string{"", "hello world", "We know what we are, but know not what we may be.",
		"héllo  中文字符 🙂🚀\n\n\ttabs   and spaces", "I'm sure you don't"}
	for _, name := range TiktokenEncodings() {
		tk, err := NewTiktoken(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.Encode("hello world"); !reflect.DeepEqual(got, known[name]) {
			t.Errorf("%s: hello world = %v, want %v", name, got, known[name])
		}
		for _, s := range texts {
			ids := tk.Encode(s)
			for _, id := range ids {
				if id < 0 || id >= tk.VocabSize() {
					t.Errorf("%s: id %d outside vocab %d", name, id, tk.VocabSize())
				}
			}
			if got := tk.Decode(ids); got != s {
				t.Errorf("%s: round trip of %q gave %q", name, s, got)
			}
		}
		eos, ok := tk.EOS()
		if !ok {
			t.Fatalf("%s: no EOS", name)
		}
		if got := tk.Decode(append(tk.Encode("end"), eos, -5, 1<<30)); got != "end<|endoftext|>" {
			t.Errorf("%s: decode with EOS and bad ids = %q", name, got)
		}
	}
	if _, err := NewTiktoken("nope"); err == nil {
		t.Error("unknown encoding accepted")
	}
}
