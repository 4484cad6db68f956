package train

import "github.com/lmxlab/lmxlab/mx"

// GlobalNorm is the L2 norm of all arrays taken together, √Σ g², computed in float32 (a float32
// scalar array).
func GlobalNorm(arrays []*mx.Array) *mx.Array {
	total := scalar32(0)
	for _, g := range arrays {
		total = mx.Add(total, mx.Sum(mx.Square(f32(g)), nil, false))
	}
	return mx.Sqrt(total)
}

// ClipGradNorm rescales grads so that their global L2 norm is at most maxNorm: every gradient is
// multiplied by min(1, maxNorm/(norm+1e-6)) (the rule of MLX and PyTorch). It returns the
// clipped gradients (each in its own dtype) and the norm before clipping (a float32 scalar).
// With maxNorm <= 0 the gradients are returned unchanged and only the norm is computed.
func ClipGradNorm(grads []*mx.Array, maxNorm float64) (clipped []*mx.Array, norm *mx.Array) {
	norm = GlobalNorm(grads)
	if maxNorm <= 0 {
		return grads, norm
	}
	scale := mx.MinimumScalar(mx.Div(scalar32(maxNorm), mx.AddScalar(norm, 1e-6)), 1)
	clipped = make([]*mx.Array, len(grads))
	for i, g := range grads {
		clipped[i] = mx.AsType(mx.Mul(f32(g), scale), g.DType())
	}
	return clipped, norm
}
