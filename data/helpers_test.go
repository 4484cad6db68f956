package data

import (
	"testing"

	"github.com/lmxlab/lmxlab/mx"
)

// arange returns the stream 0, 1, ..., n-1, so a window's first token is its start.
func arange(n int) []int32 {
	t := make([]int32, n)
	for i := range t {
		t[i] = int32(i)
	}
	return t
}

// rows reads a (B, L) int32 array as B rows.
func rows(t *testing.T, a *mx.Array) [][]int32 {
	t.Helper()
	if a.DType() != mx.Int32 || a.NDim() != 2 {
		t.Fatalf("batch array is %s of shape %v, want int32 (B, L)", a.DType(), a.Shape())
	}
	v := a.Int32s()
	b, l := a.Dim(0), a.Dim(1)
	out := make([][]int32, b)
	for i := range out {
		out[i] = v[i*l : (i+1)*l]
	}
	return out
}

// checkWindows checks that every row of batch is a window of tokens with Y = X shifted by one,
// and returns the window starts.
func checkWindows(t *testing.T, tokens []int32, batch Batch, b, l int) []int {
	t.Helper()
	if got := batch.X.Shape(); len(got) != 2 || got[0] != b || got[1] != l {
		t.Fatalf("X shape %v, want [%d %d]", got, b, l)
	}
	if got := batch.Y.Shape(); len(got) != 2 || got[0] != b || got[1] != l {
		t.Fatalf("Y shape %v, want [%d %d]", got, b, l)
	}
	xs, ys := rows(t, batch.X), rows(t, batch.Y)
	starts := make([]int, b)
	for r := range xs {
		s := findWindow(tokens, xs[r], ys[r])
		if s < 0 {
			t.Fatalf("row %d: X=%v Y=%v is not a shifted window of the stream", r, xs[r], ys[r])
		}
		starts[r] = s
	}
	return starts
}

// findWindow returns the start s with tokens[s:s+L] == x and tokens[s+1:s+L+1] == y, or -1.
func findWindow(tokens, x, y []int32) int {
	l := len(x)
outer:
	for s := 0; s+l+1 <= len(tokens); s++ {
		for i := range l {
			if tokens[s+i] != x[i] || tokens[s+1+i] != y[i] {
				continue outer
			}
		}
		return s
	}
	return -1
}

// sameBatch reports whether two batches hold the same values.
func sameBatch(a, b Batch) bool {
	return equalInt32(a.X.Int32s(), b.X.Int32s()) && equalInt32(a.Y.Int32s(), b.Y.Int32s())
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
