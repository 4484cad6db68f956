//go:build cgo

package main

// The CLI as a C shared library: go build -buildmode=c-shared -o liblmxlab.so ./cmd/lmxlab gives
// LmxlabRun, which runs one command line in the calling process. scripts/gpu_profile.py uses it
// to run the bench under PyTorch's profiler, whose CUPTI tracing records every kernel the XLA
// backend launches (the device machine has no Nsight Systems, and Nsight Compute crashes the
// PJRT plugin). Repeated calls share the process's devices and compiled executables.

import "C"

import (
	"fmt"
	"os"
	"strings"
)

// LmxlabRun runs the space-separated command line args (without the program name) and returns
// 0, or 1 after printing the error.
//
//export LmxlabRun
func LmxlabRun(args *C.char) C.int {
	rootCmd.SetArgs(strings.Fields(C.GoString(args)))
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "lmxlab:", err)
		return 1
	}
	return 0
}
