package safetensors

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestTypedRoundTrips(t *testing.T) {
	f32 := []float32{0, -1.5, 3.25, float32(math.Inf(1)), math.SmallestNonzeroFloat32, math.MaxFloat32}
	if got, err := FromFloat32s("x", []int{2, 3}, f32).Float32s(); err != nil || !slices.Equal(got, f32) {
		t.Errorf("F32 round trip: %v, %v", got, err)
	}
	f64 := []float64{0, -1.5, math.Pi, 1e300}
	if got, err := FromFloat64s("x", []int{4}, f64).Float64s(); err != nil || !slices.Equal(got, f64) {
		t.Errorf("F64 round trip: %v, %v", got, err)
	}
	if got, err := FromFloat64s("x", []int{4}, f64).Float32s(); err != nil ||
		!slices.Equal(got, []float32{0, -1.5, math.Pi, float32(math.Inf(1))}) {
		t.Errorf("F64 as float32: %v, %v", got, err)
	}
	i32 := []int32{0, -1, math.MaxInt32, math.MinInt32}
	if got, err := FromInt32s("x", []int{2, 2}, i32).Int32s(); err != nil || !slices.Equal(got, i32) {
		t.Errorf("I32 round trip: %v, %v", got, err)
	}
	i64 := []int64{0, -1, math.MaxInt64, math.MinInt64}
	if got, err := FromInt64s("x", []int{4}, i64).Int64s(); err != nil || !slices.Equal(got, i64) {
		t.Errorf("I64 round trip: %v, %v", got, err)
	}
	bools := []bool{true, false, true}
	if got, err := FromBools("x", []int{3}, bools).Bools(); err != nil || !slices.Equal(got, bools) {
		t.Errorf("BOOL round trip: %v, %v", got, err)
	}
	u8 := []byte{0, 7, 255}
	if got, err := FromUint8s("x", []int{3}, u8).Int64s(); err != nil || !slices.Equal(got, []int64{0, 7, 255}) {
		t.Errorf("U8 as int64: %v, %v", got, err)
	}
	bits := []uint16{0x3f80, 0xc000, 0x7f80}
	bf := FromBF16Bits("x", []int{3}, bits)
	if got, err := bf.BF16Bits(); err != nil || !slices.Equal(got, bits) {
		t.Errorf("BF16 bits round trip: %v, %v", got, err)
	}
	if got, err := bf.Float32s(); err != nil || !slices.Equal(got, []float32{1, -2, float32(math.Inf(1))}) {
		t.Errorf("BF16 as float32: %v, %v", got, err)
	}
	hbits := []uint16{0x3c00, 0xc000, 0x0001}
	h := FromF16Bits("x", []int{3}, hbits)
	if got, err := h.F16Bits(); err != nil || !slices.Equal(got, hbits) {
		t.Errorf("F16 bits round trip: %v, %v", got, err)
	}
	if got, err := h.Float64s(); err != nil || !slices.Equal(got, []float64{1, -2, 0x1p-24}) {
		t.Errorf("F16 as float64: %v, %v", got, err)
	}
}

// TestIntegerWidening decodes every integer dtype from hand-written
// little-endian bytes.
func TestIntegerWidening(t *testing.T) {
	cases := []struct {
		dtype DType
		data  []byte
		want  []int64
	}{
		{Bool, []byte{0, 1}, []int64{0, 1}},
		{U8, []byte{0x00, 0xff}, []int64{0, 255}},
		{I8, []byte{0x7f, 0x80}, []int64{127, -128}},
		{I16, []byte{0x34, 0x12, 0x00, 0x80}, []int64{0x1234, -32768}},
		{U16, []byte{0x34, 0x12, 0x00, 0x80}, []int64{0x1234, 32768}},
		{I32, []byte{0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff}, []int64{0x12345678, -1}},
		{U32, []byte{0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff}, []int64{0x12345678, 0xffffffff}},
		{I64, []byte{1, 0, 0, 0, 0, 0, 0, 0x80, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []int64{math.MinInt64 + 1, -2}},
		{U64, []byte{1, 0, 0, 0, 0, 0, 0, 0x7f, 2, 0, 0, 0, 0, 0, 0, 0}, []int64{0x7f00000000000001, 2}},
	}
	for _, c := range cases {
		x := Tensor{Name: "x", DType: c.dtype, Shape: []int{2}, Data: c.data}
		got, err := x.Int64s()
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: Int64s() = %v, %v; want %v", c.dtype, got, err, c.want)
		}
	}
}

func TestTypedAccessorErrors(t *testing.T) {
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"int tensor as float", func() error { _, err := FromInt32s("ids", []int{1}, []int32{1}).Float32s(); return err },
			`tensor "ids": cannot read I32 as float32`},
		{"float tensor as int", func() error { _, err := FromFloat32s("w", []int{1}, []float32{1}).Int64s(); return err },
			`tensor "w": cannot read F32 as int64`},
		{"U64 too big for int64", func() error {
			_, err := Tensor{Name: "u", DType: U64, Shape: []int{1}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0x80}}.Int64s()
			return err
		}, `tensor "u": element 0 = 9223372036854775808 does not fit in int64`},
		{"I64 too big for int32", func() error { _, err := FromInt64s("p", []int{2}, []int64{1, 1 << 40}).Int32s(); return err },
			`tensor "p": element 1 = 1099511627776 does not fit in int32`},
		{"U32 too big for int32", func() error {
			_, err := Tensor{Name: "u", DType: U32, Shape: []int{1}, Data: []byte{0, 0, 0, 0x80}}.Int32s()
			return err
		}, `tensor "u": element 0 = 2147483648 does not fit in int32`},
		{"shape mismatch", func() error { _, err := FromFloat32s("w", []int{2, 2}, []float32{1}).Float32s(); return err },
			`tensor "w": has 4 bytes of data, but shape [2 2] of F32 needs 16`},
		{"BF16 bits of F16", func() error { _, err := FromF16Bits("h", nil, []uint16{1}).BF16Bits(); return err },
			`tensor "h": cannot read F16 as BF16 bits`},
		{"bools of U8", func() error { _, err := FromUint8s("m", []int{1}, []byte{1}).Bools(); return err },
			`tensor "m": cannot read U8 as bool`},
		{"convert to int", func() error { _, err := FromFloat32s("w", []int{1}, []float32{1}).Convert(I32); return err },
			`tensor "w": cannot convert to I32`},
		{"convert from int", func() error { _, err := FromInt32s("ids", []int{1}, []int32{1}).Convert(BF16); return err },
			`tensor "ids": cannot read I32 as float32`},
	}
	for _, c := range cases {
		err := c.call()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestConvert(t *testing.T) {
	src := FromFloat32s("w", []int{2, 2}, []float32{1, 0.1, -65520, math.Float32frombits(0x3f818000)})
	bf, err := src.Convert(BF16)
	if err != nil {
		t.Fatal(err)
	}
	if bits, _ := bf.BF16Bits(); bf.Name != "w" || !slices.Equal(bf.Shape, []int{2, 2}) ||
		!slices.Equal(bits, []uint16{0x3f80, 0x3dcd, 0xc780, 0x3f82}) {
		t.Errorf("Convert(BF16) = %s %v %x", bf.Name, bf.Shape, bits)
	}
	h, err := src.Convert(F16)
	if err != nil {
		t.Fatal(err)
	}
	if bits, _ := h.F16Bits(); !slices.Equal(bits, []uint16{0x3c00, 0x2e66, 0xfc00, 0x3c0c}) {
		t.Errorf("Convert(F16) = %x", bits)
	}
	back, err := h.Convert(F32)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := back.Float32s(); !slices.Equal(v, []float32{1, 0.0999755859375, float32(math.Inf(-1)), 1.01171875}) {
		t.Errorf("F16 -> F32 = %v", v)
	}
	d, err := bf.Convert(F64)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Float64s(); d.DType != F64 || v[0] != 1 || v[3] != 1.015625 {
		t.Errorf("BF16 -> F64 = %s %v", d.DType, v)
	}
	// Convert copies: changing the result leaves the source alone.
	c, _ := src.Convert(F32)
	c.Data[0] ^= 0xff
	c.Shape[0] = 7
	if v, _ := src.Float32s(); v[0] != 1 || src.Shape[0] != 2 {
		t.Error("Convert aliases its source")
	}
}

func TestNumElements(t *testing.T) {
	for _, c := range []struct {
		shape []int
		want  int
	}{{nil, 1}, {[]int{}, 1}, {[]int{0}, 0}, {[]int{2, 3, 4}, 24}, {[]int{5, 0, 3}, 0}} {
		if got := (Tensor{Shape: c.shape}).NumElements(); got != c.want {
			t.Errorf("NumElements(%v) = %d, want %d", c.shape, got, c.want)
		}
	}
}
