package data

import (
	"strconv"
	"strings"
	"testing"
)

// checkArithmetic parses every line of text as "a<op>b=c" and checks the result.
func checkArithmetic(t *testing.T, text string) map[byte]int {
	t.Helper()
	if !strings.HasSuffix(text, "\n") {
		t.Fatal("text does not end in a newline")
	}
	ops := map[byte]int{}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		lhs, rhs, ok := strings.Cut(line, "=")
		k := strings.IndexAny(lhs, "+-*")
		if !ok || k <= 0 {
			t.Fatalf("line %d %q does not parse", i, line)
		}
		a, err1 := strconv.Atoi(lhs[:k])
		b, err2 := strconv.Atoi(lhs[k+1:])
		c, err3 := strconv.Atoi(rhs)
		if err1 != nil || err2 != nil || err3 != nil || a < 0 || b < 0 || c < 0 || a > 99 || b > 99 {
			t.Fatalf("line %d %q does not parse as small numbers", i, line)
		}
		var want int
		switch lhs[k] {
		case '+':
			want = a + b
		case '-':
			want = a - b
		case '*':
			want = a * b
			if a > 12 {
				t.Fatalf("line %d %q: multiplier above 12", i, line)
			}
		}
		if c != want {
			t.Fatalf("line %d %q: wrong result", i, line)
		}
		ops[lhs[k]]++
	}
	return ops
}

func TestArithmetic(t *testing.T) {
	a := Arithmetic(3, 2000)
	if a != Arithmetic(3, 2000) {
		t.Fatal("same seed, different text")
	}
	if a == Arithmetic(4, 2000) {
		t.Fatal("seeds 3 and 4 gave the same text")
	}
	if !strings.HasPrefix(Arithmetic(3, 3000), a) {
		t.Error("a longer run with the same seed does not extend the shorter one")
	}
	ops := checkArithmetic(t, a)
	if ops['+'] < 600 || ops['-'] < 600 || ops['*'] < 250 {
		t.Errorf("operator mix %v far from 40/40/20", ops)
	}
	if Arithmetic(1, 0) != "" {
		t.Error("n = 0 gave text")
	}
}

func TestDefaultCorpus(t *testing.T) {
	c := DefaultCorpus()
	if len(c) < 200_000 || len(c) > 500_000 {
		t.Fatalf("default corpus has %d bytes", len(c))
	}
	if c != Arithmetic(DefaultCorpusSeed, DefaultCorpusLines) {
		t.Fatal("DefaultCorpus is not Arithmetic(DefaultCorpusSeed, DefaultCorpusLines)")
	}
	if !strings.HasPrefix(c, "4+73=77\n14-11=3\n71+50=121\n") {
		t.Errorf("default corpus changed: starts %q", c[:40])
	}
	if n := strings.Count(c, "\n"); n != DefaultCorpusLines {
		t.Errorf("%d lines", n)
	}
	checkArithmetic(t, c)
}

func TestTextNamedCorpora(t *testing.T) {
	if s, err := Text("arithmetic"); err != nil || s != DefaultCorpus() {
		t.Errorf("Text(arithmetic): %v", err)
	}
	if s, err := Text("sample"); err != nil || !strings.HasPrefix(s, "Shall I compare thee") {
		t.Errorf("Text(sample) = %.30q, %v", s, err)
	}
}
