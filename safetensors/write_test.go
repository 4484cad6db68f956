package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allDTypeTensors returns one tensor of every dtype with random bytes,
// plus a scalar, an empty tensor and odd names.
func allDTypeTensors() []Tensor {
	r := rand.New(rand.NewPCG(1, 2))
	var ts []Tensor
	for i, d := range dtypes {
		shape := []int{1 + i%3, 3}
		data := make([]byte, shape[0]*shape[1]*d.size)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		ts = append(ts, Tensor{Name: "t." + string(d.dtype), DType: d.dtype, Shape: shape, Data: data})
	}
	ts = append(ts,
		FromFloat64s("scalar", nil, []float64{3.25}),
		FromFloat32s("empty", []int{0, 5}, nil),
		FromUint8s("odd \"name\"\n\\ é 中", []int{3}, []byte{1, 2, 3}),
	)
	return ts
}

func tensorsEqual(t *testing.T, got, want Tensor) {
	t.Helper()
	if got.Name != want.Name || got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) ||
		!bytes.Equal(got.Data, want.Data) {
		t.Errorf("tensor %q: got %s %v (%d bytes), want %q %s %v (%d bytes)",
			got.Name, got.DType, got.Shape, len(got.Data), want.Name, want.DType, want.Shape, len(want.Data))
	}
}

func TestRoundTripAllDTypes(t *testing.T) {
	ts := allDTypeTensors()
	meta := map[string]string{"format": "pt", "note": "a \"quoted\"\tvalue", "": "empty key"}
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "all.safetensors")
	if err := WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, buf.Bytes()) {
		t.Fatal("WriteFile and Write produced different bytes")
	}

	parsed, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	for _, f := range []*File{parsed, read, lazy} {
		if f.Len() != len(ts) {
			t.Fatalf("Len() = %d, want %d", f.Len(), len(ts))
		}
		if len(f.Metadata) != len(meta) {
			t.Errorf("Metadata = %q, want %q", f.Metadata, meta)
		}
		for k, v := range meta {
			if f.Metadata[k] != v {
				t.Errorf("Metadata[%q] = %q, want %q", k, f.Metadata[k], v)
			}
		}
		for _, want := range ts {
			got, err := f.Tensor(want.Name)
			if err != nil {
				t.Fatal(err)
			}
			tensorsEqual(t, got, want)
			info, ok := f.Info(want.Name)
			if !ok || info.DType != want.DType || !slices.Equal(info.Shape, want.Shape) {
				t.Errorf("Info(%q) = %+v, %v", want.Name, info, ok)
			}
			// Every tensor is aligned to its element size within the file.
			start := 8 + int64(binary.LittleEndian.Uint64(buf.Bytes())) + info.DataOffsets[0]
			if start%int64(want.DType.Size()) != 0 {
				t.Errorf("tensor %q (%s) starts at file offset %d, not aligned", want.Name, want.DType, start)
			}
		}
		all, err := f.Tensors()
		if err != nil || len(all) != len(ts) {
			t.Fatalf("Tensors() = %d tensors, %v", len(all), err)
		}
	}
}

func TestWriteOrderAndDeterminism(t *testing.T) {
	ts := allDTypeTensors()
	var a, b bytes.Buffer
	if err := Write(&a, ts, map[string]string{"x": "1", "a": "2"}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	shuffled := slices.Clone(ts)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if err := Write(&b, shuffled, map[string]string{"a": "2", "x": "1"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the output depends on the order of the input")
	}
	f, err := Parse(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// Decreasing alignment (reverse of the reference enum), then name.
	want := []string{
		"t.U64", "t.I64", "scalar", "t.F64", "empty", "t.F32", "t.U32", "t.I32",
		"t.BF16", "t.F16", "t.U16", "t.I16", "t.F8_E4M3", "t.F8_E5M2", "t.I8",
		"odd \"name\"\n\\ é 中", "t.U8", "t.BOOL",
	}
	if got := f.Names(); !slices.Equal(got, want) {
		t.Errorf("file order\n got %q\nwant %q", got, want)
	}
}

func TestWriteExactBytes(t *testing.T) {
	pad := func(s string) string {
		for (len(s))%8 != 0 {
			s += " "
		}
		return s
	}
	le := func(n int) string {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		return string(b[:])
	}
	cases := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		header  string
		data    string
	}{
		{"nothing", nil, nil, `{}`, ""},
		{"empty metadata is omitted", nil, map[string]string{}, `{}`, ""},
		{"metadata only", nil, map[string]string{"framework": "pt"}, `{"__metadata__":{"framework":"pt"}}`, ""},
		{"one tensor", []Tensor{FromFloat32s("attn.0", []int{1, 2, 3}, []float32{0, 1, 2, 3, 4, 5})}, nil,
			`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`,
			"\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40"},
		{"escapes", []Tensor{FromUint8s("a\"b\\c\x01</>", nil, []byte{9})}, nil,
			`{"a\"b\\c\u0001</>":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}`, "\x09"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.tensors, tc.meta); err != nil {
				t.Fatal(err)
			}
			h := pad(tc.header)
			want := le(len(h)) + h + tc.data
			if got := buf.String(); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestWriteRejects(t *testing.T) {
	ok := FromFloat32s("ok", []int{2}, []float32{1, 2})
	cases := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"duplicate names", []Tensor{ok, FromInt32s("ok", []int{1}, []int32{1})}, nil, `tensor "ok": two tensors have this name`},
		{"reserved name", []Tensor{FromInt32s("__metadata__", []int{1}, []int32{1})}, nil, `tensor "__metadata__": name is reserved`},
		{"unknown dtype", []Tensor{{Name: "x", DType: "F31", Shape: []int{1}, Data: make([]byte, 4)}}, nil, `tensor "x": unknown dtype "F31"`},
		{"empty dtype", []Tensor{{Name: "x", Shape: []int{1}, Data: make([]byte, 4)}}, nil, `tensor "x": unknown dtype ""`},
		{"negative shape", []Tensor{{Name: "x", DType: F32, Shape: []int{2, -1}, Data: make([]byte, 4)}}, nil, `tensor "x": shape[1] = -1 is negative`},
		{"short data", []Tensor{ok, FromFloat32s("x", []int{2, 2}, []float32{1, 2, 3})}, nil,
			`tensor "x": has 12 bytes of data, but shape [2 2] of F32 needs 16`},
		{"overflowing shape", []Tensor{{Name: "x", DType: F64, Shape: []int{1 << 40, 1 << 40}}}, nil, `tensor "x": shape [1099511627776 1099511627776] of F64 overflows`},
		{"name not UTF-8", []Tensor{FromUint8s("bad\xff", []int{1}, []byte{1})}, nil, "name is not valid UTF-8"},
		{"metadata not UTF-8", []Tensor{ok}, map[string]string{"k": "\xfe"}, `__metadata__ entry "k": not valid UTF-8`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tc.tensors, tc.meta)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}

			// WriteFile neither replaces an existing file nor leaves debris.
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			err = WriteFile(path, tc.tensors, tc.meta)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("WriteFile error = %v, want one containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: "+path+": ") {
				t.Errorf("WriteFile error %q does not name the file", err)
			}
			if b, _ := os.ReadFile(path); string(b) != "precious" {
				t.Errorf("the existing file was changed to %q", b)
			}
			if got := dirEntries(t, dir); !slices.Equal(got, []string{"model.safetensors"}) {
				t.Errorf("directory holds %q after a failed write", got)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	ts := []Tensor{FromFloat32s("w", []int{2}, []float32{1, 2})}

	// A new file: no temporary file is left behind.
	if err := WriteFile(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"model.safetensors"}) {
		t.Errorf("directory holds %q, want only the file", got)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", st.Mode().Perm())
	}

	// Replacing keeps the permission bits and swaps the content.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	ts2 := []Tensor{FromInt64s("step", nil, []int64{7})}
	if err := WriteFile(path, ts2, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("replaced file mode %v, want 0600", st.Mode().Perm())
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !slices.Equal(got, []string{"step"}) || f.Metadata["k"] != "v" {
		t.Errorf("after replace: names %q, metadata %q", got, f.Metadata)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"model.safetensors"}) {
		t.Errorf("directory holds %q, want only the file", got)
	}

	// A rename that fails (over a non-empty directory) cleans up.
	target := filepath.Join(dir, "occupied")
	if err := os.MkdirAll(filepath.Join(target, "child"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = WriteFile(target, ts, nil)
	if err == nil || !strings.Contains(err.Error(), "renaming the temporary file into place") {
		t.Fatalf("WriteFile over a directory: %v", err)
	}
	if got := dirEntries(t, dir); !slices.Equal(got, []string{"model.safetensors", "occupied"}) {
		t.Errorf("directory holds %q after a failed rename", got)
	}

	// A missing directory is an error naming the file.
	missing := filepath.Join(dir, "no", "such", "x.safetensors")
	if err := WriteFile(missing, ts, nil); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("WriteFile into a missing directory: %v", err)
	}
}

func TestTensorNotFound(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{FromInt32s("a", []int{1}, []int32{1})}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Tensor("b")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `tensor "b": not in file`) {
		t.Errorf("Tensor(missing) = %v", err)
	}
	if _, ok := f.Info("b"); ok {
		t.Error("Info(missing) reported ok")
	}
}

func TestOpenReadsLazily(t *testing.T) {
	ts := allDTypeTensors()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteFile(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// Truncating the file after Open makes tensor reads fail cleanly.
	info, _ := f.Info("t.BOOL") // the last tensor in the file
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()-1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Tensor("t.U64"); err != nil {
		t.Errorf("reading an intact tensor: %v", err)
	}
	_, err = f.Tensor("t.BOOL")
	if err == nil || !strings.Contains(err.Error(), `tensor "t.BOOL": reading`) || !strings.Contains(err.Error(), path) {
		t.Errorf("reading a truncated tensor at %v: %v", info.DataOffsets, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Tensor("t.U64"); err == nil {
		t.Error("reading after Close succeeded")
	}
}

func TestParseAliasesInput(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{FromUint8s("a", []int{2}, []byte{1, 2}), FromUint8s("b", []int{1}, []byte{3})}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Tensor("a")
	if cap(a.Data) != len(a.Data) {
		t.Errorf("Data capacity %d exceeds its length %d: appends would overwrite the next tensor", cap(a.Data), len(a.Data))
	}
	a.Shape[0] = 99 // the returned shape is a copy
	if info, _ := f.Info("a"); info.Shape[0] != 2 {
		t.Error("mutating a returned shape changed the File")
	}
}
