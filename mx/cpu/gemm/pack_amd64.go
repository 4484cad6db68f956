//go:build amd64 && !purego

package gemm

// packA6T8 sets dst[p*6+i] = src[i*ld+p] for p < 8*n8, i < 6 (n8 > 0).
//
//go:noescape
func packA6T8(n8 int, src *float32, ld int, dst *float32)

// packB16T8 sets dst[p*16+j] = src[j*ld+p] for p < 8*n8, j < 16 (n8 > 0).
//
//go:noescape
func packB16T8(n8 int, src *float32, ld int, dst *float32)

// packColsAsm32 is the assembly fast path of packCols for full float32
// panels of 6 or 16 rows: panel[p*mr+q] = src[q*ld+p], p < kc, q < mr.
func packColsAsm32(panel, src []float32, ld, mr, kc int) {
	panel = panel[:kc*mr]
	_ = src[(mr-1)*ld+kc-1] // every row read lies inside src
	n8 := kc / 8
	if n8 > 0 {
		if mr == 6 {
			packA6T8(n8, &src[0], ld, &panel[0])
		} else {
			packB16T8(n8, &src[0], ld, &panel[0])
		}
	}
	for q := 0; q < mr; q++ {
		r := src[q*ld : q*ld+kc]
		for p := n8 * 8; p < kc; p++ {
			panel[p*mr+q] = r[p]
		}
	}
}
