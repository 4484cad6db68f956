package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Helper goroutines. Starting a goroutine is cheap, but getting it running
// on another core is not: the runtime must wake a parked thread, which on a
// virtual machine can take tens to hundreds of microseconds, as long as a
// whole 256³ product. So, like BLAS thread pools, helpers are kept alive and,
// after finishing a job, poll for the next one for a short while before
// parking; back-to-back GEMMs then hand work to running helpers without any
// wake-up. The caller likewise polls for its helpers to finish rather than
// blocking, so that it keeps its processor and needs no wake-up either.
//
// Polling never yields the processor: a helper that yielded could be picked
// up by the caller's processor and then queue behind the caller while the
// other processor sleeps, serialising everything. A helper polls on its own
// processor or is parked on its wake channel; sending on that channel also
// makes the runtime start an idle processor.
//
// Polling holds a processor, so a helper also parks as soon as the number
// of goroutines grows: new goroutines are usually someone else's parallel
// work, which must not wait for the processor the helper sits on.
//
// A job the helper has not claimed by the time the caller has finished its
// own share is taken back and run by the caller, so a helper that is slow to
// wake costs at most the parallelism, never a stall. The work partition is
// fixed by the caller before dispatch (see parallel.go), and which goroutine
// runs a piece has no effect on the arithmetic.

// helperSpin is how long an idle helper polls for work before parking.
const helperSpin = 300 * time.Microsecond

type helper struct {
	job  atomic.Pointer[func()]
	wake chan struct{} // capacity 1: a token means "look at job"
}

var idleHelpers struct {
	sync.Mutex
	list []*helper
}

// goHelper hands fn to an idle helper (starting one if none is idle) and
// returns it; the caller may take fn back with h.job.CompareAndSwap(fn, nil)
// and must then release h itself.
func goHelper(fn *func()) *helper {
	idleHelpers.Lock()
	var h *helper
	if n := len(idleHelpers.list); n > 0 {
		h = idleHelpers.list[n-1]
		idleHelpers.list = idleHelpers.list[:n-1]
	}
	idleHelpers.Unlock()
	if h == nil {
		h = &helper{wake: make(chan struct{}, 1)}
		go h.loop()
	}
	h.job.Store(fn)
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return h
}

// release returns h to the idle list.
func (h *helper) release() {
	idleHelpers.Lock()
	idleHelpers.list = append(idleHelpers.list, h)
	idleHelpers.Unlock()
}

func (h *helper) loop() {
	for {
		start, base := time.Now(), runtime.NumGoroutine()
		for i := 0; h.job.Load() == nil; i++ {
			if i&63 == 63 && (time.Since(start) > helperSpin || runtime.NumGoroutine() > base) {
				<-h.wake
				start, base = time.Now(), runtime.NumGoroutine()
			}
		}
		if fn := h.job.Swap(nil); fn != nil {
			(*fn)()
			h.release()
		}
	}
}

// waitZero polls until n reaches zero. Every few thousand polls it yields,
// in case the helper it waits for was preempted onto the caller's processor.
func waitZero(n *atomic.Int32) {
	for i := 1; n.Load() != 0; i++ {
		if i&4095 == 0 {
			runtime.Gosched()
		}
	}
}
