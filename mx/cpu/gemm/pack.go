package gemm

// Packing copies a block of op(A) or op(B) into the contiguous, zero-padded
// micro-panel layout that the kernels stream through:
//
//   - A block (mc×kc of op(A)) → ⌈mc/MR⌉ panels; panel q holds rows
//     q*MR..q*MR+MR-1 as kc groups of MR values: panel[p*MR+i] = op(A)[q*MR+i][p].
//   - B block (kc×nc of op(B)) → ⌈nc/NR⌉ panels; panel q holds columns
//     q*NR..q*NR+NR-1 as kc groups of NR values: panel[p*NR+j] = op(B)[p][q*NR+j].
//
// Rows (columns) past the edge of the block are written as zeros, so the
// kernels always run on full tiles. Transposition is absorbed here: for
// each operand one of the two layouts is a run of contiguous copies
// (packRows) and the other a gather from kc-long rows (packCols).

// packA packs op(A)[0:mc, 0:kc] into dst. a starts at op(A)[0][0]: with
// transA unset op(A)[i][p] = a[i*lda+p], with it set op(A)[i][p] = a[p*lda+i].
// fast, if not nil, replaces packRows (transA) or packCols (!transA) for
// full panels; likewise in packB.
func packA[T float](dst []T, transA bool, a []T, lda, mc, kc, mr int, fast packFunc[T]) {
	for i := 0; i < mc; i += mr {
		w := min(mr, mc-i)
		panel := dst[i*kc : i*kc+mr*kc]
		switch {
		case fast != nil && w == mr && transA:
			fast(panel, a[i:], lda, mr, kc)
		case fast != nil && w == mr:
			fast(panel, a[i*lda:], lda, mr, kc)
		case transA:
			packRows(panel, a[i:], lda, w, mr, kc)
		default:
			packCols(panel, a[i*lda:], lda, w, mr, kc)
		}
	}
}

// packB packs op(B)[0:kc, 0:nc] into dst. b starts at op(B)[0][0]: with
// transB unset op(B)[p][j] = b[p*ldb+j], with it set op(B)[p][j] = b[j*ldb+p].
func packB[T float](dst []T, transB bool, b []T, ldb, kc, nc, nr int, fast packFunc[T]) {
	for j := 0; j < nc; j += nr {
		w := min(nr, nc-j)
		panel := dst[j*kc : j*kc+nr*kc]
		switch {
		case fast != nil && w == nr && transB:
			fast(panel, b[j*ldb:], ldb, nr, kc)
		case fast != nil && w == nr:
			fast(panel, b[j:], ldb, nr, kc)
		case transB:
			packCols(panel, b[j*ldb:], ldb, w, nr, kc)
		default:
			packRows(panel, b[j:], ldb, w, nr, kc)
		}
	}
}

// packFunc is an accelerated packCols for full panels (w == mr):
// panel[p*mr+q] = src[q*ld+p] for p < kc, q < mr.
type packFunc[T float] func(panel, src []T, ld, mr, kc int)

// packRows fills panel[p*mr+q] = src[p*ld+q] for p < kc, q < w, and zeros
// for w <= q < mr: each k step is one contiguous run of the source.
func packRows[T float](panel, src []T, ld, w, mr, kc int) {
	panel = panel[:kc*mr]
	if w < mr {
		clear(panel)
	}
	for p := 0; p < kc; p++ {
		d := panel[p*mr : p*mr+w]
		for q, v := range src[p*ld : p*ld+w] {
			d[q] = v
		}
	}
}

// packCols fills panel[p*mr+q] = src[q*ld+p] for p < kc, q < w, and zeros
// for w <= q < mr: each of the w source rows is read contiguously.
func packCols[T float](panel, src []T, ld, w, mr, kc int) {
	panel = panel[:kc*mr]
	if w < mr {
		clear(panel)
	}
	if w == 6 && mr == 6 {
		r0 := src[0*ld : 0*ld+kc]
		r1 := src[1*ld : 1*ld+kc]
		r2 := src[2*ld : 2*ld+kc]
		r3 := src[3*ld : 3*ld+kc]
		r4 := src[4*ld : 4*ld+kc]
		r5 := src[5*ld : 5*ld+kc]
		for p := range r0 {
			d := panel[p*6 : p*6+6 : p*6+6]
			d[0] = r0[p]
			d[1] = r1[p]
			d[2] = r2[p]
			d[3] = r3[p]
			d[4] = r4[p]
			d[5] = r5[p]
		}
		return
	}
	q := 0
	for ; q+4 <= w; q += 4 {
		r0 := src[(q+0)*ld : (q+0)*ld+kc]
		r1 := src[(q+1)*ld : (q+1)*ld+kc]
		r2 := src[(q+2)*ld : (q+2)*ld+kc]
		r3 := src[(q+3)*ld : (q+3)*ld+kc]
		for p := range r0 {
			d := panel[p*mr+q : p*mr+q+4 : p*mr+q+4]
			d[0] = r0[p]
			d[1] = r1[p]
			d[2] = r2[p]
			d[3] = r3[p]
		}
	}
	for ; q < w; q++ {
		r := src[q*ld : q*ld+kc]
		for p, v := range r {
			panel[p*mr+q] = v
		}
	}
}
