package safetensors

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the reader. It must never panic, and
// whatever it accepts must be self-consistent: every tensor readable with
// the byte size its shape implies, and writing the tensors back out and
// reading that must give the same tensors and metadata.
//
//	go test -fuzz=FuzzRead -fuzztime=60s ./safetensors
func FuzzRead(f *testing.F) {
	var valid bytes.Buffer
	ts := []Tensor{
		FromFloat32s("w", []int{2, 2}, []float32{1, 2, 3, 4}),
		FromBF16Bits("b", []int{3}, []uint16{0x3f80, 0, 0x7f80}),
		FromInt64s("step", nil, []int64{9}),
		FromBools("mask", []int{2}, []bool{true, false}),
		FromFloat32s("empty", []int{0}, nil),
	}
	if err := Write(&valid, ts, map[string]string{"format": "pt"}); err != nil {
		f.Fatal(err)
	}
	good := valid.Bytes()
	f.Add(good)
	f.Add(good[:7])
	f.Add(good[:len(good)-1])
	f.Add(append(slices.Clone(good), 0))
	hdr := int(binary.LittleEndian.Uint64(good))
	f.Add(slices.Concat(good[:8], good[8:8+hdr-1]))
	for _, n := range []uint64{0, 1, uint64(hdr) - 1, uint64(hdr) + 1, MaxHeaderSize + 1, 1 << 63, ^uint64(0)} {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint64(b, n)
		f.Add(b)
	}
	// Flip a byte in every part of the header.
	for i := 8; i < 8+hdr; i += 7 {
		b := slices.Clone(good)
		b[i] ^= 0x5a
		f.Add(b)
	}
	for _, c := range corruptCases {
		f.Add(c.file)
	}
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}}`, make([]byte, 4)))

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			return
		}
		all, err := file.Tensors()
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != file.Len() {
			t.Fatalf("Tensors() returned %d of %d", len(all), file.Len())
		}
		for _, x := range all {
			if err := x.Validate(); err != nil {
				t.Fatalf("accepted an invalid tensor: %v", err)
			}
			if x.DType.IsFloat() {
				if _, err := x.Float32s(); err != nil {
					t.Fatal(err)
				}
			}
		}
		var out bytes.Buffer
		if err := Write(&out, all, file.Metadata); err != nil {
			t.Fatalf("cannot write back what was read: %v", err)
		}
		again, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("cannot read back what was written: %v", err)
		}
		if again.Len() != file.Len() || len(again.Metadata) != len(file.Metadata) {
			t.Fatalf("round trip changed the file: %d tensors, %d metadata -> %d, %d",
				file.Len(), len(file.Metadata), again.Len(), len(again.Metadata))
		}
		for k, v := range file.Metadata {
			if again.Metadata[k] != v {
				t.Fatalf("metadata %q: %q -> %q", k, v, again.Metadata[k])
			}
		}
		for _, x := range all {
			y, err := again.Tensor(x.Name)
			if err != nil {
				t.Fatal(err)
			}
			if y.DType != x.DType || !slices.Equal(y.Shape, x.Shape) || !bytes.Equal(y.Data, x.Data) {
				t.Fatalf("tensor %q changed in the round trip", x.Name)
			}
		}
	})
}
