package cpu

import (
	"math"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// RMSNorm and LayerNorm over the last axis, and their packed gradients. Statistics are computed
// in float32 (float64 for float64 inputs). The weight and bias gradients sum over rows: rows are
// cut into fixed blocks of normBlock whose partial sums are computed in parallel and then added
// in block order, so the result does not depend on the number of cores.

func init() {
	defKernel(func(op prim.RMSNorm, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return rmsNormKernel[float64](op.Eps, n, in[0], in[1])
		}
		return rmsNormKernel[float32](op.Eps, n, in[0], in[1])
	})
	defKernel(func(op prim.RMSNormGrad, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return &Buffer{rmsNormGradKernel[float64](op.Eps, in[0], in[1], in[2])}
		}
		return &Buffer{rmsNormGradKernel[float32](op.Eps, in[0], in[1], in[2])}
	})
	defKernel(func(op prim.LayerNorm, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return layerNormKernel[float64](op, n, in)
		}
		return layerNormKernel[float32](op, n, in)
	})
	defKernel(func(op prim.LayerNormGrad, n *prim.Node, in []operand) *Buffer {
		if n.DType == prim.Float64 {
			return &Buffer{layerNormGradKernel[float64](op, in)}
		}
		return &Buffer{layerNormGradKernel[float32](op, in)}
	})
}

// normBlock is the number of rows whose weight-gradient contributions one partial sum holds.
const normBlock = 128

// rmsScale is 1/sqrt(mean(x²) + eps).
func rmsScale[T float](x []T, eps T) T {
	var s0, s1 T
	i := 0
	for ; i+2 <= len(x); i += 2 {
		s0 += x[i] * x[i]
		s1 += x[i+1] * x[i+1]
	}
	if i < len(x) {
		s0 += x[i] * x[i]
	}
	return T(1 / math.Sqrt(float64((s0+s1)/T(len(x))+eps)))
}

// meanRstd gives the mean of x and 1/sqrt(var + eps), with the variance from a second pass.
func meanRstd[T float](x []T, eps T) (mean, rstd T) {
	var s T
	for _, v := range x {
		s += v
	}
	mean = s / T(len(x))
	var q T
	for _, v := range x {
		q += (v - mean) * (v - mean)
	}
	return mean, T(1 / math.Sqrt(float64(q/T(len(x))+eps)))
}

func rmsNormKernel[T float](eps float64, n *prim.Node, x, w operand) *Buffer {
	rows, d := lastDim(x.shape)
	xs := newRowReader[T](x.Buffer, x.dtype)
	ws := asT[T](w.Buffer, w.dtype)
	dst, out := newRowWriter[T](n.DType, n.Size())
	parallelFor(rows, 4*d, func(lo, hi int) {
		sIn, sOut := xs.scratchFor(d), dst.scratchFor(d)
		for r := lo; r < hi; r++ {
			xr, y := xs.row(r*d, d, sIn), dst.row(r*d, d, sOut)
			inv := rmsScale(xr, T(eps))
			for i, v := range xr {
				y[i] = v * inv * ws[i]
			}
			dst.flush(r*d, y)
		}
	})
	return out
}

// rmsNormGradKernel packs dx (rows·d) and dw (d). With s = 1/rms(x) and x̂ = x·s:
// dx = s·(c·w - x̂·mean(c·w·x̂)) and dw = Σ_rows c·x̂.
func rmsNormGradKernel[T float](eps float64, x, w, c operand) []T {
	rows, d := lastDim(x.shape)
	out := make([]T, rows*d+w.shape[0])
	dx, dw := out[:rows*d], out[rows*d:]
	xs, cs := newRowReader[T](x.Buffer, x.dtype), newRowReader[T](c.Buffer, c.dtype)
	ws := asT[T](w.Buffer, w.dtype)
	nb := (rows + normBlock - 1) / normBlock
	parts := make([]T, nb*d)
	parallelFor(nb, normBlock*d*8, func(lo, hi int) {
		sx, sc := xs.scratchFor(d), cs.scratchFor(d)
		for b := lo; b < hi; b++ {
			pw := parts[b*d : b*d+d]
			for r := b * normBlock; r < min(rows, (b+1)*normBlock); r++ {
				xr, cr := xs.row(r*d, d, sx), cs.row(r*d, d, sc)
				s := rmsScale(xr, T(eps))
				var dot T
				for i, v := range xr {
					dot += cr[i] * ws[i] * v
				}
				k := s * s * s * dot / T(d)
				dxr := dx[r*d : r*d+d]
				for i, v := range xr {
					dxr[i] = s*cr[i]*ws[i] - v*k
					pw[i] += cr[i] * v * s
				}
			}
		}
	})
	sumBlocks(dw, parts, nb)
	return out
}

// sumBlocks adds the nb partial sums in parts (nb × len(dst)) into dst in block order.
func sumBlocks[T float](dst, parts []T, nb int) {
	d := len(dst)
	parallelFor(d, nb, func(lo, hi int) {
		for b := 0; b < nb; b++ {
			p := parts[b*d+lo : b*d+hi]
			o := dst[lo:hi]
			for i, v := range p {
				o[i] += v
			}
		}
	})
}

func layerNormKernel[T float](op prim.LayerNorm, n *prim.Node, in []operand) *Buffer {
	x := in[0]
	rows, d := lastDim(x.shape)
	xs := newRowReader[T](x.Buffer, x.dtype)
	var ws, bs []T
	k := 1
	if op.HasWeight {
		ws = asT[T](in[k].Buffer, in[k].dtype)
		k++
	}
	if op.HasBias {
		bs = asT[T](in[k].Buffer, in[k].dtype)
	}
	dst, out := newRowWriter[T](n.DType, n.Size())
	parallelFor(rows, 6*d, func(lo, hi int) {
		sIn, sOut := xs.scratchFor(d), dst.scratchFor(d)
		for r := lo; r < hi; r++ {
			xr, y := xs.row(r*d, d, sIn), dst.row(r*d, d, sOut)
			mean, rstd := meanRstd(xr, T(op.Eps))
			for i, v := range xr {
				y[i] = (v - mean) * rstd
			}
			if ws != nil {
				for i := range y {
					y[i] *= ws[i]
				}
			}
			if bs != nil {
				for i := range y {
					y[i] += bs[i]
				}
			}
			dst.flush(r*d, y)
		}
	})
	return out
}

// layerNormGradKernel packs dx, then dw and db when present. With x̂ = (x - mean)·rstd and
// g = c·w: dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), dw = Σ_rows c·x̂, db = Σ_rows c.
func layerNormGradKernel[T float](op prim.LayerNormGrad, in []operand) []T {
	x, c := in[0], in[len(in)-1]
	rows, d := lastDim(x.shape)
	if len(x.shape) > 0 {
		d = x.shape[len(x.shape)-1] // the packed sizes need d even when rows is 0
	}
	var ws []T
	if op.HasWeight {
		ws = asT[T](in[1].Buffer, in[1].dtype)
	}
	size := rows * d
	if op.HasWeight {
		size += d
	}
	if op.HasBias {
		size += d
	}
	out := make([]T, size)
	dx := out[:rows*d]
	rest := out[rows*d:]
	var dw, db []T
	if op.HasWeight {
		dw, rest = rest[:d], rest[d:]
	}
	if op.HasBias {
		db = rest[:d]
	}
	xs, cs := newRowReader[T](x.Buffer, x.dtype), newRowReader[T](c.Buffer, c.dtype)
	nb := (rows + normBlock - 1) / normBlock
	var pw, pb []T
	if dw != nil {
		pw = make([]T, nb*d)
	}
	if db != nil {
		pb = make([]T, nb*d)
	}
	parallelFor(nb, normBlock*d*10, func(lo, hi int) {
		sx, sc := xs.scratchFor(d), cs.scratchFor(d)
		g := make([]T, d)
		for b := lo; b < hi; b++ {
			for r := b * normBlock; r < min(rows, (b+1)*normBlock); r++ {
				xr, cr := xs.row(r*d, d, sx), cs.row(r*d, d, sc)
				mean, rstd := meanRstd(xr, T(op.Eps))
				copy(g, cr)
				if ws != nil {
					for i := range g {
						g[i] *= ws[i]
					}
				}
				var sg, sgx T
				for i, v := range xr {
					sg += g[i]
					sgx += g[i] * (v - mean) * rstd
				}
				mg, mgx := sg/T(d), sgx/T(d)
				dxr := dx[r*d : r*d+d]
				for i, v := range xr {
					dxr[i] = rstd * (g[i] - mg - (v-mean)*rstd*mgx)
				}
				if pw != nil {
					p := pw[b*d : b*d+d]
					for i, v := range xr {
						p[i] += cr[i] * (v - mean) * rstd
					}
				}
				if pb != nil {
					p := pb[b*d : b*d+d]
					for i, v := range cr {
						p[i] += v
					}
				}
			}
		}
	})
	if dw != nil {
		sumBlocks(dw, pw, nb)
	}
	if db != nil {
		sumBlocks(db, pb, nb)
	}
	return out
}
