package nn

import (
	"math"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

// Linear is y = x·Wᵀ + b with W stored (out, in), as in PyTorch, MLX and Hugging Face checkpoints.
type Linear struct {
	Weight *mx.Array
	Bias   *mx.Array // nil when the layer has no bias
}

// NewLinear makes a Linear layer with MLX's default initialisation: W and b uniform in
// ±1/√in. key may be nil (the default key is used).
func NewLinear(in, out int, bias bool, key *mx.Array) *Linear {
	k1, k2 := splitKey(key)
	bound := 1 / math.Sqrt(float64(in))
	l := &Linear{Weight: random.Uniform(k1, -bound, bound, []int{out, in}, mx.Float32)}
	if bias {
		l.Bias = random.Uniform(k2, -bound, bound, []int{out}, mx.Float32)
	}
	return l
}

// Forward applies the layer to x (..., in).
func (l *Linear) Forward(x *mx.Array) *mx.Array {
	y := mx.MatmulT(x, mx.AsType(l.Weight, x.DType()))
	if l.Bias != nil {
		y = mx.Add(y, mx.AsType(l.Bias, y.DType()))
	}
	return y
}

// InDim and OutDim are the layer's input and output widths.
func (l *Linear) InDim() int  { return l.Weight.Dim(1) }
func (l *Linear) OutDim() int { return l.Weight.Dim(0) }

// Embedding maps token ids to rows of Weight (vocab, dim).
type Embedding struct {
	Weight *mx.Array
}

// NewEmbedding makes an embedding table with MLX's default N(0, 1/dim) initialisation.
func NewEmbedding(vocab, dim int, key *mx.Array) *Embedding {
	return &Embedding{Weight: random.Normal(key, []int{vocab, dim}, mx.Float32, 0, math.Sqrt(1/float64(dim)))}
}

// Forward looks up ids (any integer shape) and returns (..., dim).
func (e *Embedding) Forward(ids *mx.Array) *mx.Array { return mx.Take(e.Weight, ids, 0) }

// AsLinear projects x (..., dim) onto the vocabulary with the table (weight tying).
func (e *Embedding) AsLinear(x *mx.Array) *mx.Array {
	return mx.MatmulT(x, mx.AsType(e.Weight, x.DType()))
}

// LayerNorm normalises the last axis to zero mean and unit variance, then scales and shifts.
type LayerNorm struct {
	Weight *mx.Array
	Bias   *mx.Array
	Eps    float64 `nn:"-"`
}

// NewLayerNorm makes a LayerNorm with weight 1 and bias 0 (bias optional).
func NewLayerNorm(dim int, eps float64, bias bool) *LayerNorm {
	n := &LayerNorm{Weight: mx.Ones([]int{dim}, mx.Float32), Eps: eps}
	if bias {
		n.Bias = mx.Zeros([]int{dim}, mx.Float32)
	}
	return n
}

// Forward applies the norm. A half-precision x with float32 parameters (mixed precision) is
// normalised and scaled in float32 and the result rounded back to x's dtype once.
func (n *LayerNorm) Forward(x *mx.Array) *mx.Array {
	if mixedNorm(x, n.Weight) {
		return mx.AsType(mx.LayerNorm(x, n.Weight, n.Bias, n.Eps), x.DType())
	}
	return mx.LayerNorm(x, castOrNil(n.Weight, x), castOrNil(n.Bias, x), n.Eps)
}

// RMSNorm is x·rsqrt(mean(x²)+eps)·w over the last axis.
type RMSNorm struct {
	Weight *mx.Array
	Eps    float64 `nn:"-"`
}

// NewRMSNorm makes an RMSNorm with weight 1.
func NewRMSNorm(dim int, eps float64) *RMSNorm {
	return &RMSNorm{Weight: mx.Ones([]int{dim}, mx.Float32), Eps: eps}
}

// Forward applies the norm. A half-precision x with a float32 weight (mixed precision) is
// normalised and scaled in float32 and the result rounded back to x's dtype once.
func (n *RMSNorm) Forward(x *mx.Array) *mx.Array {
	if mixedNorm(x, n.Weight) {
		return mx.AsType(mx.RMSNorm(x, n.Weight, n.Eps), x.DType())
	}
	return mx.RMSNorm(x, castOrNil(n.Weight, x), n.Eps)
}

// mixedNorm reports whether a norm sees half-precision activations x with float32 parameters,
// as in mixed-precision training: the norm then computes in float32, so its parameters get
// float32 gradients, and only its output is rounded.
func mixedNorm(x, w *mx.Array) bool {
	half := x.DType() == mx.BFloat16 || x.DType() == mx.Float16
	return half && w != nil && w.DType() == mx.Float32
}

func castOrNil(w, like *mx.Array) *mx.Array {
	if w == nil {
		return nil
	}
	return mx.AsType(w, like.DType())
}

// Dropout zeroes elements with probability p during training and scales the rest by 1/(1-p).
// It needs a random key: pass one per call (inside compiled steps, as a step input).
func Dropout(x *mx.Array, p float64, key *mx.Array) *mx.Array {
	if p <= 0 {
		return x
	}
	if p >= 1 {
		return mx.ZerosLike(x)
	}
	keep := random.Bernoulli(key, 1-p, x.Shape())
	return mx.Where(keep, mx.MulScalar(x, 1/(1-p)), mx.ZerosLike(x))
}

// splitKey derives two independent keys from key (or from the default key when key is nil).
func splitKey(key *mx.Array) (*mx.Array, *mx.Array) {
	if key == nil {
		return nil, nil
	}
	ks := random.Split(key, 2)
	return random.At(ks, 0), random.At(ks, 1)
}
