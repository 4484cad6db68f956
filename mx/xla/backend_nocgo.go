//go:build !(cgo && linux && amd64)

package xla

import (
	"errors"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// errNoCgo is what opening the gpu device reports in a build without cgo.
var errNoCgo = errors.New("xla: the xla backend needs cgo (build with CGO_ENABLED=1 on linux/amd64)")

func open() (prim.Backend, error) { return nil, errNoCgo }
