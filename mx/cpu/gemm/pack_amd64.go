//go:build amd64 && !purego

package gemm

import "unsafe"

// packA6T8 sets dst[p*6+i] = src[i*ld+p] for p < 8*n8, i < 6 (n8 > 0).
//
//go:noescape
func packA6T8(n8 int, src *float32, ld int, dst *float32)

// packB16T8 sets dst[p*16+j] = src[j*ld+p] for p < 8*n8, j < 16 (n8 > 0).
//
//go:noescape
func packB16T8(n8 int, src *float32, ld int, dst *float32)

// copyRowsW copies n > 0 rows of W bytes, src rows ld bytes apart, to
// consecutive W-byte rows of dst.
//
//go:noescape
func copyRows64(n int, src unsafe.Pointer, ld int, dst unsafe.Pointer)

//go:noescape
func copyRows48(n int, src unsafe.Pointer, ld int, dst unsafe.Pointer)

//go:noescape
func copyRows24(n int, src unsafe.Pointer, ld int, dst unsafe.Pointer)

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

// packRowsAsm is the assembly fast path of packRows for full panels whose
// rows are 24, 48 or 64 bytes: panel[p*mr+q] = src[p*ld+q], p < kc, q < mr.
func packRowsAsm[T float](panel, src []T, ld, mr, kc int) {
	panel = panel[:kc*mr]
	_ = src[(kc-1)*ld+mr-1] // every row read lies inside src
	size := int(unsafe.Sizeof(panel[0]))
	s, d := unsafe.Pointer(&src[0]), unsafe.Pointer(&panel[0])
	switch mr * size {
	case 64:
		copyRows64(kc, s, ld*size, d)
	case 48:
		copyRows48(kc, s, ld*size, d)
	case 24:
		copyRows24(kc, s, ld*size, d)
	default:
		panic("gemm: no row copy for this panel width")
	}
}

var (
	sPackColsAsm packFunc[float32] = packColsAsm32
	sPackRowsAsm packFunc[float32] = packRowsAsm[float32]
	dPackColsAsm packFunc[float64] // none: the Go gather is used
	dPackRowsAsm packFunc[float64] = packRowsAsm[float64]
)
