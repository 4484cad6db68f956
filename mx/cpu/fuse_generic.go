//go:build !amd64 || purego

package cpu

import "github.com/lmxlab/lmxlab/mx/prim"

// Without assembly the float32 arithmetic loops are the Go ones in binary.go, and the
// activations the Go functions of fastmath.go.

var arithAsm, mathAsm = false, false

func arithVVAsm(prim.BinaryKind, []float32, []float32, []float32) bool { return false }
func arithVSAsm(prim.BinaryKind, []float32, []float32, float32) bool   { return false }
func arithSVAsm(prim.BinaryKind, []float32, float32, []float32) bool   { return false }
func unaryAsm(prim.UnaryKind, []float32, []float32) bool               { return false }
func activationAsm(prim.UnaryKind, []float32, []float32) bool          { return false }
