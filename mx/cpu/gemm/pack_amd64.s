//go:build amd64 && !purego

#include "textflag.h"

// Packing helpers for the float32 kernels: in-register transposes that turn
// rows of a matrix into the k-major micro-panel layout (see pack.go).

// func packA6T8(n8 int, src *float32, ld int, dst *float32)
//
// For p < 8*n8 and i < 6: dst[p*6+i] = src[i*ld+p]. Eight k steps per
// iteration: six row loads, a 6×8 transpose (unpack + shuffle) and sixteen
// narrow stores.
TEXT ·packA6T8(SB), NOSPLIT, $0-32
	MOVQ n8+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	MOVQ dst+24(FP), DI
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	LEAQ (SI)(R9*1), R10 // row 3

a6loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (R10), Y3
	VMOVUPS (R10)(R8*1), Y4
	VMOVUPS (R10)(R8*2), Y5

	VUNPCKLPS Y1, Y0, Y6  // r0 r1 interleaved, k 0,1 | 4,5
	VUNPCKHPS Y1, Y0, Y7  // k 2,3 | 6,7
	VUNPCKLPS Y3, Y2, Y8
	VUNPCKHPS Y3, Y2, Y9
	VUNPCKLPS Y5, Y4, Y10 // r4 r5 pairs for k 0,1 | 4,5
	VUNPCKHPS Y5, Y4, Y11 // k 2,3 | 6,7

	VSHUFPS $0x44, Y8, Y6, Y0 // rows 0-3 of k 0 | 4
	VSHUFPS $0xEE, Y8, Y6, Y1 // k 1 | 5
	VSHUFPS $0x44, Y9, Y7, Y2 // k 2 | 6
	VSHUFPS $0xEE, Y9, Y7, Y3 // k 3 | 7

	VMOVUPS X0, 0(DI)
	VMOVLPS X10, 16(DI)
	VMOVUPS X1, 24(DI)
	VMOVHPS X10, 40(DI)
	VMOVUPS X2, 48(DI)
	VMOVLPS X11, 64(DI)
	VMOVUPS X3, 72(DI)
	VMOVHPS X11, 88(DI)

	VEXTRACTF128 $1, Y10, X10
	VEXTRACTF128 $1, Y11, X11
	VEXTRACTF128 $1, Y0, 96(DI)
	VMOVLPS      X10, 112(DI)
	VEXTRACTF128 $1, Y1, 120(DI)
	VMOVHPS      X10, 136(DI)
	VEXTRACTF128 $1, Y2, 144(DI)
	VMOVLPS      X11, 160(DI)
	VEXTRACTF128 $1, Y3, 168(DI)
	VMOVHPS      X11, 184(DI)

	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $192, DI
	DECQ CX
	JNZ  a6loop
	VZEROUPPER
	RET

// TRANSPOSE8 transposes the 8×8 block in Y0..Y7 (row i in Yi) into Y0..Y7
// (column j in Yj), using Y8..Y15 as scratch.
#define TRANSPOSE8 \
	VUNPCKLPS  Y1, Y0, Y8         \
	VUNPCKHPS  Y1, Y0, Y9         \
	VUNPCKLPS  Y3, Y2, Y10        \
	VUNPCKHPS  Y3, Y2, Y11        \
	VUNPCKLPS  Y5, Y4, Y12        \
	VUNPCKHPS  Y5, Y4, Y13        \
	VUNPCKLPS  Y7, Y6, Y14        \
	VUNPCKHPS  Y7, Y6, Y15        \
	VSHUFPS    $0x44, Y10, Y8, Y0 \
	VSHUFPS    $0xEE, Y10, Y8, Y1 \
	VSHUFPS    $0x44, Y11, Y9, Y2 \
	VSHUFPS    $0xEE, Y11, Y9, Y3 \
	VSHUFPS    $0x44, Y14, Y12, Y4 \
	VSHUFPS    $0xEE, Y14, Y12, Y5 \
	VSHUFPS    $0x44, Y15, Y13, Y6 \
	VSHUFPS    $0xEE, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8  \
	VPERM2F128 $0x20, Y5, Y1, Y9  \
	VPERM2F128 $0x20, Y6, Y2, Y10 \
	VPERM2F128 $0x20, Y7, Y3, Y11 \
	VPERM2F128 $0x31, Y4, Y0, Y12 \
	VPERM2F128 $0x31, Y5, Y1, Y13 \
	VPERM2F128 $0x31, Y6, Y2, Y14 \
	VPERM2F128 $0x31, Y7, Y3, Y15

// After TRANSPOSE8, column j (k step j) is in: j=0 Y8, 1 Y9, 2 Y10, 3 Y11,
// 4 Y12, 5 Y13, 6 Y14, 7 Y15.

// LOAD8 loads 8 floats at offset 0 of the 8 rows starting at base (rows
// base, base+ld, ..., with R8 = ld bytes, R9 = 3*ld bytes, aux = base+3*ld).
#define LOAD8(base, aux) \
	VMOVUPS (base), Y0          \
	VMOVUPS (base)(R8*1), Y1    \
	VMOVUPS (base)(R8*2), Y2    \
	VMOVUPS (aux), Y3           \
	VMOVUPS (base)(R8*4), Y4    \
	VMOVUPS (aux)(R8*2), Y5     \
	VMOVUPS (base)(R9*2), Y6    \
	VMOVUPS (aux)(R8*4), Y7

#define STORE8(off) \
	VMOVUPS Y8, off+0(DI)   \
	VMOVUPS Y9, off+64(DI)  \
	VMOVUPS Y10, off+128(DI) \
	VMOVUPS Y11, off+192(DI) \
	VMOVUPS Y12, off+256(DI) \
	VMOVUPS Y13, off+320(DI) \
	VMOVUPS Y14, off+384(DI) \
	VMOVUPS Y15, off+448(DI)

// func packB16T8(n8 int, src *float32, ld int, dst *float32)
//
// For p < 8*n8 and j < 16: dst[p*16+j] = src[j*ld+p]. Eight k steps per
// iteration as two 8×8 transposes.
TEXT ·packB16T8(SB), NOSPLIT, $0-32
	MOVQ n8+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	MOVQ dst+24(FP), DI
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	LEAQ (SI)(R9*1), R10  // row 3
	LEAQ (SI)(R8*8), R11  // row 8
	LEAQ (R11)(R9*1), R12 // row 11

b16loop:
	LOAD8(SI, R10)
	TRANSPOSE8
	STORE8(0)
	LOAD8(R11, R12)
	TRANSPOSE8
	STORE8(32)

	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $512, DI
	DECQ CX
	JNZ  b16loop
	VZEROUPPER
	RET

// Row copies for packRows: dst advances by the row width, src by ld bytes.

// func copyRows64(n int, src unsafe.Pointer, ld int, dst unsafe.Pointer)
TEXT ·copyRows64(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	MOVQ dst+24(FP), DI

c64loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     c64loop
	VZEROUPPER
	RET

// func copyRows48(n int, src unsafe.Pointer, ld int, dst unsafe.Pointer)
TEXT ·copyRows48(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	MOVQ dst+24(FP), DI

c48loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), X1
	VMOVUPS Y0, (DI)
	VMOVUPS X1, 32(DI)
	ADDQ    R8, SI
	ADDQ    $48, DI
	DECQ    CX
	JNZ     c48loop
	VZEROUPPER
	RET

// func copyRows24(n int, src unsafe.Pointer, ld int, dst unsafe.Pointer)
TEXT ·copyRows24(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	MOVQ dst+24(FP), DI

c24loop:
	MOVUPS (SI), X0
	MOVQ   16(SI), AX
	MOVUPS X0, (DI)
	MOVQ   AX, 16(DI)
	ADDQ   R8, SI
	ADDQ   $24, DI
	DECQ   CX
	JNZ    c24loop
	RET
