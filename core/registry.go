package core

import (
	"fmt"
	"sort"
	"sync"

	"github.com/lmxlab/lmxlab/mx"
)

// Registry maps component names to constructors.
type Registry[T any] struct {
	name    string
	mu      sync.RWMutex
	entries map[string]T
}

// NewRegistry makes an empty registry; name appears in error messages.
func NewRegistry[T any](name string) *Registry[T] {
	return &Registry[T]{name: name, entries: map[string]T{}}
}

// Name is the registry's name ("attention", "ffn", ...).
func (r *Registry[T]) Name() string { return r.name }

// Register adds a constructor; registering a name twice panics (a programming error at init).
func (r *Registry[T]) Register(key string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.entries[key]; dup {
		panic(fmt.Sprintf("%s registry already has key %q", r.name, key))
	}
	r.entries[key] = v
}

// Get looks a constructor up, with an error that lists the available names.
func (r *Registry[T]) Get(key string) (T, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.entries[key]
	if !ok {
		return v, fmt.Errorf("%s registry has no key %q; available: %v", r.name, key, r.keysLocked())
	}
	return v, nil
}

// Has reports whether key is registered.
func (r *Registry[T]) Has(key string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.entries[key]
	return ok
}

// Keys lists the registered names, sorted.
func (r *Registry[T]) Keys() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keysLocked()
}

func (r *Registry[T]) keysLocked() []string {
	keys := make([]string, 0, len(r.entries))
	for k := range r.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The constructor signatures. key seeds the initialisation (nil: the default key).

// AttentionFactory builds an attention-like mixer for a block.
type AttentionFactory func(cfg BlockConfig, key *mx.Array) (Mixer, error)

// FFNFactory builds a feed-forward network for a block.
type FFNFactory func(cfg BlockConfig, key *mx.Array) (FFN, error)

// NormFactory builds a normalisation layer of width dim.
type NormFactory func(cfg BlockConfig, dim int) (Norm, error)

// The component registries.
var (
	Attentions = NewRegistry[AttentionFactory]("attention")
	FFNs       = NewRegistry[FFNFactory]("ffn")
	Norms      = NewRegistry[NormFactory]("norm")
	// Positions lists the position encodings a config may name; they are applied by the
	// attention (rope, alibi) or by the model (sinusoidal, learned), so nothing is constructed.
	Positions = NewRegistry[string]("position")
)

func init() {
	Positions.Register("rope", "rotary embedding applied to queries and keys")
	Positions.Register("alibi", "linear attention bias by distance")
	Positions.Register("sinusoidal", "fixed sinusoids added to the embeddings")
	Positions.Register("learned", "a learned table added to the embeddings")
	Positions.Register("none", "no position information (NoPE)")
}
