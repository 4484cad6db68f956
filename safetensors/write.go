package safetensors

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Write writes tensors and metadata (which may be nil) to w as a
// safetensors file. It checks every tensor and the metadata before it
// writes anything, so invalid input leaves w untouched. Tensors are written
// by decreasing dtype alignment, then by name, as the reference
// implementation does (see the package doc).
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	prefix, order, err := encodeHeader(tensors, metadata)
	if err != nil {
		return err
	}
	if err := writeBody(w, prefix, tensors, order); err != nil {
		return &Error{Msg: "write", Err: err}
	}
	return nil
}

// WriteFile writes tensors and metadata to the named file atomically: it
// writes and syncs a temporary file in the same directory, then renames it
// over path. On any error, path is unchanged and the temporary file is
// removed. A new file gets mode 0644 (set explicitly, so the umask does
// not apply); a replaced file keeps its permission bits.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) (err error) {
	prefix, order, err := encodeHeader(tensors, metadata)
	if err != nil {
		return withFile(err, path)
	}
	fail := func(msg string, err error) error { return &Error{File: path, Msg: msg, Err: err} }

	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fail("creating a temporary file", err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				tmp.Close()
			}
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := writeBody(bw, prefix, tensors, order); err != nil {
		return fail("writing "+tmp.Name(), err)
	}
	if err := bw.Flush(); err != nil {
		return fail("writing "+tmp.Name(), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail("chmod "+tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("syncing "+tmp.Name(), err)
	}
	closed = true
	if err := tmp.Close(); err != nil {
		return fail("closing "+tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail("renaming the temporary file into place", err)
	}
	// Make the rename itself durable. Windows cannot sync a directory.
	if d, err := os.Open(dir); err == nil {
		serr := d.Sync()
		d.Close()
		if serr != nil && runtime.GOOS != "windows" {
			return fail("syncing directory "+dir, serr)
		}
	}
	return nil
}

func writeBody(w io.Writer, prefix []byte, tensors []Tensor, order []int) error {
	if _, err := w.Write(prefix); err != nil {
		return err
	}
	for _, i := range order {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// writeOrder returns the indices of tensors in the order they are written:
// by decreasing dtype alignment (the reverse of the dtypes table), then by
// name. With the header padded to 8 bytes, every tensor then starts at a
// multiple of its element size.
func writeOrder(tensors []Tensor) []int {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := tensors[a], tensors[b]
		if c := cmp.Compare(tb.DType.rank(), ta.DType.rank()); c != 0 {
			return c
		}
		return cmp.Compare(ta.Name, tb.Name)
	})
	return order
}

// encodeHeader validates the input and returns the length field, the
// padded JSON header, and the write order.
func encodeHeader(tensors []Tensor, metadata map[string]string) ([]byte, []int, error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if err := t.Validate(); err != nil {
			return nil, nil, err
		}
		switch {
		case t.Name == metadataKey:
			return nil, nil, t.errorf("name is reserved for the metadata")
		case !utf8.ValidString(t.Name):
			return nil, nil, t.errorf("name is not valid UTF-8")
		case seen[t.Name]:
			return nil, nil, t.errorf("two tensors have this name")
		}
		seen[t.Name] = true
	}
	keys := make([]string, 0, len(metadata))
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, &Error{Msg: fmt.Sprintf("%s entry %q: not valid UTF-8", metadataKey, k)}
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	order := writeOrder(tensors)

	// The JSON is built by hand to fix the key order (metadata first, then
	// tensors in data order) and the compact spelling of the reference.
	b := make([]byte, 8, 8+64*(len(tensors)+1))
	b = append(b, '{')
	if len(keys) > 0 {
		b = appendJSONString(b, metadataKey)
		b = append(b, ":{"...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, metadata[k])
		}
		b = append(b, '}')
	}
	var offset int64
	for i, ti := range order {
		t := tensors[ti]
		if i > 0 || len(keys) > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, t.Name)
		b = append(b, `:{"dtype":`...)
		b = appendJSONString(b, string(t.DType))
		b = append(b, `,"shape":[`...)
		for j, d := range t.Shape {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, `],"data_offsets":[`...)
		b = strconv.AppendInt(b, offset, 10)
		b = append(b, ',')
		offset += int64(len(t.Data))
		b = strconv.AppendInt(b, offset, 10)
		b = append(b, "]}"...)
	}
	b = append(b, '}')
	for len(b)%8 != 0 {
		b = append(b, ' ')
	}
	binary.LittleEndian.PutUint64(b, uint64(len(b)-8))
	return b, order, nil
}

// appendJSONString appends s, valid UTF-8, as a JSON string, escaping only
// what JSON requires (quote, backslash, control characters), as the
// reference implementation does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
