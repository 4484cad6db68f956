package core

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// Block is the ConfigurableBlock: attention and FFN sublayers with their norms, resolved from the
// registries by name. Pre-norm: x += attn(norm(x)); x += ffn(norm(x)). Post-norm:
// x = norm(x + attn(x)); x = norm(x + ffn(x)). A "none" sublayer is skipped entirely, so it is an
// identity (the original added norm(x) instead).
type Block struct {
	Attention Mixer
	FFN       FFN
	AttnNorm  Norm
	FFNNorm   Norm
	Config    BlockConfig `nn:"-"`
}

// NewBlock builds a block from its config.
func NewBlock(cfg BlockConfig, key *mx.Array) (*Block, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !Positions.Has(cfg.Position) {
		_, err := Positions.Get(cfg.Position)
		return nil, err
	}
	keys := splitKeys(key, 2)
	newAttn, err := Attentions.Get(cfg.Attention)
	if err != nil {
		return nil, err
	}
	newFFN, err := FFNs.Get(cfg.FFN)
	if err != nil {
		return nil, err
	}
	newNorm, err := Norms.Get(cfg.Norm)
	if err != nil {
		return nil, err
	}
	b := &Block{Config: cfg}
	if b.Attention, err = newAttn(cfg, keys[0]); err != nil {
		return nil, fmt.Errorf("attention %q: %w", cfg.Attention, err)
	}
	if b.FFN, err = newFFN(cfg, keys[1]); err != nil {
		return nil, fmt.Errorf("ffn %q: %w", cfg.FFN, err)
	}
	if cfg.Attention != "none" {
		if b.AttnNorm, err = newNorm(cfg, cfg.DModel); err != nil {
			return nil, err
		}
	}
	if cfg.FFN != "none" {
		if b.FFNNorm, err = newNorm(cfg, cfg.DModel); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Forward runs the block on x (B, L, d).
func (b *Block) Forward(x *mx.Array, ctx *Context, cache Cache) *mx.Array {
	if b.Config.Attention != "none" {
		x = b.residual(x, ctx, b.AttnNorm, 0, func(h *mx.Array) *mx.Array { return b.Attention.Forward(h, ctx, cache) })
	}
	if b.Config.FFN != "none" {
		x = b.residual(x, ctx, b.FFNNorm, 1, func(h *mx.Array) *mx.Array { return b.FFN.Forward(h, ctx) })
	}
	return x
}

func (b *Block) residual(x *mx.Array, ctx *Context, norm Norm, salt int, f func(*mx.Array) *mx.Array) *mx.Array {
	if b.Config.PreNorm {
		return mx.Add(x, b.dropout(f(norm.Forward(x)), ctx, salt))
	}
	return norm.Forward(mx.Add(x, b.dropout(f(x), ctx, salt)))
}

func (b *Block) dropout(x *mx.Array, ctx *Context, salt int) *mx.Array {
	if ctx.Key == nil || b.Config.Dropout == 0 {
		return x
	}
	return nn.Dropout(x, b.Config.Dropout, splitKeys(ctx.Key, 2)[salt])
}

// NewCache makes the block's cache (nil when its mixer keeps no state).
func (b *Block) NewCache(batch, capacity int) Cache { return b.Attention.NewCache(batch, capacity) }

// NewStaticCache makes the block's static cache of dtype dt (see Context.Position), nil for a
// block without attention; it fails for a mixer that cannot decode statically.
func (b *Block) NewStaticCache(batch, capacity int, dt mx.DType) (Cache, error) {
	if b.Config.Attention == "none" {
		return nil, nil
	}
	s, ok := b.Attention.(StaticCacher)
	if !ok {
		return nil, fmt.Errorf("attention %q (%T) has no static cache", b.Config.Attention, b.Attention)
	}
	return s.NewStaticCache(batch, capacity, dt)
}
