//go:build amd64 && !purego

package cpu

import (
	"golang.org/x/sys/cpu"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// The float32 Add, Sub, Mul, Div, Sqrt and Square loops of the elementwise kernels (fused and
// not) in AVX assembly (fuse_amd64.s), eight lanes at a time, when the CPU has AVX.

var arithAsm = cpu.X86.HasAVX

//go:noescape
func addVVAVX(o, x, y *float32, n int)

//go:noescape
func addVSAVX(o, x *float32, y float32, n int)

//go:noescape
func addSVAVX(o *float32, x float32, y *float32, n int)

//go:noescape
func subVVAVX(o, x, y *float32, n int)

//go:noescape
func subVSAVX(o, x *float32, y float32, n int)

//go:noescape
func subSVAVX(o *float32, x float32, y *float32, n int)

//go:noescape
func mulVVAVX(o, x, y *float32, n int)

//go:noescape
func mulVSAVX(o, x *float32, y float32, n int)

//go:noescape
func mulSVAVX(o *float32, x float32, y *float32, n int)

//go:noescape
func divVVAVX(o, x, y *float32, n int)

//go:noescape
func divVSAVX(o, x *float32, y float32, n int)

//go:noescape
func divSVAVX(o *float32, x float32, y *float32, n int)

// arithVVAsm computes o = x k y for the four arithmetic kinds and reports whether it did.
// Callers have checked len(x), len(y) >= len(o).
func arithVVAsm(k prim.BinaryKind, o, x, y []float32) bool {
	if !arithAsm || len(o) < 8 || k > prim.Div {
		return false
	}
	p, a, b, n := &o[0], &x[0], &y[0], len(o)
	switch k {
	case prim.Add:
		addVVAVX(p, a, b, n)
	case prim.Sub:
		subVVAVX(p, a, b, n)
	case prim.Mul:
		mulVVAVX(p, a, b, n)
	case prim.Div:
		divVVAVX(p, a, b, n)
	}
	return true
}

// arithVSAsm computes o = x k y for scalar y.
func arithVSAsm(k prim.BinaryKind, o, x []float32, y float32) bool {
	if !arithAsm || len(o) < 8 || k > prim.Div {
		return false
	}
	p, a, n := &o[0], &x[0], len(o)
	switch k {
	case prim.Add:
		addVSAVX(p, a, y, n)
	case prim.Sub:
		subVSAVX(p, a, y, n)
	case prim.Mul:
		mulVSAVX(p, a, y, n)
	case prim.Div:
		divVSAVX(p, a, y, n)
	}
	return true
}

// arithSVAsm computes o = x k y for scalar x.
func arithSVAsm(k prim.BinaryKind, o []float32, x float32, y []float32) bool {
	if !arithAsm || len(o) < 8 || k > prim.Div {
		return false
	}
	p, b, n := &o[0], &y[0], len(o)
	switch k {
	case prim.Add:
		addSVAVX(p, x, b, n)
	case prim.Sub:
		subSVAVX(p, x, b, n)
	case prim.Mul:
		mulSVAVX(p, x, b, n)
	case prim.Div:
		divSVAVX(p, x, b, n)
	}
	return true
}

//go:noescape
func sqrtAVX(o, x *float32, n int)

//go:noescape
func squareAVX(o, x *float32, n int)

// unaryAsm computes o = k(x) for Sqrt and Square and reports whether it did.
func unaryAsm(k prim.UnaryKind, o, x []float32) bool {
	if !arithAsm || len(o) < 8 || (k != prim.Sqrt && k != prim.Square) {
		return false
	}
	x = x[:len(o)]
	if k == prim.Sqrt {
		sqrtAVX(&o[0], &x[0], len(o))
	} else {
		squareAVX(&o[0], &x[0], len(o))
	}
	return true
}
