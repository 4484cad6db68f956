package core

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

func init() {
	FFNs.Register("standard", func(c BlockConfig, key *mx.Array) (FFN, error) { return newMLP(c, key, false, "gelu") })
	FFNs.Register("gated", func(c BlockConfig, key *mx.Array) (FFN, error) { return newMLP(c, key, true, "silu") })
	FFNs.Register("relu2", func(c BlockConfig, key *mx.Array) (FFN, error) { return newMLP(c, key, false, "relu2") })
	FFNs.Register("gated_relu2", func(c BlockConfig, key *mx.Array) (FFN, error) { return newMLP(c, key, true, "relu2") })
	FFNs.Register("none", func(BlockConfig, *mx.Array) (FFN, error) { return NoFFN{}, nil })
}

// MLP is the position-wise feed-forward network: down(act(up(x))), or with a gate
// down(act(gate(x)) ⊙ up(x)) (SwiGLU and friends).
type MLP struct {
	Gate       *nn.Linear // nil for ungated
	Up         *nn.Linear
	Down       *nn.Linear
	Activation string `nn:"-"`
}

func newMLP(c BlockConfig, key *mx.Array, gated bool, act string) (FFN, error) {
	if c.DFF <= 0 {
		return nil, fmt.Errorf("ffn needs d_ff > 0, got %d", c.DFF)
	}
	if c.Activation != "" {
		act = c.Activation
	}
	if _, err := activation(act); err != nil {
		return nil, err
	}
	keys := splitKeys(key, 3)
	m := &MLP{Up: nn.NewLinear(c.DModel, c.DFF, c.Bias, keys[1]), Down: nn.NewLinear(c.DFF, c.DModel, c.Bias, keys[2]), Activation: act}
	if gated {
		m.Gate = nn.NewLinear(c.DModel, c.DFF, c.Bias, keys[0])
	}
	return m, nil
}

// activation maps a name to its function.
func activation(name string) (func(*mx.Array) *mx.Array, error) {
	switch name {
	case "gelu":
		return mx.GELU, nil
	case "gelu_tanh", "gelu_new", "gelu_pytorch_tanh":
		return mx.GELUTanh, nil
	case "silu", "swish":
		return mx.SiLU, nil
	case "relu":
		return mx.ReLU, nil
	case "relu2":
		return func(x *mx.Array) *mx.Array { return mx.Square(mx.ReLU(x)) }, nil
	}
	return nil, fmt.Errorf("unknown activation %q (want gelu, gelu_tanh, silu, relu or relu2)", name)
}

// Forward applies the network.
func (m *MLP) Forward(x *mx.Array, _ *Context) *mx.Array {
	act, _ := activation(m.Activation)
	if m.Gate != nil {
		return m.Down.Forward(mx.Mul(act(m.Gate.Forward(x)), m.Up.Forward(x)))
	}
	return m.Down.Forward(act(m.Up.Forward(x)))
}

// NoFFN is the "none" FFN: the block skips its FFN sublayer.
type NoFFN struct{}

// Forward returns x unchanged (never called by ConfigurableBlock).
func (NoFFN) Forward(x *mx.Array, _ *Context) *mx.Array { return x }

func init() {
	Norms.Register("layer_norm", func(c BlockConfig, dim int) (Norm, error) {
		return nn.NewLayerNorm(dim, c.NormEps, c.normBias()), nil
	})
	Norms.Register("rms_norm", func(c BlockConfig, dim int) (Norm, error) {
		return nn.NewRMSNorm(dim, c.NormEps), nil
	})
}
