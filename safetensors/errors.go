package safetensors

import (
	"errors"
	"strconv"
	"strings"
)

// ErrNotFound is wrapped by the error [File.Tensor] returns for a name the
// file does not hold.
var ErrNotFound = errors.New("tensor not found")

// Error reports a malformed file, an invalid tensor, or a failed read or
// write. Its text names the file and the tensor where they are known:
//
//	safetensors: model.safetensors: tensor "wte.weight": unknown dtype "F31"
type Error struct {
	File   string // the path, or "" for a stream or an in-memory buffer
	Tensor string // the tensor concerned, or "" when the error is about the file
	Msg    string // what is wrong
	Err    error  // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("safetensors: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Tensor != "" {
		b.WriteString("tensor ")
		b.WriteString(strconv.Quote(e.Tensor))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// withFile sets the file name of err if it is an *Error without one.
func withFile(err error, file string) error {
	var e *Error
	if errors.As(err, &e) && e.File == "" {
		c := *e
		c.File = file
		return &c
	}
	return err
}
