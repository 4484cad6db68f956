package safetensors

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// File is a parsed safetensors file whose header has been checked (see the
// package doc for what that guarantees). Its tensors are read either from
// memory ([ReadFile], [Read], [Parse]) or on demand from disk ([Open]).
// A File is safe for concurrent reads.
type File struct {
	// Metadata is the header's "__metadata__" object; nil when absent.
	Metadata map[string]string

	path    string
	entries []entry // in file order: by data offset
	index   map[string]int

	mem  []byte      // the data buffer, for files held in memory
	ra   io.ReaderAt // otherwise the file, read lazily
	base int64       // the offset of the data buffer within ra
	c    io.Closer
}

// Info describes a tensor without its data.
type Info struct {
	DType DType
	Shape []int
	// DataOffsets is the byte range [begin, end) of the tensor's data,
	// relative to the start of the data buffer.
	DataOffsets [2]int64
}

// Open opens the named file and checks its header, leaving the tensor data
// on disk: each [File.Tensor] reads one tensor. Close the File when done.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "open", Err: err}
	}
	sf, err := newLazy(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	sf.c = f
	return sf, nil
}

func newLazy(path string, f *os.File) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{File: path, Msg: "stat", Err: err}
	}
	size := st.Size()
	var prefix [8]byte
	if size >= 8 {
		if _, err := f.ReadAt(prefix[:], 0); err != nil {
			return nil, &Error{File: path, Msg: "reading the header length", Err: err}
		}
	}
	n, err := headerLength(path, prefix[:], size)
	if err != nil {
		return nil, err
	}
	header := make([]byte, n)
	if _, err := f.ReadAt(header, 8); err != nil {
		return nil, &Error{File: path, Msg: "reading the header", Err: err}
	}
	entries, meta, err := parseHeader(path, header, size-8-n)
	if err != nil {
		return nil, err
	}
	return newFile(path, entries, meta, nil, f, 8+n), nil
}

// ReadFile reads the whole named file into memory and parses it. Tensors
// returned by the File share its memory (see [File.Tensor]).
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "read", Err: err}
	}
	return parse(path, b)
}

// Read reads r to the end and parses what it read.
func Read(r io.Reader) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{Msg: "read", Err: err}
	}
	return parse("", b)
}

// Parse parses a whole safetensors file held in b. The File keeps b: the
// Data of the tensors it returns are sub-slices of b, not copies.
func Parse(b []byte) (*File, error) { return parse("", b) }

func parse(path string, b []byte) (*File, error) {
	n, err := headerLength(path, b, int64(len(b)))
	if err != nil {
		return nil, err
	}
	entries, meta, err := parseHeader(path, b[8:8+n], int64(len(b))-8-n)
	if err != nil {
		return nil, err
	}
	return newFile(path, entries, meta, b[8+n:], nil, 0), nil
}

func newFile(path string, entries []entry, meta map[string]string, mem []byte, ra io.ReaderAt, base int64) *File {
	index := make(map[string]int, len(entries))
	for i, e := range entries {
		index[e.name] = i
	}
	return &File{Metadata: meta, path: path, entries: entries, index: index, mem: mem, ra: ra, base: base}
}

// Close releases the file opened by [Open]. It is a no-op for a File held
// in memory.
func (f *File) Close() error {
	if f.c == nil {
		return nil
	}
	return f.c.Close()
}

// Len returns the number of tensors.
func (f *File) Len() int { return len(f.entries) }

// Names returns the tensor names in file order: by the offset of their
// data (names break ties between empty tensors). Sort the result for
// alphabetical order.
func (f *File) Names() []string {
	names := make([]string, len(f.entries))
	for i, e := range f.entries {
		names[i] = e.name
	}
	return names
}

// Info returns the dtype, shape and offsets of the named tensor, and false
// if the file has no tensor of that name.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.index[name]
	if !ok {
		return Info{}, false
	}
	e := f.entries[i]
	return Info{DType: e.dtype, Shape: slices.Clone(e.shape), DataOffsets: [2]int64{e.begin, e.end}}, true
}

// Tensor returns the named tensor. For a File held in memory its Data is a
// sub-slice of the file's bytes (capacity-limited, so appending copies);
// write to it only if no one else reads the same tensor. For a File from
// [Open] the Data are read from disk into a fresh slice on every call.
// A missing name gives an error wrapping [ErrNotFound].
func (f *File) Tensor(name string) (Tensor, error) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, &Error{File: f.path, Tensor: name, Msg: "not in file", Err: ErrNotFound}
	}
	return f.tensor(f.entries[i])
}

func (f *File) tensor(e entry) (Tensor, error) {
	t := Tensor{Name: e.name, DType: e.dtype, Shape: slices.Clone(e.shape)}
	if f.ra == nil {
		t.Data = f.mem[e.begin:e.end:e.end]
		return t, nil
	}
	t.Data = make([]byte, e.end-e.begin)
	if len(t.Data) == 0 {
		return t, nil
	}
	n, err := f.ra.ReadAt(t.Data, f.base+e.begin)
	if n < len(t.Data) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Tensor{}, &Error{File: f.path, Tensor: e.name, Msg: fmt.Sprintf(
			"reading %d bytes at file offset %d (was the file truncated?)", len(t.Data), f.base+e.begin), Err: err}
	}
	return t, nil
}

// Tensors returns every tensor, in file order.
func (f *File) Tensors() ([]Tensor, error) {
	out := make([]Tensor, 0, len(f.entries))
	for _, e := range f.entries {
		t, err := f.tensor(e)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
