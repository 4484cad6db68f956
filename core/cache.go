package core

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx"
)

// KVCache holds a layer's keys and values in fixed-capacity buffers (B, Hkv, Capacity, hd), so
// decode steps write in place (a SliceUpdate) instead of growing arrays.
type KVCache struct {
	K, V     *mx.Array
	length   int
	capacity int
	window   int // if > 0, only the last window positions are ever attended to
}

// NewKVCache makes an empty cache. window > 0 marks a sliding-window layer.
func NewKVCache(batch, kvHeads, capacity, headDim, window int) *KVCache {
	return &KVCache{capacity: capacity, window: window,
		K: mx.Zeros([]int{batch, kvHeads, capacity, headDim}, mx.Float32),
		V: mx.Zeros([]int{batch, kvHeads, capacity, headDim}, mx.Float32)}
}

// Len is the number of stored positions.
func (c *KVCache) Len() int { return c.length }

// Capacity is the maximum number of positions.
func (c *KVCache) Capacity() int { return c.capacity }

// Arrays lists K and V.
func (c *KVCache) Arrays() []*mx.Array { return []*mx.Array{c.K, c.V} }

// Update appends k and v (B, Hkv, L, hd) and returns the keys and values to attend to: every
// stored position, or for a windowed layer the last window-1+L of them (enough for each new
// query to see its full window).
func (c *KVCache) Update(k, v *mx.Array) (*mx.Array, *mx.Array) {
	l := k.Dim(2)
	if c.length+l > c.capacity {
		panic(fmt.Sprintf("core.KVCache: %d positions exceed the capacity %d", c.length+l, c.capacity))
	}
	if c.K.DType() != k.DType() {
		c.K, c.V = mx.AsType(c.K, k.DType()), mx.AsType(c.V, v.DType())
	}
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
