// Package gemm is lmxlab's CPU matrix-multiply engine: deterministic,
// parallel float32 and float64 GEMM for row-major matrices.
//
// # Layout conventions
//
// All matrices are row-major with an explicit row stride (lda, ldb, ldc, in
// elements, at least the number of stored columns). op(A) is m×k and op(B)
// is k×n. With transA set, A is stored k×m and op(A) = Aᵀ; with transB set,
// B is stored n×k and op(B) = Bᵀ. No transposed copy is ever made: the
// transposition is absorbed by the packing routines. The batched forms
// take a per-entry element offset (stride) for each operand; a stride of 0
// broadcasts that operand to every entry (C's entries must not overlap).
// beta == 0 overwrites C without reading it, so C may hold NaNs; alpha == 0
// or k == 0 reduces to C = beta*C without reading A or B.
//
// # Blocking
//
// The algorithm is the classic GotoBLAS/BLIS loop nest:
//
//	for jc over n in steps of NC:                     (B block → L3)
//	  for pc over k in steps of KC:
//	    pack op(B)[pc:pc+KC, jc:jc+NC] into NR-column panels
//	    for ic over m in steps of MC:                   (A block → L2)
//	      pack op(A)[ic:ic+MC, pc:pc+KC] into MR-row panels
//	      for jr over the NC columns in steps of NR:    (B micro-panel → L1)
//	        for ir over the MC rows in steps of MR:
//	          micro-kernel: MR×NR tile of C += A panel · B panel
//
// Panels are zero-padded to whole MR×NR tiles, so the kernel always runs on
// full tiles; a tile that sticks out of C is staged through a small buffer
// and only its valid part is copied back. On amd64 with AVX2 and FMA the
// kernels are assembly (6×16 float32 tiles, 6×8 float64 tiles, 12 ymm
// accumulators); elsewhere, or with the purego build tag, portable Go
// kernels with the same tile shapes are used. Block sizes are tuned for a
// Zen 3 core (32 KiB L1d, 512 KiB L2): see the constants in gemm.go.
//
// # Parallelism and determinism
//
// Work is split by a fixed partition that depends only on the problem
// shape and GOMAXPROCS (see planSplit): the batch's C matrices are cut into
// a grid of rectangular pieces aligned to the micro-tile, and each of up to
// GOMAXPROCS workers is given a contiguous run of (batch entry, piece)
// units. Each piece is computed by the sequential blocked algorithm with
// private packing buffers; workers share nothing but the read-only inputs.
// Products with fewer than about 256K multiply-adds (m*n*k summed over the
// batch) run entirely on the calling goroutine and do not allocate.
//
// Worker 0 is the caller. The others run on persistent helper goroutines
// that poll briefly for work before parking (see workers.go), because waking
// a parked thread can cost as much as a small GEMM. If a helper has not
// started its share by the time the caller has finished its own, the caller
// runs that share itself; the share is the same either way.
//
// Every element of C is computed the same way whichever piece or goroutine
// it lands in: k is cut into ⌈k/KC⌉ near-equal blocks (a function of k
// alone); within a block the kernel accumulates the products in increasing
// k order from zero with one fused multiply-add per step, then writes
// alpha*acc + beta*C (beta = 1 after the first block), and edge tiles run the
// very same kernel on a staging copy. Results are therefore bitwise
// identical from run to run and for every GOMAXPROCS on a given machine and
// kernel. (The assembly kernels always fuse multiply and add; the pure-Go
// kernels round as the compiler's code for s += a*b does, so the two paths
// may differ from each other in the last bits.)
package gemm
