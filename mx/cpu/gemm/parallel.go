package gemm

import (
	"runtime"
	"sync/atomic"
)

// Work partition. A batched product is cut into units: each of the batch
// matrices of C is split into a gm×gn grid of rectangular pieces whose
// borders fall on multiples of MR rows and NR columns. Unit u is piece
// u mod (gm*gn) of batch entry u / (gm*gn). Worker w of W computes the
// contiguous unit range [w*U/W, (w+1)*U/W), each piece with the full
// sequential blocked algorithm and its own packing buffers; nothing is
// shared between workers but the read-only inputs, and there is no
// synchronisation except the final join.
//
// The partition is a pure function of the problem shape and GOMAXPROCS.
// Moreover no element of C depends on it: every element is computed by
// the same kernel over the same k blocks (see kBlock) whichever piece or
// worker it lands in, so results are bitwise identical for any GOMAXPROCS.

// minWorkPerWorker is the number of multiply-adds (m*n*k summed over the
// batch) below which adding a worker is not worth the start-up cost.
const minWorkPerWorker = 1 << 17

// split is a partition of a batched product.
type split struct {
	workers int // goroutines (the caller is worker 0)
	gm, gn  int // pieces per matrix along m and n
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// planSplit chooses the partition for batch products of shape m×n×k on
// at most procs workers, with micro-tiles of mr×nr.
func planSplit(procs, batch, m, n, k, mr, nr int) split {
	work := float64(batch) * float64(m) * float64(n) * float64(k)
	w := procs
	if lim := work / minWorkPerWorker; lim < float64(w) {
		w = max(1, int(lim))
	}
	if w <= 1 {
		return split{1, 1, 1}
	}
	mt := (m + mr - 1) / mr // row tiles
	nt := (n + nr - 1) / nr // column tiles
	// Pieces per matrix: enough that batch*s is a multiple of w.
	s := w / gcd(batch, w)
	if s > mt*nt {
		s = mt * nt
	}
	// Factor s = gm*gn (gm <= mt, gn <= nt), minimising the packing
	// duplicated across pieces: each piece packs its rows of A and its
	// columns of B, gn*m*k + gm*n*k elements in all.
	best := split{w, 1, 1}
	bestCost := -1.0
	for gm := 1; gm <= s; gm++ {
		if s%gm != 0 || gm > mt || s/gm > nt {
			continue
		}
		gn := s / gm
		cost := float64(gn)*float64(m) + float64(gm)*float64(n)
		if bestCost < 0 || cost < bestCost {
			best, bestCost = split{w, gm, gn}, cost
		}
	}
	if bestCost < 0 { // s has no factorisation that fits the tile grid
		if mt >= nt {
			best = split{w, min(s, mt), 1}
		} else {
			best = split{w, 1, min(s, nt)}
		}
	}
	if u := batch * best.gm * best.gn; u < w {
		best.workers = u
	}
	return best
}

// span returns piece idx of parts along a dimension of length total cut on
// multiples of unit.
func span(total, parts, idx, unit int) (lo, hi int) {
	tiles := (total + unit - 1) / unit
	lo = min(idx*tiles/parts*unit, total)
	hi = min((idx+1)*tiles/parts*unit, total)
	return lo, hi
}

// problem is one batched GEMM call, validated.
type problem[T float] struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    T
	a              []T
	lda, strideA   int
	b              []T
	ldb, strideB   int
	c              []T
	ldc, strideC   int
	batch          int
}

// run executes a validated problem with k > 0 and alpha != 0.
func run[T float](cfg *config[T], p *problem[T]) {
	sp := planSplit(runtime.GOMAXPROCS(0), p.batch, p.m, p.n, p.k, cfg.mr, cfg.nr)
	units := p.batch * sp.gm * sp.gn
	if sp.workers == 1 {
		runUnits(cfg, p, sp, 0, units)
		return
	}
	// Copy the problem so that only this branch makes it escape to the heap.
	q := new(problem[T])
	*q = *p
	type dispatched struct {
		h  *helper
		fn *func()
	}
	var buf [8]dispatched
	jobs := buf[:0]
	var pending atomic.Int32
	pending.Store(int32(sp.workers - 1))
	for w := 1; w < sp.workers; w++ {
		lo, hi := w*units/sp.workers, (w+1)*units/sp.workers
		fn := func() {
			runUnits(cfg, q, sp, lo, hi)
			pending.Add(-1)
		}
		jobs = append(jobs, dispatched{goHelper(&fn), &fn})
	}
	runUnits(cfg, q, sp, 0, units/sp.workers)
	// Run any share whose helper has not started yet.
	for _, j := range jobs {
		if j.h.job.CompareAndSwap(j.fn, nil) {
			(*j.fn)()
			j.h.release()
		}
	}
	waitZero(&pending)
}

// runUnits computes units [lo, hi) of the partition on the calling
// goroutine.
func runUnits[T float](cfg *config[T], p *problem[T], sp split, lo, hi int) {
	if lo >= hi {
		return
	}
	per := sp.gm * sp.gn
	// Size the buffers for the largest piece.
	pm := (p.m + sp.gm - 1) / sp.gm
	pn := (p.n + sp.gn - 1) / sp.gn
	na, nb := cfg.bufSizes(roundUp(pm, cfg.mr), roundUp(pn, cfg.nr), p.k)
	ws := getWorkspace[T](na, nb, cfg.mr*cfg.nr)
	for u := lo; u < hi; u++ {
		bi, piece := u/per, u%per
		i0, i1 := span(p.m, sp.gm, piece/sp.gn, cfg.mr)
		j0, j1 := span(p.n, sp.gn, piece%sp.gn, cfg.nr)
		if i0 >= i1 || j0 >= j1 {
			continue
		}
		a := p.a[bi*p.strideA:]
		b := p.b[bi*p.strideB:]
		c := p.c[bi*p.strideC:]
		if p.transA {
			a = a[i0:]
		} else {
			a = a[i0*p.lda:]
		}
		if p.transB {
			b = b[j0*p.ldb:]
		} else {
			b = b[j0:]
		}
		gemmPiece(cfg, ws, p.transA, p.transB, i1-i0, j1-j0, p.k,
			p.alpha, a, p.lda, b, p.ldb, p.beta, c[i0*p.ldc+j0:], p.ldc)
	}
	putWorkspace(ws)
}
