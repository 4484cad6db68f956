// Copyright 2025 The lmxlab Authors. All rights reserved.

//go:build amd64 && !purego

#include "textflag.h"

// AVX2/FMA micro-kernels. Both compute a 6-row tile of C from one packed A
// micro-panel (6 values per k step) and one packed B micro-panel (one
// 32-byte-pair row of B per k step), keeping the whole tile in Y0..Y11:
//
//	Y(2i), Y(2i+1) = row i of the tile, i = 0..5
//	Y12, Y13       = the current row of the B panel
//	Y14, Y15       = broadcasts of A values
//
// The k loop runs in order p = 0, 1, ..., k-1 with one FMA per element per
// step, so the summation order of every element is fixed. The epilogue
// writes C = alpha*acc (load == 0, C is never read) or
// C = alpha*acc + beta*C (load != 0, one fused multiply-add).

// ---------------------------------------------------------------- float32

// SSTEP does one k step; A advances 24 bytes and B 64 bytes per step.
#define SSTEP(aoff, boff) \
	VMOVUPS      boff(DI), Y12          \
	VMOVUPS      boff+32(DI), Y13       \
	VBROADCASTSS aoff(SI), Y14          \
	VFMADD231PS  Y12, Y14, Y0           \
	VFMADD231PS  Y13, Y14, Y1           \
	VBROADCASTSS aoff+4(SI), Y15        \
	VFMADD231PS  Y12, Y15, Y2           \
	VFMADD231PS  Y13, Y15, Y3           \
	VBROADCASTSS aoff+8(SI), Y14        \
	VFMADD231PS  Y12, Y14, Y4           \
	VFMADD231PS  Y13, Y14, Y5           \
	VBROADCASTSS aoff+12(SI), Y15       \
	VFMADD231PS  Y12, Y15, Y6           \
	VFMADD231PS  Y13, Y15, Y7           \
	VBROADCASTSS aoff+16(SI), Y14       \
	VFMADD231PS  Y12, Y14, Y8           \
	VFMADD231PS  Y13, Y14, Y9           \
	VBROADCASTSS aoff+20(SI), Y15       \
	VFMADD231PS  Y12, Y15, Y10          \
	VFMADD231PS  Y13, Y15, Y11

// SROW finishes one row of the tile (load path): acc*alpha + beta*C.
#define SROWLOAD(r0, r1) \
	VMULPS      Y12, r0, r0    \
	VMULPS      Y12, r1, r1    \
	VFMADD231PS (DX), Y13, r0  \
	VFMADD231PS 32(DX), Y13, r1 \
	VMOVUPS     r0, (DX)       \
	VMOVUPS     r1, 32(DX)     \
	ADDQ        R8, DX

#define SROWSTORE(r0, r1) \
	VMULPS  Y12, r0, r0 \
	VMULPS  Y12, r1, r1 \
	VMOVUPS r0, (DX)    \
	VMOVUPS r1, 32(DX)  \
	ADDQ    R8, DX

// func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	// Pull the C tile towards L1 while the k loop runs.
	MOVQ       DX, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   stail

sloop4:
	SSTEP(0, 0)
	SSTEP(24, 64)
	SSTEP(48, 128)
	SSTEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  sloop4

stail:
	ANDQ $3, CX
	JZ   sdone

sloop1:
	SSTEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  sloop1

sdone:
	VBROADCASTSS alpha+40(FP), Y12
	MOVQ         load+48(FP), AX
	TESTQ        AX, AX
	JZ           sstore
	VBROADCASTSS beta+44(FP), Y13
	SROWLOAD(Y0, Y1)
	SROWLOAD(Y2, Y3)
	SROWLOAD(Y4, Y5)
	SROWLOAD(Y6, Y7)
	SROWLOAD(Y8, Y9)
	SROWLOAD(Y10, Y11)
	VZEROUPPER
	RET

sstore:
	SROWSTORE(Y0, Y1)
	SROWSTORE(Y2, Y3)
	SROWSTORE(Y4, Y5)
	SROWSTORE(Y6, Y7)
	SROWSTORE(Y8, Y9)
	SROWSTORE(Y10, Y11)
	VZEROUPPER
	RET

// ---------------------------------------------------------------- float64

// DSTEP does one k step; A advances 48 bytes and B 64 bytes per step.
#define DSTEP(aoff, boff) \
	VMOVUPD      boff(DI), Y12          \
	VMOVUPD      boff+32(DI), Y13       \
	VBROADCASTSD aoff(SI), Y14          \
	VFMADD231PD  Y12, Y14, Y0           \
	VFMADD231PD  Y13, Y14, Y1           \
	VBROADCASTSD aoff+8(SI), Y15        \
	VFMADD231PD  Y12, Y15, Y2           \
	VFMADD231PD  Y13, Y15, Y3           \
	VBROADCASTSD aoff+16(SI), Y14       \
	VFMADD231PD  Y12, Y14, Y4           \
	VFMADD231PD  Y13, Y14, Y5           \
	VBROADCASTSD aoff+24(SI), Y15       \
	VFMADD231PD  Y12, Y15, Y6           \
	VFMADD231PD  Y13, Y15, Y7           \
	VBROADCASTSD aoff+32(SI), Y14       \
	VFMADD231PD  Y12, Y14, Y8           \
	VFMADD231PD  Y13, Y14, Y9           \
	VBROADCASTSD aoff+40(SI), Y15       \
	VFMADD231PD  Y12, Y15, Y10          \
	VFMADD231PD  Y13, Y15, Y11

#define DROWLOAD(r0, r1) \
	VMULPD      Y12, r0, r0    \
	VMULPD      Y12, r1, r1    \
	VFMADD231PD (DX), Y13, r0  \
	VFMADD231PD 32(DX), Y13, r1 \
	VMOVUPD     r0, (DX)       \
	VMOVUPD     r1, 32(DX)     \
	ADDQ        R8, DX

#define DROWSTORE(r0, r1) \
	VMULPD  Y12, r0, r0 \
	VMULPD  Y12, r1, r1 \
	VMOVUPD r0, (DX)    \
	VMOVUPD r1, 32(DX)  \
	ADDQ    R8, DX

// func dgemmKernel6x8(k int, a, b, c *float64, ldc int, alpha, beta float64, load int)
TEXT ·dgemmKernel6x8(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8

	MOVQ       DX, R9
	PREFETCHT0 (R9)
	PREFETCHT0 56(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 56(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 56(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 56(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 56(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 56(R9)

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   dtail

dloop4:
	DSTEP(0, 0)
	DSTEP(48, 64)
	DSTEP(96, 128)
	DSTEP(144, 192)
	ADDQ $192, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  dloop4

dtail:
	ANDQ $3, CX
	JZ   ddone

dloop1:
	DSTEP(0, 0)
	ADDQ $48, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  dloop1

ddone:
	VBROADCASTSD alpha+40(FP), Y12
	MOVQ         load+56(FP), AX
	TESTQ        AX, AX
	JZ           dstore
	VBROADCASTSD beta+48(FP), Y13
	DROWLOAD(Y0, Y1)
	DROWLOAD(Y2, Y3)
	DROWLOAD(Y4, Y5)
	DROWLOAD(Y6, Y7)
	DROWLOAD(Y8, Y9)
	DROWLOAD(Y10, Y11)
	VZEROUPPER
	RET

dstore:
	DROWSTORE(Y0, Y1)
	DROWSTORE(Y2, Y3)
	DROWSTORE(Y4, Y5)
	DROWSTORE(Y6, Y7)
	DROWSTORE(Y8, Y9)
	DROWSTORE(Y10, Y11)
	VZEROUPPER
	RET
