package cpu

import "testing"

// Known-answer vectors of Threefry-2x32 from the Random123 distribution (tests/kat_vectors):
// rounds, counter (2 words), key (2 words), result (2 words).
var threefryKAT = []struct {
	rounds       int
	c0, c1       uint32
	k0, k1       uint32
	want0, want1 uint32
}{
	{13, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x9d1c5ec6, 0x8bd50731},
	{13, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xfd36d048, 0x2d17272c},
	{13, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xba3e4725, 0xf27d669e},
	{20, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x6b200159, 0x99ba4efe},
	{20, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x1cb996fc, 0xbb002be7},
	{20, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xc4923a9c, 0x483df7a0},
	{32, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0xcee3d47e, 0xa23dfd5c},
	{32, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x6e2fe0d0, 0xb1b76f82},
	{32, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xe2827716, 0xc3c05cdf},
}

func TestThreefryKnownAnswers(t *testing.T) {
	for _, v := range threefryKAT {
		y0, y1 := threefry2x32(v.k0, v.k1, v.c0, v.c1, v.rounds)
		if y0 != v.want0 || y1 != v.want1 {
			t.Errorf("threefry2x32-%d(ctr %08x %08x, key %08x %08x) = %08x %08x, want %08x %08x",
				v.rounds, v.c0, v.c1, v.k0, v.k1, y0, y1, v.want0, v.want1)
		}
		if v.rounds == 20 {
			y0, y1 = threefry20(v.k0, v.k1, v.c0, v.c1)
			if y0 != v.want0 || y1 != v.want1 {
				t.Errorf("threefry20(ctr %08x %08x, key %08x %08x) = %08x %08x, want %08x %08x",
					v.c0, v.c1, v.k0, v.k1, y0, y1, v.want0, v.want1)
			}
		}
	}
}

func TestRandomBitsStream(t *testing.T) {
	// Element i depends only on the key and i: a longer draw extends a shorter one, whatever the
	// parallel split, and pair p is the encryption of counter p.
	long := make([]uint32, 100001)
	randomBits(long, 7, 11)
	short := make([]uint32, 5)
	randomBits(short, 7, 11)
	for i, v := range short {
		if long[i] != v {
			t.Fatalf("element %d: %08x in a long draw, %08x in a short one", i, long[i], v)
		}
	}
	for _, p := range []int{0, 1, 777, 49999} {
		y0, y1 := threefry2x32(7, 11, uint32(p), 0, 20)
		if long[2*p] != y0 || long[2*p+1] != y1 {
			t.Fatalf("pair %d = %08x %08x, want %08x %08x", p, long[2*p], long[2*p+1], y0, y1)
		}
	}
	randomBits(nil, 1, 2) // zero size
}
