package cpu

import (
	"sync"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// fview is a fused value over one block: a float32 or bool run, or a scalar when the value is
// the same across the block (an input broadcast along the row).
type fview struct {
	f      []float32
	b      []bool
	sf     float32
	sb     bool
	scalar bool
}

// fuseFrame is one worker's scratch for a group: its float32 and bool slots laid end to end,
// block elements each (the last two float32 slots and the last bool slot hold the scalars that
// Where broadcasts, in groups with a Where), and the block's views of its values. Frames are
// pooled across all groups, growing to the largest need.
type fuseFrame struct {
	f     []float32
	b     []bool
	views []fview
	offs  []int
	row   int
}

var framePool sync.Pool

func (g *fusedGroup) frame() *fuseFrame {
	fr, _ := framePool.Get().(*fuseFrame)
	if fr == nil {
		fr = &fuseFrame{}
	}
	fr.f = grow(fr.f, (g.slotsF+g.tempsF)*g.block)
	fr.b = grow(fr.b, (g.slotsB+g.tempsB)*g.block)
	fr.views = grow(fr.views, len(g.inputs)+len(g.ops))
	fr.offs = grow(fr.offs, len(g.inputs))
	return fr
}

// grow returns s resliced to length n, reallocated if its capacity is short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// slotF is float32 slot k of the frame, m elements long.
func (g *fusedGroup) slotF(fr *fuseFrame, k int32, m int) []float32 {
	o := int(k) * g.block
	return fr.f[o : o+m]
}

func (g *fusedGroup) slotB(fr *fuseFrame, k int32, m int) []bool {
	o := int(k) * g.block
	return fr.b[o : o+m]
}

// run computes the group's outputs (preallocated, g.size elements each) from its inputs.
func (g *fusedGroup) run(in, out []*Buffer) {
	if g.size == 0 {
		return
	}
	inF, inB := make([][]float32, len(in)), make([][]bool, len(in))
	for k, b := range in {
		if g.inBool[k] {
			inB[k] = b.data.([]bool)
		} else {
			inF[k] = b.data.([]float32)
		}
	}
	outF, outB := make([][]float32, len(out)), make([][]bool, len(out))
	for k, b := range out {
		if g.outBool[k] {
			outB[k] = b.data.([]bool)
		} else {
			outF[k] = b.data.([]float32)
		}
	}
	it := g.it
	n := it.n
	perRow := (n + g.block - 1) / g.block
	parallelFor(it.rows()*perRow, g.block*g.cost, func(lo, hi int) {
		fr := g.frame()
		fr.row = -1
		for item := lo; item < hi; item++ {
			r, j0 := item/perRow, item%perRow*g.block
			if r != fr.row {
				it.offsets(r, fr.offs)
				fr.row = r
			}
			g.evalBlock(fr, inF, inB, outF, outB, r*n+j0, j0, min(g.block, n-j0))
		}
		framePool.Put(fr)
	})
}

// evalBlock computes elements [o, o+m) of the outputs: elements [j0, j0+m) of the frame's row.
// Inputs are read along the row with stride 1, or 0 where broadcast (then as a scalar).
func (g *fusedGroup) evalBlock(fr *fuseFrame, inF [][]float32, inB [][]bool, outF [][]float32, outB [][]bool, o, j0, m int) {
	v := fr.views
	for k := range g.inputs {
		s := g.it.inner[k]
		off := fr.offs[k] + j0*s
		if g.inBool[k] {
			src := inB[k]
			if s == 0 {
				v[k] = fview{sb: src[off], scalar: true}
			} else {
				v[k] = fview{b: src[off : off+m]}
			}
			continue
		}
		src := inF[k]
		if s == 0 {
			v[k] = fview{sf: src[off], scalar: true}
		} else {
			v[k] = fview{f: src[off : off+m]}
		}
	}
	nIn := len(g.inputs)
	for p := range g.ops {
		op := &g.ops[p]
		res := &v[nIn+p]
		var dstF []float32
		var dstB []bool
		if op.out >= 0 {
			if g.outBool[op.out] {
				dstB = outB[op.out][o : o+m]
			} else {
				dstF = outF[op.out][o : o+m]
			}
		} else if op.code == fuseCompare || op.code == fuseToBool || op.code == fuseNot {
			dstB = g.slotB(fr, op.slot, m)
		} else {
			dstF = g.slotF(fr, op.slot, m)
		}
		wF, wB := dstF, dstB // where a scalar result must also be written
		if op.out < 0 {
			wF, wB = nil, nil
		}
		a := &v[op.args[0]]
		switch op.code {
		case fuseUnary:
			if a.scalar {
				*res = scalarF(unaryScalar(op.unary, a.sf), wF)
				continue
			}
			unaryF32(op.unary, dstF, a.f)
			*res = fview{f: dstF}
		case fuseBinary:
			b := &v[op.args[1]]
			switch {
			case a.scalar && b.scalar:
				var r [1]float32
				binaryF32VV(op.binary, r[:], []float32{a.sf}, []float32{b.sf})
				*res = scalarF(r[0], wF)
				continue
			case a.scalar:
				binaryF32SV(op.binary, dstF, a.sf, b.f)
			case b.scalar:
				binaryF32VS(op.binary, dstF, a.f, b.sf)
			default:
				binaryF32VV(op.binary, dstF, a.f, b.f)
			}
			*res = fview{f: dstF}
		case fuseCompare:
			b := &v[op.args[1]]
			cmp := compareFn[float32](op.binary)
			switch {
			case a.scalar && b.scalar:
				*res = scalarB(cmp(a.sf, b.sf), wB)
				continue
			case a.scalar:
				for i := range dstB {
					dstB[i] = cmp(a.sf, b.f[i])
				}
			case b.scalar:
				for i := range dstB {
					dstB[i] = cmp(a.f[i], b.sf)
				}
			default:
				x, y := a.f[:len(dstB)], b.f[:len(dstB)]
				for i := range dstB {
					dstB[i] = cmp(x[i], y[i])
				}
			}
			*res = fview{b: dstB}
		case fuseWhere:
			x, y := &v[op.args[1]], &v[op.args[2]]
			if a.scalar && x.scalar && y.scalar {
				r := y.sf
				if a.sb {
					r = x.sf
				}
				*res = scalarF(r, wF)
				continue
			}
			c := a.b
			if a.scalar {
				c = fill(g.slotB(fr, int32(g.slotsB), m), a.sb)
			}
			xs, ys := x.f, y.f
			if x.scalar {
				xs = fill(g.slotF(fr, int32(g.slotsF), m), x.sf)
			}
			if y.scalar {
				ys = fill(g.slotF(fr, int32(g.slotsF+1), m), y.sf)
			}
			c, xs, ys = c[:len(dstF)], xs[:len(dstF)], ys[:len(dstF)]
			for i := range dstF {
				if c[i] {
					dstF[i] = xs[i]
				} else {
					dstF[i] = ys[i]
				}
			}
			*res = fview{f: dstF}
		case fuseToF32:
			if a.scalar {
				*res = scalarF(boolToF32(a.sb), wF)
				continue
			}
			for i, c := range a.b[:len(dstF)] {
				dstF[i] = boolToF32(c)
			}
			*res = fview{f: dstF}
		case fuseToBool:
			if a.scalar {
				*res = scalarB(a.sf != 0, wB)
				continue
			}
			for i, x := range a.f[:len(dstB)] {
				dstB[i] = x != 0
			}
			*res = fview{b: dstB}
		case fuseNot:
			if a.scalar {
				*res = scalarB(!a.sb, wB)
				continue
			}
			for i, c := range a.b[:len(dstB)] {
				dstB[i] = !c
			}
			*res = fview{b: dstB}
		}
	}
}

// scalarF is a scalar float32 value, also written out when dst is an output run.
func scalarF(x float32, dst []float32) fview {
	if dst != nil {
		fill(dst, x)
	}
	return fview{sf: x, scalar: true}
}

func scalarB(x bool, dst []bool) fview {
	if dst != nil {
		fill(dst, x)
	}
	return fview{sb: x, scalar: true}
}

func fill[T any](d []T, x T) []T {
	for i := range d {
		d[i] = x
	}
	return d
}

func boolToF32(c bool) float32 {
	if c {
		return 1
	}
	return 0
}

// unaryScalar is unaryF32 of one value.
func unaryScalar(k prim.UnaryKind, x float32) float32 {
	var r [1]float32
	unaryF32(k, r[:], []float32{x})
	return r[0]
}
