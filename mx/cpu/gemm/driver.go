package gemm

import (
	"sync"
	"unsafe"
)

// config describes one element type's kernel and cache blocking.
type config[T float] struct {
	mr, nr     int // micro-tile
	kc, mc, nc int // cache blocks: kc | the k depth of a packed panel, mc rows of A, nc columns of B
	kern       kernelFunc[T]
	packCols   packFunc[T] // accelerated packCols for full panels, or nil
	packRows   packFunc[T] // accelerated packRows for full panels, or nil
}

// kBlock returns the depth of the k blocks for a product of depth k: the
// range is cut into ⌈k/kc⌉ blocks of (nearly) equal depth. It depends on k
// and kc only, which fixes the summation order of every element of C.
func kBlock(k, kc int) int {
	nb := (k + kc - 1) / kc
	return (k + nb - 1) / nb
}

// workspace holds one worker's packing buffers.
type workspace[T float] struct {
	a, b []T // packed A block, packed B block (64-byte aligned)
	tile []T // MR×NR staging tile for edge tiles of C
}

var (
	pool32 sync.Pool // *workspace[float32]
	pool64 sync.Pool // *workspace[float64]
)

func poolFor[T float]() *sync.Pool {
	var z T
	if _, ok := any(z).(float32); ok {
		return &pool32
	}
	return &pool64
}

// getWorkspace returns a workspace whose buffers hold at least na and nb
// elements.
func getWorkspace[T float](na, nb, ntile int) *workspace[T] {
	ws, _ := poolFor[T]().Get().(*workspace[T])
	if ws == nil {
		ws = new(workspace[T])
	}
	if len(ws.a) < na {
		ws.a = alignedSlice[T](na)
	}
	if len(ws.b) < nb {
		ws.b = alignedSlice[T](nb)
	}
	if len(ws.tile) < ntile {
		ws.tile = make([]T, ntile)
	}
	return ws
}

func putWorkspace[T float](ws *workspace[T]) { poolFor[T]().Put(ws) }

// alignedSlice allocates n elements starting on a 64-byte boundary.
func alignedSlice[T float](n int) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	extra := 64 / size
	s := make([]T, n+extra)
	off := int(uintptr(unsafe.Pointer(&s[0]))&63) / size
	if off != 0 {
		off = extra - off
	}
	return s[off : off+n : off+n]
}

// bufSizes returns the packing buffer sizes needed for an m×n×k piece.
func (cfg *config[T]) bufSizes(m, n, k int) (na, nb int) {
	kc := kBlock(k, cfg.kc)
	mc := roundUp(min(m, cfg.mc), cfg.mr)
	nc := roundUp(min(n, cfg.nc), cfg.nr)
	return mc * kc, nc * kc
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// gemmPiece computes C = alpha*op(A)*op(B) + beta*C for one m×n×k piece on
// the calling goroutine. a, b and c start at the piece's first row of
// op(A), first column of op(B) and top-left element of C. k > 0.
//
// Loop nest (outer to inner): nc columns of B (packed once per k block),
// kc-deep k blocks, mc rows of A (packed), NR-wide B micro-panels (one stays
// in L1), MR-tall A micro-panels (streamed from L2), kernel.
func gemmPiece[T float](cfg *config[T], ws *workspace[T], transA, transB bool, m, n, k int,
	alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	mr, nr := cfg.mr, cfg.nr
	kern := cfg.kern
	kb := kBlock(k, cfg.kc)
	tile := ws.tile[:mr*nr]
	for jc := 0; jc < n; jc += cfg.nc {
		nc := min(cfg.nc, n-jc)
		for pc := 0; pc < k; pc += kb {
			kc := min(kb, k-pc)
			// op(B)[pc:pc+kc, jc:jc+nc]
			if transB {
				packB(ws.b, true, b[jc*ldb+pc:], ldb, kc, nc, nr, cfg.packCols)
			} else {
				packB(ws.b, false, b[pc*ldb+jc:], ldb, kc, nc, nr, cfg.packRows)
			}
			// The first k block applies beta (and does not read C when
			// beta == 0); later blocks accumulate onto C.
			bet, load := beta, beta != 0
			if pc > 0 {
				bet, load = 1, true
			}
			for ic := 0; ic < m; ic += cfg.mc {
				mc := min(cfg.mc, m-ic)
				// op(A)[ic:ic+mc, pc:pc+kc]
				if transA {
					packA(ws.a, true, a[pc*lda+ic:], lda, mc, kc, mr, cfg.packRows)
				} else {
					packA(ws.a, false, a[ic*lda+pc:], lda, mc, kc, mr, cfg.packCols)
				}
				for jr := 0; jr < nc; jr += nr {
					nw := min(nr, nc-jr)
					bp := ws.b[jr*kc : (jr+nr)*kc]
					for ir := 0; ir < mc; ir += mr {
						mw := min(mr, mc-ir)
						ap := ws.a[ir*kc : (ir+mr)*kc]
						cp := c[(ic+ir)*ldc+jc+jr:]
						if mw == mr && nw == nr {
							kern(kc, ap, bp, cp, ldc, alpha, bet, load)
							continue
						}
						// Edge tile: run the same kernel on a staging tile so
						// the arithmetic matches a full tile bit for bit.
						if load {
							for i := 0; i < mw; i++ {
								copy(tile[i*nr:i*nr+nw], cp[i*ldc:i*ldc+nw])
							}
						}
						kern(kc, ap, bp, tile, nr, alpha, bet, load)
						for i := 0; i < mw; i++ {
							copy(cp[i*ldc:i*ldc+nw], tile[i*nr:i*nr+nw])
						}
					}
				}
			}
		}
	}
}
