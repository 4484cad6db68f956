package cpu

import "github.com/lmxlab/lmxlab/mx/prim"

// One-dimensional convolution, channels last, and its two gradients. Depthwise convolutions
// (one input channel per group and as many outputs as inputs) take a path whose inner loops run
// over contiguous channels; the general path's inner loops are dot products and axpys over the
// input channels of a group. Arithmetic is in float32 (float64 for float64 values).

func init() {
	defKernel(func(op prim.Conv1d, n *prim.Node, in []operand) *Buffer {
		g := newConvGeom(op.Stride, op.Padding, op.Dilation, op.Groups, in[0].shape, in[1].shape, n.Shape)
		if n.DType == prim.Float64 {
			return fromT(conv1d(g, asT[float64](in[0].Buffer, in[0].dtype), asT[float64](in[1].Buffer, in[1].dtype)), n.DType)
		}
		return fromT(conv1d(g, asT[float32](in[0].Buffer, in[0].dtype), asT[float32](in[1].Buffer, in[1].dtype)), n.DType)
	})
	defKernel(func(op prim.Conv1dGradInput, n *prim.Node, in []operand) *Buffer {
		g := newConvGeom(op.Stride, op.Padding, op.Dilation, op.Groups, n.Shape, in[1].shape, in[0].shape)
		if n.DType == prim.Float64 {
			return fromT(conv1dGradInput(g, asT[float64](in[0].Buffer, in[0].dtype), asT[float64](in[1].Buffer, in[1].dtype)), n.DType)
		}
		return fromT(conv1dGradInput(g, asT[float32](in[0].Buffer, in[0].dtype), asT[float32](in[1].Buffer, in[1].dtype)), n.DType)
	})
	defKernel(func(op prim.Conv1dGradWeight, n *prim.Node, in []operand) *Buffer {
		g := newConvGeom(op.Stride, op.Padding, op.Dilation, op.Groups, in[0].shape, n.Shape, in[1].shape)
		if n.DType == prim.Float64 {
			return fromT(conv1dGradWeight(g, asT[float64](in[0].Buffer, in[0].dtype), asT[float64](in[1].Buffer, in[1].dtype)), n.DType)
		}
		return fromT(conv1dGradWeight(g, asT[float32](in[0].Buffer, in[0].dtype), asT[float32](in[1].Buffer, in[1].dtype)), n.DType)
	})
}

// convGeom is the geometry of a convolution: input (n, l, cin), weight (cout, k, cgi), output
// (n, lout, cout), with cgi and cgo channels per group.
type convGeom struct {
	n, l, cin, lout, cout, k int
	stride, pad, dil, groups int
	cgi, cgo                 int
	depthwise                bool
}

func newConvGeom(stride, pad, dil, groups int, x, w, y []int) convGeom {
	g := convGeom{n: x[0], l: x[1], cin: x[2], lout: y[1], cout: w[0], k: w[1], cgi: w[2],
		stride: stride, pad: pad, dil: dil, groups: groups}
	g.cgo = g.cout / max(groups, 1)
	g.depthwise = g.cgi == 1 && g.cout == g.cin && g.groups == g.cin
	return g
}

// pos is the input position tap kk of output position t reads (may be out of range).
func (g convGeom) pos(t, kk int) int { return t*g.stride - g.pad + kk*g.dil }

// tapsTransposed returns a depthwise weight (c, k, 1) as (k, c).
func tapsTransposed[T float](g convGeom, w []T) []T {
	wt := make([]T, g.k*g.cin)
	for c := 0; c < g.cin; c++ {
		for kk := 0; kk < g.k; kk++ {
			wt[kk*g.cin+c] = w[c*g.k+kk]
		}
	}
	return wt
}

func conv1d[T float](g convGeom, x, w []T) []T {
	out := make([]T, g.n*g.lout*g.cout)
	var wt []T
	if g.depthwise {
		wt = tapsTransposed(g, w)
	}
	parallelFor(g.n*g.lout, g.k*g.cout*g.cgi+1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, t := r/g.lout, r%g.lout
			o := out[r*g.cout : r*g.cout+g.cout]
			for kk := 0; kk < g.k; kk++ {
				p := g.pos(t, kk)
				if p < 0 || p >= g.l {
					continue
				}
				xr := x[(b*g.l+p)*g.cin : (b*g.l+p+1)*g.cin]
				if g.depthwise {
					wk := wt[kk*g.cin : kk*g.cin+g.cin]
					for c, v := range xr {
						o[c] += v * wk[c]
					}
					continue
				}
				for gr := 0; gr < g.groups; gr++ {
					xg := xr[gr*g.cgi : gr*g.cgi+g.cgi]
					for co := gr * g.cgo; co < (gr+1)*g.cgo; co++ {
						o[co] += vecDot(xg, w[(co*g.k+kk)*g.cgi:(co*g.k+kk+1)*g.cgi])
					}
				}
			}
		}
	})
	return out
}

// conv1dGradInput gives dx (n, l, cin) from the output cotangent c (n, lout, cout): every input
// position gathers the output positions whose taps read it.
func conv1dGradInput[T float](g convGeom, c, w []T) []T {
	dx := make([]T, g.n*g.l*g.cin)
	var wt []T
	if g.depthwise {
		wt = tapsTransposed(g, w)
	}
	parallelFor(g.n*g.l, g.k*g.cout*g.cgi/max(g.stride, 1)+1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, p := r/g.l, r%g.l
			d := dx[r*g.cin : r*g.cin+g.cin]
			for kk := 0; kk < g.k; kk++ {
				tn := p + g.pad - kk*g.dil
				if tn < 0 || tn%g.stride != 0 || tn/g.stride >= g.lout {
					continue
				}
				t := tn / g.stride
				cr := c[(b*g.lout+t)*g.cout : (b*g.lout+t+1)*g.cout]
				if g.depthwise {
					wk := wt[kk*g.cin : kk*g.cin+g.cin]
					for ch, v := range cr {
						d[ch] += v * wk[ch]
					}
					continue
				}
				for gr := 0; gr < g.groups; gr++ {
					dg := d[gr*g.cgi : gr*g.cgi+g.cgi]
					for co := gr * g.cgo; co < (gr+1)*g.cgo; co++ {
						if cv := cr[co]; cv != 0 {
							vecAxpy(dg, cv, w[(co*g.k+kk)*g.cgi:(co*g.k+kk+1)*g.cgi])
						}
					}
				}
			}
		}
	})
	return dx
}

// conv1dGradWeight gives dw (cout, k, cgi) from the input x and the output cotangent c. Each
// weight element is summed over (batch, position) in order by the one task that owns it.
func conv1dGradWeight[T float](g convGeom, x, c []T) []T {
	dw := make([]T, g.cout*g.k*g.cgi)
	if g.depthwise {
		// Accumulate (k, channels) with tasks owning channel ranges, then transpose.
		acc := make([]T, g.k*g.cin)
		parallelFor(g.cin, g.n*g.lout*g.k, func(lo, hi int) {
			for b := 0; b < g.n; b++ {
				for t := 0; t < g.lout; t++ {
					cr := c[(b*g.lout+t)*g.cout+lo : (b*g.lout+t)*g.cout+hi]
					for kk := 0; kk < g.k; kk++ {
						p := g.pos(t, kk)
						if p < 0 || p >= g.l {
							continue
						}
						xr := x[(b*g.l+p)*g.cin+lo : (b*g.l+p)*g.cin+hi]
						a := acc[kk*g.cin+lo : kk*g.cin+hi]
						for i, v := range cr {
							a[i] += v * xr[i]
						}
					}
				}
			}
		})
		for ch := 0; ch < g.cin; ch++ {
			for kk := 0; kk < g.k; kk++ {
				dw[ch*g.k+kk] = acc[kk*g.cin+ch]
			}
		}
		return dw
	}
	parallelFor(g.cout, g.n*g.lout*g.k*g.cgi+1, func(lo, hi int) {
		for co := lo; co < hi; co++ {
			gr := co / g.cgo
			dwc := dw[co*g.k*g.cgi : (co+1)*g.k*g.cgi]
			for b := 0; b < g.n; b++ {
				for t := 0; t < g.lout; t++ {
					cv := c[(b*g.lout+t)*g.cout+co]
					if cv == 0 {
						continue
					}
					for kk := 0; kk < g.k; kk++ {
						p := g.pos(t, kk)
						if p < 0 || p >= g.l {
							continue
						}
						xo := (b*g.l+p)*g.cin + gr*g.cgi
						vecAxpy(dwc[kk*g.cgi:(kk+1)*g.cgi], cv, x[xo:xo+g.cgi])
					}
				}
			}
		}
	})
	return dw
}
