package cpu

import (
	"unsafe"
)

// Buffer reuse. A run tracks the storage behind every value: how many live values share it
// (Reshape, Identity and StopGradient return their input's buffer, and a kernel may return a
// view of its input) and whether the run allocated it itself for a fused group's output. When
// the last value in a storage is dropped, the storage is dead; if the run allocated it, a later
// fused group of the same dtype and length writes its output there instead of allocating.
// Storage that a program input, a program output or a non-fused kernel's result lives in is
// never reused: only buffers that no one outside the run can hold are. Dead buffers left at the
// end of a run are kept (in a sync.Pool, so the garbage collector may still take them) for the
// next run of the same executable, which then allocates almost nothing for its fused outputs.

// storage is one allocation that values live in.
type storage struct {
	lo, hi   uintptr // address range of the slice's capacity
	bytes    int64   // counted towards PeakBytes (0 for inputs)
	refs     int     // live values in it
	reusable bool    // allocated by the run for a fused output
	data     any     // the slice, when reusable
}

// spareKey is the kind of buffer a fused output needs: float32 or bool, and its length.
type spareKey struct {
	isBool bool
	n      int
}

// spareBuffers holds dead reusable buffers by kind.
type spareBuffers map[spareKey][]any

// arena is one run's storage bookkeeping.
type arena struct {
	st                 []*storage // per node: the storage of its live value
	spare              spareBuffers
	live, peak, reused int64
	allocated          int64 // new storage: fused outputs not reused, and other kernels' results
}

func (e *executable) newArena(nodes int) *arena {
	a := &arena{st: make([]*storage, nodes)}
	if s, ok := e.spare.Get().(spareBuffers); ok {
		a.spare = s
	} else {
		a.spare = spareBuffers{}
	}
	return a
}

// endArena records the run's figures and keeps its dead buffers for the next run.
func (e *executable) endArena(a *arena) {
	e.peak.Store(a.peak)
	e.reused.Store(a.reused)
	e.allocated.Store(a.allocated)
	e.spare.Put(a.spare)
}

// input records a program input (its storage is the caller's).
func (a *arena) input(i int, b *Buffer) {
	lo, hi := span(b.data)
	a.st[i] = &storage{lo: lo, hi: hi, refs: 1}
}

// alloc returns the buffer for fused output node i: a dead buffer of the same kind if there is
// one, else a new one.
func (a *arena) alloc(i int, isBool bool, n int) *Buffer {
	key := spareKey{isBool, n}
	var data any
	if free := a.spare[key]; len(free) > 0 {
		data = free[len(free)-1]
		free[len(free)-1] = nil
		a.spare[key] = free[:len(free)-1]
	}
	bytes := int64(n) * 4
	if isBool {
		bytes = int64(n)
	}
	switch {
	case data != nil:
		a.reused += bytes
	case isBool:
		data = make([]bool, n)
		a.allocated += bytes
	default:
		data = make([]float32, n)
		a.allocated += bytes
	}
	lo, hi := span(data)
	a.st[i] = &storage{lo: lo, hi: hi, bytes: bytes, refs: 1, reusable: true, data: data}
	a.grow(bytes)
	return &Buffer{data}
}

// produced records the result of a non-fused kernel at node i: it shares the storage of an
// input it overlaps (a kernel can only return its inputs' memory or new memory), else it is
// new storage of its own.
func (a *arena) produced(i int, b *Buffer, inputs []int) {
	lo, hi := span(b.data)
	if lo < hi {
		for _, j := range inputs {
			if s := a.st[j]; s != nil && lo < s.hi && s.lo < hi {
				s.refs++
				a.st[i] = s
				return
			}
		}
	}
	bytes := int64(b.Bytes())
	a.st[i] = &storage{lo: lo, hi: hi, bytes: bytes, refs: 1}
	a.allocated += bytes
	a.grow(bytes)
}

func (a *arena) grow(bytes int64) {
	a.live += bytes
	a.peak = max(a.peak, a.live)
}

// drop records that node i's value is dead.
func (a *arena) drop(i int) {
	s := a.st[i]
	if s == nil {
		return
	}
	a.st[i] = nil
	if s.refs--; s.refs > 0 {
		return
	}
	a.live -= s.bytes
	if s.reusable {
		var key spareKey
		switch d := s.data.(type) {
		case []float32:
			key = spareKey{false, len(d)}
		case []bool:
			key = spareKey{true, len(d)}
		}
		a.spare[key] = append(a.spare[key], s.data)
	}
}

// span is the address range of a buffer slice's capacity (empty for a zero-capacity slice).
func span(d any) (lo, hi uintptr) {
	switch v := d.(type) {
	case []float32:
		return spanOf(v)
	case []float64:
		return spanOf(v)
	case []uint16:
		return spanOf(v)
	case []int32:
		return spanOf(v)
	case []int64:
		return spanOf(v)
	case []uint8:
		return spanOf(v)
	case []uint32:
		return spanOf(v)
	case []bool:
		return spanOf(v)
	}
	return 0, 0
}

func spanOf[T any](v []T) (lo, hi uintptr) {
	if cap(v) == 0 {
		return 0, 0
	}
	var z T
	lo = uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return lo, lo + uintptr(cap(v))*unsafe.Sizeof(z)
}
