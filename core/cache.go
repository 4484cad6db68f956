package core

import (
	"fmt"
	"slices"

	"github.com/lmxlab/lmxlab/mx"
)

// KVCache holds a layer's keys and values in fixed-capacity buffers (B, Hkv, Capacity, hd), so
// decode steps write in place (a SliceUpdate) instead of growing arrays.
//
// A cache is dynamic or static. A dynamic cache (NewKVCache) knows its length on the host:
// Update writes at it and returns only the stored positions, so each step's graph has the
// shapes of its position (fast eagerly, but a compiler sees a new program every token). A
// static cache (NewStaticKVCache) is written by UpdateAt at a run-time position array and
// always hands back its whole capacity, which the attention masks by position: every decode
// step has one signature, so a compiled step is traced and compiled once.
type KVCache struct {
	K, V     *mx.Array
	length   int
	capacity int
	window   int // if > 0, only the last window positions are ever attended to
	static   bool
}

// NewKVCache makes an empty dynamic cache. window > 0 marks a sliding-window layer.
func NewKVCache(batch, kvHeads, capacity, headDim, window int) *KVCache {
	return &KVCache{capacity: capacity, window: window,
		K: mx.Zeros([]int{batch, kvHeads, capacity, headDim}, mx.Float32),
		V: mx.Zeros([]int{batch, kvHeads, capacity, headDim}, mx.Float32)}
}

// NewStaticKVCache makes an empty static cache of dtype dt (see KVCache). A sliding-window
// layer keeps every position too: its window is applied by the attention mask.
func NewStaticKVCache(batch, kvHeads, capacity, headDim, window int, dt mx.DType) *KVCache {
	shape := []int{batch, kvHeads, capacity, headDim}
	return &KVCache{capacity: capacity, window: window, static: true, K: mx.Zeros(shape, dt), V: mx.Zeros(shape, dt)}
}

// Len is the number of stored positions. For a static cache it counts the positions written
// by UpdateAt on the host's side, assuming they were written one after another from 0.
func (c *KVCache) Len() int { return c.length }

// Capacity is the maximum number of positions.
func (c *KVCache) Capacity() int { return c.capacity }

// Static reports whether the cache is static (written by UpdateAt).
func (c *KVCache) Static() bool { return c.static }

// Arrays lists K and V.
func (c *KVCache) Arrays() []*mx.Array { return []*mx.Array{c.K, c.V} }

// WithArrays returns a copy of the cache holding K and V = arrays[0], arrays[1].
func (c *KVCache) WithArrays(arrays []*mx.Array) Cache {
	if len(arrays) != 2 || !slices.Equal(arrays[0].Shape(), c.K.Shape()) || !slices.Equal(arrays[1].Shape(), c.V.Shape()) {
		panic(fmt.Sprintf("core.KVCache.WithArrays: want K %v and V %v, got %d arrays", c.K.Shape(), c.V.Shape(), len(arrays)))
	}
	cp := *c
	cp.K, cp.V = arrays[0], arrays[1]
	return &cp
}

// Update appends k and v (B, Hkv, L, hd) to a dynamic cache and returns the keys and values to
// attend to: every stored position, or for a windowed layer the last window-1+L of them (enough
// for each new query to see its full window).
func (c *KVCache) Update(k, v *mx.Array) (*mx.Array, *mx.Array) {
	if c.static {
		panic("core.KVCache: a static cache is written with UpdateAt (set core.Context.Position)")
	}
	l := k.Dim(2)
	if c.length+l > c.capacity {
		panic(fmt.Sprintf("core.KVCache: %d positions exceed the capacity %d", c.length+l, c.capacity))
	}
	c.matchDType(k, v)
	start := []int{0, 0, c.length, 0}
	stop := []int{k.Dim(0), k.Dim(1), c.length + l, k.Dim(3)}
	c.K = mx.SliceUpdate(c.K, k, start, stop, nil)
	c.V = mx.SliceUpdate(c.V, v, start, stop, nil)
	c.length += l
	first := 0
	if c.window > 0 {
		first = max(0, c.length-(c.window-1+l))
	}
	return mx.SliceAxis(c.K, 2, first, c.length), mx.SliceAxis(c.V, 2, first, c.length)
}

// UpdateAt writes k and v (B, Hkv, L, hd) into a static cache at the run-time position pos (an
// integer scalar array) and returns the whole buffers (B, Hkv, Capacity, hd): key j of them
// sits at absolute position j. Positions past the capacity are clamped, as mx.DynamicUpdateSlice
// documents, so the caller keeps pos+L <= Capacity.
func (c *KVCache) UpdateAt(k, v, pos *mx.Array) (*mx.Array, *mx.Array) {
	if !c.static {
		panic("core.KVCache: UpdateAt needs a static cache (NewStaticKVCache); a dynamic one is written with Update")
	}
	l := k.Dim(2)
	if l > c.capacity {
		panic(fmt.Sprintf("core.KVCache: %d positions exceed the capacity %d", l, c.capacity))
	}
	c.matchDType(k, v)
	c.K = mx.DynamicUpdateSliceAxis(c.K, k, 2, pos)
	c.V = mx.DynamicUpdateSliceAxis(c.V, v, 2, pos)
	c.length = min(c.length+l, c.capacity)
	return c.K, c.V
}

// matchDType converts the buffers to the dtype of the keys and values being written.
func (c *KVCache) matchDType(k, v *mx.Array) {
	if c.K.DType() != k.DType() {
		c.K, c.V = mx.AsType(c.K, k.DType()), mx.AsType(c.V, v.DType())
	}
}
