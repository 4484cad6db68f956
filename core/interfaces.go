package core

import "github.com/lmxlab/lmxlab/mx"

// Context carries what a forward pass needs besides the activations.
type Context struct {
	// Offset is the absolute position of the first token of x: the number of tokens already in
	// the caches.
	Offset int
	// Position, when set, replaces Offset by a run-time int32 scalar array and selects static
	// decoding: layers write their keys at Position into static caches (NewStaticKVCache) and
	// attend over the caches' whole capacity with a mask built from it, so a decode step has
	// the same graph at every position and compiles once. Offset is then ignored.
	Position *mx.Array
	// Key, when set, enables dropout (training) and seeds it; nil means inference.
	Key *mx.Array
	// Mask is an optional additive (float) or keep (bool) attention mask broadcastable to
	// (B, H, L, Offset+L) (to (B, H, L, capacity) with Position and a static cache), for
	// padding; causality is always applied on top.
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

// StaticCacher is implemented by mixers that can decode with static caches (see
// Context.Position). NewStaticCache makes one for batch rows and capacity positions whose
// arrays have dtype dt (the compute dtype, so that every decode step has the same signature).
// A type that embeds such a mixer but has a Forward of its own that ignores Context.Position
// must override it with one that returns an error.
type StaticCacher interface {
	NewStaticCache(batch, capacity int, dt mx.DType) (Cache, error)
}

// ArrayCache is a Cache whose state can be swapped for other arrays of the same shapes: a
// compiled decode step rebuilds its caches around its arguments with WithArrays.
type ArrayCache interface {
	Cache
	// WithArrays returns a copy of the cache holding arrays (in the order of Arrays) instead.
	WithArrays(arrays []*mx.Array) Cache
}
