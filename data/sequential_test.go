package data

import (
	"slices"
	"strings"
	"testing"
)

func TestSequentialEpoch(t *testing.T) {
	// 50 tokens, seq_len 4: (50-1)/4 = 12 sequences; batch 5 → 2 batches, 2 sequences dropped.
	tokens := arange(50)
	src, err := Sequential(tokens, 5, 4)
	if err != nil {
		t.Fatal(err)
	}
	if src.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", src.Len())
	}
	var starts []int
	for {
		b, ok := src.Next()
		if !ok {
			break
		}
		starts = append(starts, checkWindows(t, tokens, b, 5, 4)...)
	}
	want := []int{0, 4, 8, 12, 16, 20, 24, 28, 32, 36}
	if !slices.Equal(starts, want) {
		t.Fatalf("starts %v, want %v", starts, want)
	}
	if _, ok := src.Next(); ok {
		t.Error("Next succeeded after the epoch")
	}
	src.Reset()
	b, ok := src.Next()
	if !ok || b.X.Int32s()[0] != 0 {
		t.Error("Reset did not rewind to the first batch")
	}
}

func TestSequentialBatchCounts(t *testing.T) {
	for _, c := range []struct{ n, b, l, want int }{
		{9, 2, 4, 1},    // exactly 2 sequences: the last target is token 8
		{101, 4, 10, 2}, // 10 sequences → 2 batches
		{100, 3, 11, 3}, // 9 sequences → 3 batches
		{1000, 1, 1, 999},
	} {
		src, err := Sequential(arange(c.n), c.b, c.l)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		got := 0
		for {
			if _, ok := src.Next(); !ok {
				break
			}
			got++
		}
		if got != c.want || src.Len() != c.want {
			t.Errorf("%+v: %d batches (Len %d), want %d", c, got, src.Len(), c.want)
		}
	}
}

func TestSequentialNotEnoughData(t *testing.T) {
	_, err := Sequential(arange(8), 2, 4) // (8-1)/4 = 1 sequence
	if err == nil || !strings.Contains(err.Error(), "not enough data for batch_size=2: only 1 sequences") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Sequential(nil, 1, 4); err == nil || !strings.Contains(err.Error(), "only 0 sequences") {
		t.Fatalf("empty stream: err = %v", err)
	}
}

func TestSequentialShuffle(t *testing.T) {
	tokens := arange(401) // 100 sequences of 4
	collect := func(opts ...SequentialOption) []int {
		src, err := Sequential(tokens, 10, 4, opts...)
		if err != nil {
			t.Fatal(err)
		}
		var starts []int
		for {
			b, ok := src.Next()
			if !ok {
				return starts
			}
			starts = append(starts, checkWindows(t, tokens, b, 10, 4)...)
		}
	}
	plain, s1, s1b, s2 := collect(), collect(Shuffle(1)), collect(Shuffle(1)), collect(Shuffle(2))
	if slices.Equal(plain, s1) || slices.Equal(s1, s2) {
		t.Error("shuffled order equals another order")
	}
	if !slices.Equal(s1, s1b) {
		t.Error("same shuffle seed gave different orders")
	}
	sorted := slices.Clone(s1)
	slices.Sort(sorted)
	if !slices.Equal(sorted, plain) {
		t.Error("shuffled epoch does not cover every sequence exactly once")
	}
}

func TestSequentialResume(t *testing.T) {
	tokens := arange(401)
	ref, _ := Sequential(tokens, 3, 4, Shuffle(9))
	ref.Next()
	ref.Next()
	state := ref.State()
	res, _ := Sequential(tokens, 3, 4)
	if err := res.Restore(state); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		want, ok1 := ref.Next()
		got, ok2 := res.Next()
		if ok1 != ok2 {
			t.Fatalf("after %d batches: resumed source ok=%v, reference ok=%v", n, ok2, ok1)
		}
		if !ok1 {
			break
		}
		if !sameBatch(got, want) {
			t.Fatalf("resumed batch %d differs", n)
		}
		n++
	}
	if n != 33-2 {
		t.Errorf("resumed for %d batches, want 31", n)
	}
	other, _ := Sequential(arange(402), 3, 4)
	if err := other.Restore(state); err == nil {
		t.Error("restore over a different token count accepted")
	}
}
