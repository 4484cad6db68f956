package data

import (
	"slices"
	"strings"
	"testing"
)

func TestTokenBufferOverlap(t *testing.T) {
	// Uneven chunks of the stream 0..99; batch 2 × seq_len 5 uses 11 tokens and advances by 10.
	stream := arange(100)
	chunks := [][]int32{stream[:3], stream[3:3], stream[3:40], stream[40:41], stream[41:]}
	tb, err := NewTokenBuffer(SliceStream(chunks), 2, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	var batches []Batch
	for {
		b, ok := tb.Next()
		if !ok {
			break
		}
		batches = append(batches, b)
	}
	// Batches start at 0, 10, ..., 80 (the batch at 90 would need tokens up to 100): 9 batches.
	if len(batches) != 9 {
		t.Fatalf("%d batches, want 9", len(batches))
	}
	for k, b := range batches {
		x, y := b.X.Int32s(), b.Y.Int32s()
		if !slices.Equal(x, stream[10*k:10*k+10]) || !slices.Equal(y, stream[10*k+1:10*k+11]) {
			t.Fatalf("batch %d: X=%v Y=%v", k, x, y)
		}
		if k > 0 {
			prevY := batches[k-1].Y.Int32s()
			if prevY[len(prevY)-1] != x[0] {
				t.Errorf("batch %d: first input %d is not the previous batch's last target %d", k, x[0], prevY[len(prevY)-1])
			}
		}
		if got := b.X.Shape(); got[0] != 2 || got[1] != 5 {
			t.Fatalf("shape %v", got)
		}
	}
	if tb.Buffered() != 10 {
		t.Errorf("%d tokens left in the buffer, want 10", tb.Buffered())
	}
}

func TestTokenBufferMaxBatches(t *testing.T) {
	tb, _ := NewTokenBuffer(SliceStream([][]int32{arange(1000)}), 1, 4, 3)
	n := 0
	for {
		if _, ok := tb.Next(); !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d batches, want 3", n)
	}
	if _, err := NewTokenBuffer(nil, 1, 4, -1); err == nil {
		t.Error("negative max batches accepted")
	}
}

// byteEncoder maps each byte to its value: a stand-in tokenizer for stream tests.
type byteEncoder struct{}

func (byteEncoder) Encode(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}

func TestTextStreamSkipsBlank(t *testing.T) {
	texts := []string{"ab", "", "  \n\t", "cd"}
	i := 0
	next := func() (string, bool) {
		if i >= len(texts) {
			return "", false
		}
		i++
		return texts[i-1], true
	}
	var got []string
	s := TextStream(next, byteEncoder{})
	for {
		ids, ok := s()
		if !ok {
			break
		}
		var sb strings.Builder
		for _, v := range ids {
			sb.WriteByte(byte(v))
		}
		got = append(got, sb.String())
	}
	if !slices.Equal(got, []string{"ab", "cd"}) {
		t.Errorf("got %q", got)
	}
}
