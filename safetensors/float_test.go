package safetensors

import (
	"math"
	"math/rand/v2"
	"testing"
)

// roundSlow rounds x to a binary float with prec significant bits, a
// smallest exponent of the least significant bit minLSB (the subnormal
// unit), and a largest finite value maxFinite, ties to even, using float64
// arithmetic only (no bit tricks). It is the reference the fast conversions
// are held to; both narrow formats are exact in float64.
func roundSlow(x float64, prec, minLSB int, maxFinite float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	_, e := math.Frexp(x) // |x| = f·2^e, f in [0.5, 1): the leading bit is 2^(e-1)
	lsb := max(e-prec, minLSB)
	q := math.Ldexp(math.RoundToEven(math.Ldexp(x, -lsb)), lsb)
	// IEEE overflow: round as if the exponent range were unbounded, and go
	// to infinity if that exceeds the largest finite value.
	if math.Abs(q) > maxFinite {
		return math.Copysign(math.Inf(1), x)
	}
	return q
}

const (
	maxBF16 = 0x1.fep127 // 0x7f7f
	maxF16  = 65504
)

func sameFloat(a, b float32) bool {
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) {
		return math.IsNaN(float64(a)) && math.IsNaN(float64(b))
	}
	return math.Float32bits(a) == math.Float32bits(b) // distinguishes -0 from +0
}

// float32Samples returns edge cases and random bit patterns, which cover
// every exponent including subnormals, infinities and NaNs.
func float32Samples() []float32 {
	s := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.1, 1.0 / 3, 65504, 65519.99, 65520, 65536,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0x1p-14, 0x1p-24, 0x1p-25,
		0x1.000002p-25, 0x1.8p-25, 0x1.ffep-15, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.Float32frombits(0x7f7fffff), math.Float32frombits(0x7f7f8000), math.Float32frombits(0x7f7f7fff),
		math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000), math.Float32frombits(0x00008000),
		math.Float32frombits(0x807fffff), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc00000)}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		s = append(s, math.Float32frombits(r.Uint32()))
	}
	// Exact ties and near-ties for both formats.
	for range 20000 {
		b := r.Uint32() &^ 0xffff
		s = append(s, math.Float32frombits(b|0x8000), math.Float32frombits(b|0x7fff), math.Float32frombits(b|0x8001))
		h := r.Uint32() &^ 0x1fff
		s = append(s, math.Float32frombits(h|0x1000), math.Float32frombits(h|0x0fff), math.Float32frombits(h|0x1001))
	}
	return s
}

func TestBF16FromFloat32KnownValues(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3f80},
		{-2, 0xc000},
		{0.5, 0x3f00},
		{3.140625, 0x4049},         // exact
		{float32(math.Pi), 0x4049}, // 0x40490fdb rounds down
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, kept bit even: down
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, kept bit odd: up
		{math.Float32frombits(0x3f808001), 0x3f81}, // just above a tie: up
		{math.Float32frombits(0x3f807fff), 0x3f80}, // just below a tie: down
		{math.Float32frombits(0x3fffffff), 0x4000}, // carry into the exponent
		{math.Float32frombits(0x7f7fffff), 0x7f80}, // MaxFloat32 overflows to +Inf
		{math.Float32frombits(0x7f7f7fff), 0x7f7f}, // just below the overflow threshold
		{math.Float32frombits(0x00008000), 0x0000}, // subnormal tie to even zero
		{math.Float32frombits(0x00018000), 0x0002}, // subnormal tie up to even
		{float32(math.Inf(1)), 0x7f80},             //
		{float32(math.Inf(-1)), 0xff80},            //
		{math.Float32frombits(0x7f800001), 0x7fc0}, // signalling NaN with a low payload stays NaN
		{math.Float32frombits(0xffc00000), 0xffc0}, // negative quiet NaN
		{math.Float32frombits(0x7fa10000), 0x7fe1}, // payload kept, quiet bit set
		{math.Float32frombits(0x4b800001), 0x4b80}, // 16777217 -> 16777216
		{math.Float32frombits(0xc2f70000), 0xc2f7}, // -123.5, exact
		{math.Float32frombits(0x3dcccccd), 0x3dcd}, // 0.1
		{math.Float32frombits(0x80000001), 0x8000}, // -smallest subnormal -> -0
		{math.Float32frombits(0x007fffff), 0x0080}, // largest subnormal -> smallest normal
		{math.Float32frombits(0x7effffff), 0x7f00}, //
		{math.Float32frombits(0x477fe000), 0x4780}, // 65504 -> 65536 in bfloat16
		{math.Float32frombits(0x3f7fffff), 0x3f80}, // just below 1 rounds to 1
		{math.Float32frombits(0xbf7f8000), 0xbf80}, // negative tie, kept bit odd: away from zero
		{math.Float32frombits(0xbf7e8000), 0xbf7e}, // negative tie, kept bit even
		{math.Float32frombits(0x00800000), 0x0080}, // smallest normal
		{math.Float32frombits(0x01000000), 0x0100}, //
		{math.Float32frombits(0x3f800000 | 0x7fff), 0x3f80},
	}
	for _, c := range cases {
		if got := BF16FromFloat32(c.in); got != c.want {
			t.Errorf("BF16FromFloat32(%v = %#08x) = %#04x, want %#04x", c.in, math.Float32bits(c.in), got, c.want)
		}
	}
}

func TestBF16AgainstSlowReference(t *testing.T) {
	for _, x := range float32Samples() {
		got := Float32FromBF16(BF16FromFloat32(x))
		want := float32(roundSlow(float64(x), 8, -133, maxBF16))
		if !sameFloat(got, want) {
			t.Fatalf("BF16 of %v (%#08x): got %v (%#04x), want %v", x, math.Float32bits(x), got, BF16FromFloat32(x), want)
		}
	}
}

func TestBF16WideningIsExact(t *testing.T) {
	for h := range 1 << 16 {
		f := Float32FromBF16(uint16(h))
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("Float32FromBF16(%#04x) = %#08x", h, math.Float32bits(f))
		}
		if !math.IsNaN(float64(f)) && BF16FromFloat32(f) != uint16(h) {
			t.Fatalf("BF16 round trip of %#04x gave %#04x", h, BF16FromFloat32(f))
		}
	}
}

func TestF16KnownValues(t *testing.T) {
	cases := []struct {
		bits uint16
		val  float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x7bff, 65504},
		{0x0400, 0x1p-14}, {0x0001, 0x1p-24}, {0x03ff, 0x1.ff8p-15}, {0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))}, {0x3800, 0.5}, {0x4248, 3.140625}, {0x2e66, 0.0999755859375},
	}
	for _, c := range cases {
		if got := Float32FromF16(c.bits); got != c.val {
			t.Errorf("Float32FromF16(%#04x) = %v, want %v", c.bits, got, c.val)
		}
		if got := F16FromFloat32(c.val); got != c.bits {
			t.Errorf("F16FromFloat32(%v) = %#04x, want %#04x", c.val, got, c.bits)
		}
	}
	rounding := []struct {
		in   float32
		want uint16
	}{
		{0.1, 0x2e66},
		{float32(math.Pi), 0x4248},
		{65519.99, 0x7bff},       // below the overflow threshold
		{65520, 0x7c00},          // the threshold itself: a tie that rounds to +Inf
		{1e10, 0x7c00},           //
		{-1e10, 0xfc00},          //
		{0x1p-25, 0x0000},        // a tie between 0 and the smallest subnormal: even
		{0x1.000002p-25, 0x0001}, // just above it
		{0x1.8p-24, 0x0002},      // 1.5 units: tie, rounds to even 2
		{0x1.4p-23, 0x0002},      // 2.5 units: tie, rounds to even 2
		{0x1.ffcp-15, 0x0400},    // largest subnormal plus a half: to the smallest normal
		{float32(math.Copysign(0, -1)), 0x8000},
		{math.SmallestNonzeroFloat32, 0x0000},
		{1 + 0x1p-11, 0x3c00},   // tie above 1: even
		{1 + 3*0x1p-11, 0x3c02}, // tie: odd kept bit rounds up
		{2047.5, 0x6800},        // a tie between 2047 (odd mantissa) and 2048
		{float32(math.NaN()), 0x7e00},
		{math.Float32frombits(0xff800001), 0xfe00},
	}
	for _, c := range rounding {
		if got := F16FromFloat32(c.in); got != c.want {
			t.Errorf("F16FromFloat32(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

func TestF16AgainstSlowReference(t *testing.T) {
	for _, x := range float32Samples() {
		got := Float32FromF16(F16FromFloat32(x))
		want := float32(roundSlow(float64(x), 11, -24, maxF16))
		if !sameFloat(got, want) {
			t.Fatalf("F16 of %v (%#08x): got %v (%#04x), want %v", x, math.Float32bits(x), got, F16FromFloat32(x), want)
		}
	}
}

// TestF16WideningExhaustive checks all 65536 half values against the
// defining formula, and that narrowing them back is the identity.
func TestF16WideningExhaustive(t *testing.T) {
	for h := range 1 << 16 {
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp, mant := (h>>10)&0x1f, h&0x3ff
		var want float64
		switch exp {
		case 0:
			want = sign * math.Ldexp(float64(mant), -24)
		case 0x1f:
			want = math.NaN()
			if mant == 0 {
				want = math.Inf(int(sign))
			}
		default:
			want = sign * math.Ldexp(1+float64(mant)/1024, exp-15)
		}
		got := Float32FromF16(uint16(h))
		if !sameFloat(got, float32(want)) {
			t.Fatalf("Float32FromF16(%#04x) = %v, want %v", h, got, want)
		}
		if math.IsNaN(want) {
			if b := F16FromFloat32(got); b&0x7c00 != 0x7c00 || b&0x3ff == 0 || b&0x8000 != uint16(h)&0x8000 {
				t.Fatalf("NaN %#04x narrowed to %#04x", h, b)
			}
		} else if b := F16FromFloat32(got); b != uint16(h) {
			t.Fatalf("F16 round trip of %#04x gave %#04x", h, b)
		}
	}
}

// TestFP8Exhaustive checks all 256 values of both FP8 formats against the
// defining formulas, plus a few well-known constants.
func TestFP8Exhaustive(t *testing.T) {
	known := []struct {
		b    uint8
		e4m3 float32
		e5m2 float32
	}{
		{0x00, 0, 0}, {0x38, 1, 0x1p-1}, {0x3c, 1.5, 1}, {0x7e, 448, float32(math.NaN())},
		{0x01, 0x1p-9, 0x1p-16}, {0x7b, 0x1.6p8, 57344}, {0x7c, 0x1.8p8, float32(math.Inf(1))},
		{0xb8, -1, -0x1p-1}, {0xfe, -448, float32(math.NaN())}, {0x7f, float32(math.NaN()), float32(math.NaN())},
	}
	for _, k := range known {
		if got := Float32FromF8E4M3(k.b); !sameFloat(got, k.e4m3) {
			t.Errorf("Float32FromF8E4M3(%#02x) = %v, want %v", k.b, got, k.e4m3)
		}
		if got := Float32FromF8E5M2(k.b); !sameFloat(got, k.e5m2) {
			t.Errorf("Float32FromF8E5M2(%#02x) = %v, want %v", k.b, got, k.e5m2)
		}
	}
	for b := range 256 {
		sign := 1.0
		if b&0x80 != 0 {
			sign = -1
		}
		e4, m3 := (b>>3)&0xf, b&7
		var want float64
		switch {
		case e4 == 0xf && m3 == 7:
			want = math.NaN()
		case e4 == 0:
			want = sign * math.Ldexp(float64(m3)/8, -6)
		default:
			want = sign * math.Ldexp(1+float64(m3)/8, e4-7)
		}
		if got := Float32FromF8E4M3(uint8(b)); !sameFloat(got, float32(want)) {
			t.Errorf("Float32FromF8E4M3(%#02x) = %v, want %v", b, got, want)
		}
		e5, m2 := (b>>2)&0x1f, b&3
		switch {
		case e5 == 0x1f && m2 == 0:
			want = math.Inf(int(sign))
		case e5 == 0x1f:
			want = math.NaN()
		case e5 == 0:
			want = sign * math.Ldexp(float64(m2)/4, -14)
		default:
			want = sign * math.Ldexp(1+float64(m2)/4, e5-15)
		}
		if got := Float32FromF8E5M2(uint8(b)); !sameFloat(got, float32(want)) {
			t.Errorf("Float32FromF8E5M2(%#02x) = %v, want %v", b, got, want)
		}
	}
}
