package core

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/mx"
)

// RoPE rotates query and key features by position-dependent angles. Its inverse frequencies are
// precomputed (with any scaling applied) and passed to the fused mx.RoPE kernel.
type RoPE struct {
	Dims        int
	Traditional bool
	Freqs       *mx.Array // inverse frequencies (Dims/2), float32
	Scale       float64   // multiplies positions (linear scaling divides them)
}

// NewRoPE builds the rotary embedding of a block config: base rope_theta over the head
// dimension (or rope_dims), with optional linear or llama3 frequency scaling.
func NewRoPE(cfg BlockConfig) (*RoPE, error) {
	dims := cfg.HeadDimension()
	if cfg.RopeDims > 0 {
		dims = cfg.RopeDims
	}
	if dims%2 != 0 {
		return nil, fmt.Errorf("rope: rotated dimensions must be even, got %d", dims)
	}
	base := cfg.RopeTheta
	if base <= 0 {
		base = 10000
	}
	inv := make([]float64, dims/2)
	for i := range inv {
		inv[i] = math.Pow(base, -2*float64(i)/float64(dims))
	}
	r := &RoPE{Dims: dims, Traditional: cfg.RopeTraditional, Scale: 1}
	if s := cfg.RopeScaling; s != nil {
		switch s.Type {
		case "", "default":
		case "linear":
			if s.Factor <= 0 {
				return nil, fmt.Errorf("rope: linear scaling needs factor > 0")
			}
			r.Scale = 1 / s.Factor
		case "llama3":
			llama3Scale(inv, s)
		default:
			return nil, fmt.Errorf("rope: unknown scaling type %q (want linear or llama3)", s.Type)
		}
	}
	f := make([]float32, len(inv))
	for i, v := range inv {
		f[i] = float32(v)
	}
	r.Freqs = mx.FromSlice(f, len(f))
	return r, nil
}

// llama3Scale applies Llama 3.1's scaling in place: wavelengths longer than
// original/low_freq_factor are divided by factor, shorter than original/high_freq_factor are
// kept, and the band between is interpolated smoothly.
func llama3Scale(inv []float64, s *RopeScaling) {
	orig := float64(s.OriginalMaxPositionEmbeddings)
	lowWave := orig / s.LowFreqFactor
	highWave := orig / s.HighFreqFactor
	for i, f := range inv {
		wave := 2 * math.Pi / f
		switch {
		case wave > lowWave:
			inv[i] = f / s.Factor
		case wave < highWave:
		default:
			smooth := (orig/wave - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
			inv[i] = (1-smooth)*f/s.Factor + smooth*f
		}
	}
}

// Apply rotates x (B, H, L, hd) whose first row sits at absolute position offset. With chunk > 0
// positions restart at every chunk boundary (Llama 4's chunked local layers).
func (r *RoPE) Apply(x *mx.Array, offset, chunk int) *mx.Array {
	opts := mx.RoPEOptions{Dims: r.Dims, Traditional: r.Traditional, Scale: r.Scale, Offset: offset, Freqs: r.Freqs}
	if chunk <= 0 {
		return mx.RoPE(x, opts)
	}
	// Chunk-local positions: rotate each run of rows that lies in one chunk separately.
	l := x.Dim(2)
	var parts []*mx.Array
	for start := 0; start < l; {
		pos := offset + start
		end := min(l, start+chunk-pos%chunk)
		o := opts
		o.Offset = pos % chunk
		parts = append(parts, mx.RoPE(mx.SliceAxis(x, 2, start, end), o))
		start = end
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return mx.Concatenate(parts, 2)
}

// ApplyAt is Apply for a run-time position: pos is an integer scalar array holding the
// absolute position of x's first row. With chunk > 0 the chunk boundaries are unknown while a
// step is traced, so each row is rotated on its own by (pos + i) mod chunk (one rotation for a
// decode step).
func (r *RoPE) ApplyAt(x, pos *mx.Array, chunk int) *mx.Array {
	opts := mx.RoPEOptions{Dims: r.Dims, Traditional: r.Traditional, Scale: r.Scale, OffsetArray: pos, Freqs: r.Freqs}
	if chunk <= 0 {
		return mx.RoPE(x, opts)
	}
	l := x.Dim(2)
	parts := make([]*mx.Array, l)
	for i := range parts {
		o := opts
		o.OffsetArray = mx.Remainder(mx.AddScalar(pos, float64(i)), mx.Scalar(float64(chunk), pos.DType()))
		parts[i] = mx.RoPE(mx.SliceAxis(x, 2, i, i+1), o)
	}
	if l == 1 {
		return parts[0]
	}
	return mx.Concatenate(parts, 2)
}

// PositionsFrom is the int32 vector pos, pos+1, ..., pos+l-1 of the absolute positions of l
// rows whose first sits at the run-time integer scalar pos.
func PositionsFrom(pos *mx.Array, l int) *mx.Array {
	return mx.Add(mx.AsType(mx.Reshape(pos), mx.Int32), mx.Arange(0, float64(l), 1, mx.Int32))
}

// VisibleKeys is the (Lq, Lk) boolean mask of the keys at absolute positions kpos (int32, Lk)
// that queries at positions qpos (int32, Lq) may attend to: key j is visible to query i iff
// kpos[j] <= qpos[i] (causal), kpos[j] > qpos[i] - window when window > 0 (sliding window),
// and kpos[j] lies in qpos[i]'s chunk when chunk > 0 (chunked attention). It is the mask that
// mx.AttentionOptions' Causal, Window and Chunk apply when positions are known on the host.
func VisibleKeys(qpos, kpos *mx.Array, window, chunk int) *mx.Array {
	q := mx.Reshape(qpos, qpos.Size(), 1)
	k := mx.Reshape(kpos, 1, kpos.Size())
	vis := mx.LessEqual(k, q)
	if window > 0 {
		vis = mx.LogicalAnd(vis, mx.Greater(k, mx.AddScalar(q, float64(-window))))
	}
	if chunk > 0 {
		c := mx.Scalar(float64(chunk), q.DType())
		vis = mx.LogicalAnd(vis, mx.Equal(mx.Div(k, c), mx.Div(q, c))) // integer Div floors
	}
	return vis
}

// ALiBi adds -m_h·(i - j) to the attention scores of head h, with slopes m_h = 2^(-8(h+1)/H).
type ALiBi struct {
	Slopes []float64
}

// NewALiBi makes the slopes for n heads.
func NewALiBi(n int) *ALiBi {
	s := make([]float64, n)
	for h := range s {
		s[h] = math.Pow(2, -8*float64(h+1)/float64(n))
	}
	return &ALiBi{Slopes: s}
}

// Bias returns the (1, H, Lq, Lk) additive bias for queries at the last Lq of Lk positions.
func (a *ALiBi) Bias(lq, lk int, dt mx.DType) *mx.Array {
	h := len(a.Slopes)
	v := make([]float32, h*lq*lk)
	for hh, m := range a.Slopes {
		for i := 0; i < lq; i++ {
			pos := lk - lq + i
			for j := 0; j < lk; j++ {
				v[(hh*lq+i)*lk+j] = float32(-m * math.Abs(float64(pos-j)))
			}
		}
	}
	return mx.AsType(mx.FromSlice(v, 1, h, lq, lk), dt)
}

// BiasAt is Bias for run-time positions: the (1, H, Lq, Lk) bias -m_h·|qpos[i] - kpos[j]| of
// queries at qpos (int32, Lq) over keys at kpos (int32, Lk). It is computed in float64 and
// rounded once, so it equals Bias bit for bit.
func (a *ALiBi) BiasAt(qpos, kpos *mx.Array, dt mx.DType) *mx.Array {
	h, lq, lk := len(a.Slopes), qpos.Size(), kpos.Size()
	dist := mx.Abs(mx.AsType(mx.Sub(mx.Reshape(qpos, 1, lq, 1), mx.Reshape(kpos, 1, 1, lk)), mx.Float64))
	slopes := mx.FromSlice(a.Slopes, h, 1, 1)
	bias := mx.AsType(mx.Neg(mx.Mul(slopes, dist)), mx.Float32)
	return mx.AsType(mx.Reshape(bias, 1, h, lq, lk), dt)
}

// Sinusoidal returns the fixed (L, d) position table for positions offset..offset+L-1:
// sqrt(2/d)·[sin(p·ω_i) ‖ cos(p·ω_i)] with the Transformer's frequencies ω_i = 10000^(-2i/d).
// (MLX's default, with full turns, makes its highest frequency one turn per position, so that
// channel is constant; the classic frequencies avoid it.) The sqrt(2/d) scale keeps the table
// at the size of an N(0, 1/d) embedding.
func Sinusoidal(offset, l, d int) *mx.Array {
	half := d / 2
	v := make([]float32, l*d)
	scale := math.Sqrt(2 / float64(d))
	for p := 0; p < l; p++ {
		for i := 0; i < half; i++ {
			ang := float64(offset+p) * math.Pow(10000, -2*float64(i)/float64(d))
			v[p*d+i] = float32(scale * math.Sin(ang))
			v[p*d+half+i] = float32(scale * math.Cos(ang))
		}
	}
	return mx.FromSlice(v, l, d)
}
