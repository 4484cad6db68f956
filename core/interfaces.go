package core

import "github.com/lmxlab/lmxlab/mx"

// Context carries what a forward pass needs besides the activations.
type Context struct {
	// Offset is the absolute position of the first token of x: the number of tokens already in
	// the caches.
	Offset int
	// Key, when set, enables dropout (training) and seeds it; nil means inference.
	Key *mx.Array
	// Mask is an optional additive (float) or keep (bool) attention mask broadcastable to
	// (B, H, L, Offset+L), for padding; causality is always applied on top.
	Mask *mx.Array
}

// Mixer is an attention-like sequence mixer: it maps (B, L, d) to (B, L, d), reading and
// extending its cache when one is given.
type Mixer interface {
	Forward(x *mx.Array, ctx *Context, cache Cache) *mx.Array
	// NewCache makes an empty cache for batch rows and up to capacity positions (nil for
	// mixers that keep no state).
	NewCache(batch, capacity int) Cache
}

// FFN is a position-wise feed-forward network.
type FFN interface {
	Forward(x *mx.Array, ctx *Context) *mx.Array
}

// Norm is a normalisation over the last axis.
type Norm interface {
	Forward(x *mx.Array) *mx.Array
}

// Cache is one layer's decoding state.
type Cache interface {
	// Len is the number of positions stored.
	Len() int
	// Arrays lists the state arrays (to evaluate them together with the logits).
	Arrays() []*mx.Array
}
