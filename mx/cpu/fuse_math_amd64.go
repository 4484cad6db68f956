//go:build amd64 && !purego

package cpu

import (
	"golang.org/x/sys/cpu"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// The activation kinds in AVX2/FMA assembly (fuse_math_amd64.s), four lanes at a time, when the
// CPU has AVX2 and FMA. Every element goes through the same vector code (a tail shorter than
// four lanes is padded), so a value's result does not depend on where it sits in a slice.

var mathAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

//go:noescape
func geluAVX2(o, x *float32, n int)

//go:noescape
func geluGradAVX2(o, x *float32, n int)

//go:noescape
func sigmoidAVX2(o, x *float32, n int)

//go:noescape
func siluAVX2(o, x *float32, n int)

//go:noescape
func siluGradAVX2(o, x *float32, n int)

//go:noescape
func geluTanhAVX2(o, x *float32, n int)

//go:noescape
func geluTanhGradAVX2(o, x *float32, n int)

// activationAsm computes o = k(x) for the activation kinds and reports whether it did.
func activationAsm(k prim.UnaryKind, o, x []float32) bool {
	if !mathAsm || len(o) == 0 {
		return false
	}
	var f func(o, x *float32, n int)
	switch k {
	case prim.GELU:
		f = geluAVX2
	case prim.GELUGrad:
		f = geluGradAVX2
	case prim.Sigmoid:
		f = sigmoidAVX2
	case prim.SiLU:
		f = siluAVX2
	case prim.SiLUGrad:
		f = siluGradAVX2
	case prim.GELUTanh:
		f = geluTanhAVX2
	case prim.GELUTanhGrad:
		f = geluTanhGradAVX2
	default:
		return false
	}
	x = x[:len(o)]
	n := len(o) &^ 3
	if n > 0 {
		f(&o[0], &x[0], n)
	}
	if r := len(o) - n; r > 0 {
		var in, out [4]float32
		copy(in[:], x[n:])
		f(&out[0], &in[0], 4)
		copy(o[n:], out[:r])
	}
	return true
}
