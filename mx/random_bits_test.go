package mx

import "testing"

func TestRandomBits(t *testing.T) {
	key := FromSlice([]uint32{0, 0}, 2)
	// Pair 0 is Threefry-2x32-20 of counter (0, 0): the Random123 known answer for a zero key.
	got := RandomBits(key, []int{2}).Uint32s()
	if got[0] != 0x6b200159 || got[1] != 0x99ba4efe {
		t.Fatalf("RandomBits(key 0 0) = %08x %08x, want 6b200159 99ba4efe", got[0], got[1])
	}
	key = FromSlice([]uint32{0x13198a2e, 0x03707344}, 2)
	a := RandomBits(key, []int{3, 7}).Uint32s()
	b := RandomBits(key, []int{21}).Uint32s()
	c := RandomBits(key, []int{5}).Uint32s()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("element %d differs between shapes [3 7] and [21]", i)
		}
	}
	for i := range c {
		if c[i] != a[i] {
			t.Fatalf("element %d of a shorter draw differs", i)
		}
	}
	other := RandomBits(FromSlice([]uint32{0x13198a2e, 0x03707345}, 2), []int{21}).Uint32s()
	same := 0
	for i := range other {
		if other[i] == a[i] {
			same++
		}
	}
	if same > 1 {
		t.Fatalf("keys one bit apart share %d of 21 words", same)
	}
	r := RandomBits(key, []int{4, 0})
	assertShape(t, "zero-size", r, 4, 0)
	if r.DType() != Uint32 || len(r.Uint32s()) != 0 {
		t.Fatalf("zero-size draw: %s %v", r.DType(), r.Uint32s())
	}
	s := RandomBits(key, nil)
	assertShape(t, "scalar", s)
	if s.Uint32s()[0] != a[0] {
		t.Fatalf("scalar draw %08x, want %08x", s.Uint32s()[0], a[0])
	}
	mustPanic(t, func() { RandomBits(FromSlice([]int32{1, 2}, 2), []int{3}) }, "mx.RandomBits", "int32", "[2]")
	mustPanic(t, func() { RandomBits(FromSlice([]uint32{1, 2, 3}, 3), []int{3}) }, "mx.RandomBits", "[3]")
	mustPanic(t, func() { RandomBits(key, []int{2, -1}) }, "mx.RandomBits", "[2 -1]")
}
