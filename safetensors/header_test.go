package safetensors

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// corruptCases are malformed files, each with the text its error must hold.
var corruptCases = []struct {
	name string
	file []byte
	want string // substring of the error text
	// tensor is the tensor the error must name, or "" for a file-level error.
	tensor string
}{
	{"empty file", nil, "file is 0 bytes, shorter than the 8-byte header length", ""},
	{"short file", []byte{8, 0, 0, 0, 0, 0, 0}, "file is 7 bytes, shorter than the 8-byte header length", ""},
	{"absurd header length", withLength(rawFile("{}", nil), 200_000_000),
		"header length 200000000 exceeds the limit of 100000000 bytes", ""},
	{"huge header length", withLength(rawFile("{}", nil), 1<<63),
		"header length 9223372036854775808 exceeds the limit", ""},
	{"header past end of file", withLength(rawFile("{}      ", nil), 1000),
		"header length 1000 exceeds the 8 bytes that follow the length field", ""},
	{"empty header", rawFile("", nil), "invalid header JSON: unexpected EOF", ""},
	{"truncated JSON", rawFile(`{"a":{"dtype":"F32"`, nil), "invalid header JSON", ""},
	{"bad JSON syntax", rawFile(`{"a" 1}`, nil), "invalid header JSON at byte 5: expected colon after object key", ""},
	{"header is an array", rawFile(`[1, 2]`, nil), "header is an array, want a JSON object", ""},
	{"header is a string", rawFile(`"hi"`, nil), "header is a string, want a JSON object", ""},
	{"header not UTF-8", rawFile("{\"\xff\":1}", nil), "header is not valid UTF-8", ""},
	{"trailing garbage", rawFile(`{} x`, nil), "invalid header JSON", ""},
	{"second object", rawFile(`{}{}`, nil), "header has an object after its JSON object", ""},
	{"entry not an object", rawFile(`{"a":5}`, nil), "entry is a number, want an object with dtype, shape and data_offsets", "a"},
	{"entry null", rawFile(`{"a":null}`, nil), "entry is null, want an object", "a"},
	{"missing dtype", rawFile(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "missing dtype", "a"},
	{"missing shape", rawFile(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), "missing shape", "a"},
	{"missing offsets", rawFile(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), "missing data_offsets", "a"},
	{"unknown dtype", rawFile(`{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		`unknown dtype "F31"`, "a"},
	{"dtype not a string", rawFile(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"dtype is a number, want a string", "a"},
	{"lower-case dtype", rawFile(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		`unknown dtype "f32"`, "a"},
	{"negative dimension", rawFile(`{"a":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"shape[1] = -1 is negative", "a"},
	{"fractional dimension", rawFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"shape[0] = 1.5 is not an integer", "a"},
	{"string dimension", rawFile(`{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, make([]byte, 4)),
		`shape[0] = "1" is a string, want a non-negative integer`, "a"},
	{"shape not an array", rawFile(`{"a":{"dtype":"F32","shape":4,"data_offsets":[0,4]}}`, make([]byte, 4)),
		"shape is a number, want an array of non-negative integers", "a"},
	{"dimension overflows uint64", rawFile(`{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"shape[0] = 18446744073709551616 overflows uint64", "a"},
	{"shape product overflows", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"shape [4294967296 4294967296] of F32 overflows", "a"},
	{"byte size overflows", rawFile(`{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"shape [2305843009213693952] of F64 overflows", "a"},
	{"one offset", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}`, make([]byte, 4)),
		"data_offsets has 1 elements, want 2", "a"},
	{"negative offset", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, make([]byte, 4)),
		"data_offsets[0] = -4 is negative", "a"},
	{"offset overflows int64", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,9223372036854775808]}}`, make([]byte, 4)),
		"data_offsets [0 9223372036854775808] overflow int64", "a"},
	{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, make([]byte, 4)),
		"data_offsets [4, 0] end before they begin", "a"},
	{"offsets too short for shape", rawFile(`{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}`, make([]byte, 20)),
		"data_offsets [0, 20] span 20 bytes, but shape [2 3] of F32 needs 24", "a"},
	{"offsets too long for shape", rawFile(`{"a":{"dtype":"BF16","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"data_offsets [0, 4] span 4 bytes, but shape [] of BF16 needs 2", "a"},
	{"offsets past buffer", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 4)),
		"data_offsets [0, 8] extend past the end of the 4-byte data buffer", "a"},
	{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)),
		`data_offsets [4, 12] overlap tensor "a" at [0, 8]`, "b"},
	{"same range twice", rawFile(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		`data_offsets [0, 4] overlap tensor "a" at [0, 4]`, "b"},
	{"empty tensor inside another", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, make([]byte, 8)),
		`data_offsets [4, 4] overlap tensor "a" at [0, 8]`, "e"},
	{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)),
		"data_offsets [8, 12] leave a gap: buffer bytes [4, 8) belong to no tensor", "b"},
	{"gap at start", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)),
		"data_offsets [1, 2] leave a gap: buffer bytes [0, 1) belong to no tensor", "a"},
	{"trailing bytes", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 7)),
		"data buffer is 7 bytes, but the tensors cover only [0, 4): 3 trailing bytes belong to no tensor", ""},
	{"bytes but no tensors", rawFile(`{}`, make([]byte, 3)),
		"data buffer is 3 bytes, but the tensors cover only [0, 0)", ""},
	{"duplicate name", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)),
		"name appears twice in the header", "a"},
	{"duplicate metadata", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil),
		"name appears twice in the header", "__metadata__"},
	{"metadata not an object", rawFile(`{"__metadata__":[1]}`, nil),
		"__metadata__: is an array, want an object of strings", ""},
	{"metadata value not a string", rawFile(`{"__metadata__":{"format":"pt","n":1}}`, nil),
		`__metadata__: value of "n" is a number, want a string`, ""},
	{"metadata nested object", rawFile(`{"__metadata__":{"x":{}}}`, nil),
		`__metadata__: value of "x" is an object, want a string`, ""},
	{"metadata duplicate key", rawFile(`{"__metadata__":{"k":"1","k":"2"}}`, nil),
		`__metadata__: key "k" appears twice`, ""},
}

// withLength overwrites the length field of a file.
func withLength(b []byte, n uint64) []byte {
	binary.LittleEndian.PutUint64(b, n)
	return b
}

func TestCorruptFiles(t *testing.T) {
	for _, tc := range corruptCases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(how, file string, f *File, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: got %d tensors, want an error containing %q", how, f.Len(), tc.want)
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.want) {
					t.Errorf("%s: error %q\n  does not contain %q", how, msg, tc.want)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%s: error %T is not an *Error", how, err)
				}
				if e.File != file {
					t.Errorf("%s: error names file %q, want %q", how, e.File, file)
				}
				if file != "" && !strings.HasPrefix(msg, "safetensors: "+file+": ") {
					t.Errorf("%s: error %q does not start with the file name", how, msg)
				}
				if e.Tensor != tc.tensor {
					t.Errorf("%s: error names tensor %q, want %q", how, e.Tensor, tc.tensor)
				}
			}
			f, err := Parse(tc.file)
			check("Parse", "", f, err)
			f, err = Read(strings.NewReader(string(tc.file)))
			check("Read", "", f, err)
			path := writeTemp(t, "bad.safetensors", tc.file)
			f, err = ReadFile(path)
			check("ReadFile", path, f, err)
			f, err = Open(path)
			if err == nil {
				f.Close()
			}
			check("Open", path, f, err)
		})
	}
}

// TestHeaderAccepts covers legal variations the reference writer does not
// produce but other writers might.
func TestHeaderAccepts(t *testing.T) {
	cases := []struct {
		name  string
		file  []byte
		names []string
	}{
		{"no tensors", rawFile("{}", nil), nil},
		{"space padding", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}     `, []byte{7}), []string{"a"}},
		{"whitespace everywhere", rawFile(" \n{ \"a\" : { \"dtype\" : \"U8\" , \"shape\" : [ 1 ] , \"data_offsets\" : [ 0 , 1 ] } }\t\n ", []byte{7}), []string{"a"}},
		{"unknown extra field", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":{"x":1}}}`, []byte{7}), []string{"a"}},
		{"null metadata", rawFile(`{"__metadata__":null}`, nil), nil},
		{"metadata last", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"k":"v"}}`, []byte{7}), []string{"a"}},
		{"file order by offset", rawFile(`{"z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}), []string{"z", "a"}},
		{"empty tensors tie by name", rawFile(`{"y":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), []string{"x", "y"}},
		{"zero before overflow", rawFile(`{"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}`, nil), []string{"a"}},
		{"scalar", rawFile(`{"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, make([]byte, 8)), []string{"s"}},
		{"empty name", rawFile(`{"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{7}), []string{""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			got := f.Names()
			if len(got) != len(tc.names) {
				t.Fatalf("Names() = %q, want %q", got, tc.names)
			}
			for i := range got {
				if got[i] != tc.names[i] {
					t.Fatalf("Names() = %q, want %q", got, tc.names)
				}
			}
		})
	}
}

func TestDTypeSizes(t *testing.T) {
	want := map[DType]int{
		Bool: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
		I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8, "F31": 0, "": 0, "f32": 0,
	}
	for d, size := range want {
		if got := d.Size(); got != size {
			t.Errorf("%q.Size() = %d, want %d", d, got, size)
		}
		if d.Valid() != (size > 0) {
			t.Errorf("%q.Valid() = %v", d, d.Valid())
		}
	}
}
