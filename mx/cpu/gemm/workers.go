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
// after finishing a job, poll for the next one for a short while (yielding
// the processor to any other runnable goroutine as they do) before parking.
// Back-to-back GEMMs then hand work to running helpers without any wake-up.
//
// Which helper runs a job does not matter: the work partition is fixed by
// the caller before dispatch (see parallel.go).

// helperSpin is how long an idle helper polls for work before parking.
const helperSpin = time.Millisecond

type helper struct {
	job  atomic.Pointer[func()]
	wake chan struct{} // capacity 1: a token means "look at job"
}

var idleHelpers struct {
	sync.Mutex
	list []*helper
}

// goHelper runs fn on a helper goroutine.
func goHelper(fn *func()) {
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
}

func (h *helper) loop() {
	for {
		// Poll for a job, then park until woken.
		start := time.Now()
		for i := 0; h.job.Load() == nil; i++ {
			if i&15 == 15 && time.Since(start) > helperSpin {
				<-h.wake
				start = time.Now()
			}
			runtime.Gosched()
		}
		fn := h.job.Swap(nil)
		(*fn)()
		idleHelpers.Lock()
		idleHelpers.list = append(idleHelpers.list, h)
		idleHelpers.Unlock()
	}
}
