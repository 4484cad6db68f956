package cpu

import (
	"runtime"
	"sync"
)

// minParallelWork is the amount of work (elements times cost per element) below which a loop
// runs on the calling goroutine: spawning goroutines costs more than it saves.
const minParallelWork = 1 << 15

// parallelFor splits [0, n) into contiguous chunks, one per core, and runs fn on each. cost is a
// rough per-item cost (1 for a cheap elementwise op). Each index is handled by exactly one call,
// so kernels that write disjoint outputs per index are deterministic whatever the split.
func parallelFor(n, cost int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n <= 1 || workers == 1 || n*cost < minParallelWork {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	if workers > n {
		workers = n
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failure any
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					failure = r
					mu.Unlock()
				}
			}()
			fn(lo, hi)
		}()
	}
	wg.Wait()
	if failure != nil {
		panic(failure) // re-raised on the calling goroutine, where Run recovers it
	}
}
