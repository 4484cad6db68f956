package data

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSplitTokens(t *testing.T) {
	tokens := arange(100)
	train, val, err := SplitTokens(tokens, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 90 || len(val) != 10 || train[89] != 89 || val[0] != 90 {
		t.Fatalf("split 100 × 0.1: train %d, val %d", len(train), len(val))
	}
	// Appending to train must not clobber validation tokens.
	_ = append(train, -1)
	if val[0] != 90 {
		t.Error("append to train overwrote val")
	}
	train, val, err = SplitTokens(tokens, 0)
	if err != nil || len(train) != 100 || len(val) != 0 {
		t.Errorf("fraction 0: %d/%d, %v", len(train), len(val), err)
	}
	train, val, err = SplitTokens(arange(7), 0.5) // floor(3.5) = 3 validation tokens
	if err != nil || len(train) != 4 || len(val) != 3 {
		t.Errorf("7 × 0.5: %d/%d, %v", len(train), len(val), err)
	}
	for _, c := range []struct {
		n    int
		frac float64
	}{
		{10, 0.1},   // one validation token
		{1, 0},      // one training token
		{3, 0.9},    // 2 val, 1 train
		{100, 1},    // fraction out of range
		{100, -0.1}, // fraction out of range
	} {
		if _, _, err := SplitTokens(arange(c.n), c.frac); err == nil {
			t.Errorf("SplitTokens(%d tokens, %v) succeeded", c.n, c.frac)
		}
	}
}

func TestLoadText(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(p, []byte("héllo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadText(p)
	if err != nil || s != "héllo\n" {
		t.Fatalf("LoadText = %q, %v", s, err)
	}
	bad := filepath.Join(dir, "b.txt")
	os.WriteFile(bad, []byte{0xff, 0xfe}, 0o644)
	if _, err := LoadText(bad); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
	if _, err := LoadText(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestInt32sAndEncode(t *testing.T) {
	if got := Encode(byteEncoder{}, "AB"); !equalInt32(got, []int32{65, 66}) {
		t.Errorf("Encode = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Int32s accepted 1<<40")
		}
	}()
	Int32s([]int{1 << 40})
}
