package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest header a reader accepts, in bytes. It is the
// reference implementation's limit; a larger length field means a corrupt
// or hostile file, and refusing it keeps a reader from allocating it.
const MaxHeaderSize = 100_000_000

// metadataKey is the header entry that holds the string-to-string metadata.
const metadataKey = "__metadata__"

// entry is one validated tensor of a header.
type entry struct {
	name  string
	dtype DType
	shape []int
	begin int64 // offsets within the data buffer
	end   int64
}

// headerLength checks the 8-byte length prefix of a file of fileSize bytes
// and returns the header length.
func headerLength(file string, prefix []byte, fileSize int64) (int64, error) {
	if fileSize < 8 {
		return 0, &Error{File: file, Msg: fmt.Sprintf("file is %d bytes, shorter than the 8-byte header length", fileSize)}
	}
	var n uint64
	for i := 7; i >= 0; i-- {
		n = n<<8 | uint64(prefix[i])
	}
	if n > MaxHeaderSize {
		return 0, &Error{File: file, Msg: fmt.Sprintf("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)}
	}
	if n > uint64(fileSize-8) {
		return 0, &Error{File: file, Msg: fmt.Sprintf("header length %d exceeds the %d bytes that follow the length field", n, fileSize-8)}
	}
	return int64(n), nil
}

// parseHeader decodes the JSON header and checks it against a data buffer
// of bufLen bytes. It returns the tensors in file order (by offset).
func parseHeader(file string, header []byte, bufLen int64) ([]entry, map[string]string, error) {
	fail := func(tensor, format string, args ...any) ([]entry, map[string]string, error) {
		return nil, nil, &Error{File: file, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
	}
	if !utf8.Valid(header) {
		return fail("", "header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	jsonErr := func(err error) ([]entry, map[string]string, error) {
		return nil, nil, jsonError(file, err)
	}
	tok, err := dec.Token()
	if err != nil {
		return jsonErr(err)
	}
	if tok != json.Delim('{') {
		return fail("", "header is %s, want a JSON object", describeToken(tok))
	}
	var (
		entries []entry
		meta    map[string]string
		seen    = make(map[string]bool)
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonErr(err)
		}
		name, _ := tok.(string) // object keys are always strings
		if seen[name] {
			return fail(name, "name appears twice in the header")
		}
		seen[name] = true
		if name == metadataKey {
			if meta, err = parseMetadata(file, dec); err != nil {
				return nil, nil, err
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonErr(err)
		}
		e, err := parseEntry(file, name, raw, bufLen)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return jsonErr(err)
	}
	// Only whitespace may follow: writers pad the header with spaces.
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return jsonErr(err)
		}
		return fail("", "header has %s after its JSON object; only space padding may follow", describeToken(tok))
	}
	if err := checkCoverage(file, entries, bufLen); err != nil {
		return nil, nil, err
	}
	return entries, meta, nil
}

// jsonError reports a JSON syntax error, with its position when known.
func jsonError(file string, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	msg := "invalid header JSON"
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg = fmt.Sprintf("invalid header JSON at byte %d", se.Offset)
	}
	return &Error{File: file, Msg: msg, Err: err}
}

// parseMetadata reads the value of "__metadata__": null or an object whose
// values are strings.
func parseMetadata(file string, dec *json.Decoder) (map[string]string, error) {
	fail := func(format string, args ...any) error {
		return &Error{File: file, Msg: metadataKey + ": " + fmt.Sprintf(format, args...)}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(file, err)
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('{') {
		return nil, fail("is %s, want an object of strings", describeToken(tok))
	}
	meta := make(map[string]string)
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, jsonError(file, err)
		}
		key, _ := k.(string)
		v, err := dec.Token()
		if err != nil {
			return nil, jsonError(file, err)
		}
		val, ok := v.(string)
		if !ok {
			return nil, fail("value of %q is %s, want a string", key, describeToken(v))
		}
		if _, dup := meta[key]; dup {
			return nil, fail("key %q appears twice", key)
		}
		meta[key] = val
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonError(file, err)
	}
	return meta, nil
}

// parseEntry decodes and checks one tensor's header entry on its own; the
// relations between tensors are checkCoverage's job.
func parseEntry(file, name string, raw json.RawMessage, bufLen int64) (entry, error) {
	fail := func(format string, args ...any) (entry, error) {
		return entry{}, &Error{File: file, Tensor: name, Msg: fmt.Sprintf(format, args...)}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return fail("entry is %s, want an object with dtype, shape and data_offsets", describeRaw(raw))
	}
	e := entry{name: name}

	rawDType, ok := fields["dtype"]
	if !ok {
		return fail("missing dtype")
	}
	var dt string
	if json.Unmarshal(rawDType, &dt) != nil {
		return fail("dtype is %s, want a string", describeRaw(rawDType))
	}
	e.dtype = DType(dt)
	if !e.dtype.Valid() {
		return fail("unknown dtype %q", dt)
	}

	dims, msg := uintArray(fields, "shape")
	if msg != "" {
		return fail("%s", msg)
	}
	e.shape = make([]int, len(dims))
	for i, d := range dims {
		if d > math.MaxInt {
			return fail("shape[%d] = %d overflows int", i, d)
		}
		e.shape[i] = int(d)
	}
	nbytes, ok := byteSize(e.shape, e.dtype.Size())
	if !ok {
		return fail("shape %v of %s overflows: its byte size exceeds 2^63-1", e.shape, e.dtype)
	}

	offs, msg := uintArray(fields, "data_offsets")
	if msg != "" {
		return fail("%s", msg)
	}
	if len(offs) != 2 {
		return fail("data_offsets has %d elements, want 2 ([begin, end])", len(offs))
	}
	if offs[0] > math.MaxInt64 || offs[1] > math.MaxInt64 {
		return fail("data_offsets %v overflow int64", offs)
	}
	e.begin, e.end = int64(offs[0]), int64(offs[1])
	switch {
	case e.begin > e.end:
		return fail("data_offsets [%d, %d] end before they begin", e.begin, e.end)
	case e.end > bufLen:
		return fail("data_offsets [%d, %d] extend past the end of the %d-byte data buffer", e.begin, e.end, bufLen)
	case e.end-e.begin != nbytes:
		return fail("data_offsets [%d, %d] span %d bytes, but shape %v of %s needs %d",
			e.begin, e.end, e.end-e.begin, e.shape, e.dtype, nbytes)
	}
	return e, nil
}

// uintArray decodes fields[key] as an array of non-negative integers. It
// returns a message saying what is wrong, or "".
func uintArray(fields map[string]json.RawMessage, key string) ([]uint64, string) {
	raw, ok := fields[key]
	if !ok {
		return nil, "missing " + key
	}
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) != nil || elems == nil {
		return nil, fmt.Sprintf("%s is %s, want an array of non-negative integers", key, describeRaw(raw))
	}
	out := make([]uint64, len(elems))
	for i, el := range elems {
		s := string(bytes.TrimSpace(el))
		v, err := strconv.ParseUint(s, 10, 64)
		if err == nil {
			out[i] = v
			continue
		}
		var what string
		switch {
		case errors.Is(err, strconv.ErrRange):
			what = "overflows uint64"
		case strings.HasPrefix(s, "-") && isJSONNumber(s):
			what = "is negative"
		case isJSONNumber(s):
			what = "is not an integer"
		default:
			what = "is " + describeRaw(el) + ", want a non-negative integer"
		}
		return nil, fmt.Sprintf("%s[%d] = %s %s", key, i, truncate(s, 40), what)
	}
	return out, ""
}

// checkCoverage checks that the tensors' byte ranges tile the buffer
// [0, bufLen) exactly, and sorts entries into file order.
func checkCoverage(file string, entries []entry, bufLen int64) error {
	slices.SortFunc(entries, func(a, b entry) int {
		if a.begin != b.begin {
			return cmpInt64(a.begin, b.begin)
		}
		if a.end != b.end {
			return cmpInt64(a.end, b.end)
		}
		return strings.Compare(a.name, b.name)
	})
	var cursor int64 // the end of the bytes covered so far
	for i, e := range entries {
		switch {
		case e.begin < cursor:
			p := entries[i-1]
			return &Error{File: file, Tensor: e.name, Msg: fmt.Sprintf(
				"data_offsets [%d, %d] overlap tensor %q at [%d, %d]", e.begin, e.end, p.name, p.begin, p.end)}
		case e.begin > cursor:
			return &Error{File: file, Tensor: e.name, Msg: fmt.Sprintf(
				"data_offsets [%d, %d] leave a gap: buffer bytes [%d, %d) belong to no tensor", e.begin, e.end, cursor, e.begin)}
		}
		cursor = e.end
	}
	if cursor != bufLen {
		return &Error{File: file, Msg: fmt.Sprintf(
			"data buffer is %d bytes, but the tensors cover only [0, %d): %d trailing bytes belong to no tensor",
			bufLen, cursor, bufLen-cursor)}
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// isJSONNumber reports whether s is a JSON number literal.
func isJSONNumber(s string) bool {
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil && s != "" && s[0] != '"'
}

// describeToken names the kind of a JSON token for error messages.
func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return "a stray " + strconv.QuoteRune(rune(v))
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// describeRaw names the kind of a JSON value for error messages.
func describeRaw(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
