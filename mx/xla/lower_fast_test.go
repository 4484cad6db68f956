package xla

import "testing"

func TestLSEChunk(t *testing.T) {
	for _, c := range []struct{ v, want int }{
		{65, 0}, {4096, 0}, {5000, 1000}, {50304, 384}, {50257, 0}, {32000, 1000}, {151936, 128}, {4099 * 2, 0},
	} {
		if got := lseChunk(c.v); got != c.want {
			t.Errorf("lseChunk(%d) = %d, want %d", c.v, got, c.want)
		}
	}
}
