//go:build amd64 && !purego

#include "textflag.h"

// AVX loops for the float32 arithmetic of fuse_amd64.go: o[i] = x[i] op y[i], with one of the
// operands a scalar broadcast to every lane in the VS and SV forms, and o[i] = sqrt(x[i]) or
// x[i]² (a correctly rounded float32 square root is what rounding the float64 one gives).
// 32 elements a pass (four YMM registers), then 8, then one at a time with the scalar
// instruction; every element is one IEEE single-precision operation, as in the Go loops, so the
// results are the same whatever the length or alignment. x is always the first source operand.
// Registers: DI = o, SI = x (or the vector operand), DX = y, CX = n, Y15 = the broadcast scalar.

// VVLOOP: o = x VOP y over CX elements.
#define VVLOOP(VOP, SOP) \
loop32: \
	CMPQ CX, $32 \
	JLT  loop8 \
	VMOVUPS (SI), Y0 \
	VMOVUPS 32(SI), Y1 \
	VMOVUPS 64(SI), Y2 \
	VMOVUPS 96(SI), Y3 \
	VMOVUPS (DX), Y4 \
	VMOVUPS 32(DX), Y5 \
	VMOVUPS 64(DX), Y6 \
	VMOVUPS 96(DX), Y7 \
	VOP Y4, Y0, Y0 \
	VOP Y5, Y1, Y1 \
	VOP Y6, Y2, Y2 \
	VOP Y7, Y3, Y3 \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	ADDQ $128, SI \
	ADDQ $128, DX \
	ADDQ $128, DI \
	SUBQ $32, CX \
	JMP  loop32 \
loop8: \
	CMPQ CX, $8 \
	JLT  tail \
	VMOVUPS (SI), Y0 \
	VMOVUPS (DX), Y4 \
	VOP Y4, Y0, Y0 \
	VMOVUPS Y0, (DI) \
	ADDQ $32, SI \
	ADDQ $32, DX \
	ADDQ $32, DI \
	SUBQ $8, CX \
	JMP  loop8 \
tail: \
	TESTQ CX, CX \
	JEQ   done \
	VMOVSS (SI), X0 \
	VMOVSS (DX), X4 \
	SOP X4, X0, X0 \
	VMOVSS X0, (DI) \
	ADDQ $4, SI \
	ADDQ $4, DX \
	ADDQ $4, DI \
	DECQ CX \
	JMP  tail \
done: \
	VZEROUPPER \
	RET
// VSLOOP: o = x VOP s over CX elements, s broadcast in Y15.
#define VSLOOP(VOP, SOP) \
loop32: \
	CMPQ CX, $32 \
	JLT  loop8 \
	VMOVUPS (SI), Y0 \
	VMOVUPS 32(SI), Y1 \
	VMOVUPS 64(SI), Y2 \
	VMOVUPS 96(SI), Y3 \
	VOP Y15, Y0, Y0 \
	VOP Y15, Y1, Y1 \
	VOP Y15, Y2, Y2 \
	VOP Y15, Y3, Y3 \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	ADDQ $128, SI \
	ADDQ $128, DI \
	SUBQ $32, CX \
	JMP  loop32 \
loop8: \
	CMPQ CX, $8 \
	JLT  tail \
	VMOVUPS (SI), Y0 \
	VOP Y15, Y0, Y0 \
	VMOVUPS Y0, (DI) \
	ADDQ $32, SI \
	ADDQ $32, DI \
	SUBQ $8, CX \
	JMP  loop8 \
tail: \
	TESTQ CX, CX \
	JEQ   done \
	VMOVSS (SI), X0 \
	SOP X15, X0, X0 \
	VMOVSS X0, (DI) \
	ADDQ $4, SI \
	ADDQ $4, DI \
	DECQ CX \
	JMP  tail \
done: \
	VZEROUPPER \
	RET
// SVLOOP: o = s VOP y over CX elements, s broadcast in Y15.
#define SVLOOP(VOP, SOP) \
loop32: \
	CMPQ CX, $32 \
	JLT  loop8 \
	VMOVUPS (SI), Y0 \
	VMOVUPS 32(SI), Y1 \
	VMOVUPS 64(SI), Y2 \
	VMOVUPS 96(SI), Y3 \
	VOP Y0, Y15, Y0 \
	VOP Y1, Y15, Y1 \
	VOP Y2, Y15, Y2 \
	VOP Y3, Y15, Y3 \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	ADDQ $128, SI \
	ADDQ $128, DI \
	SUBQ $32, CX \
	JMP  loop32 \
loop8: \
	CMPQ CX, $8 \
	JLT  tail \
	VMOVUPS (SI), Y0 \
	VOP Y0, Y15, Y0 \
	VMOVUPS Y0, (DI) \
	ADDQ $32, SI \
	ADDQ $32, DI \
	SUBQ $8, CX \
	JMP  loop8 \
tail: \
	TESTQ CX, CX \
	JEQ   done \
	VMOVSS (SI), X0 \
	SOP X0, X15, X0 \
	VMOVSS X0, (DI) \
	ADDQ $4, SI \
	ADDQ $4, DI \
	DECQ CX \
	JMP  tail \
done: \
	VZEROUPPER \
	RET
// UNLOOP: o = VOP(x) over CX elements; SOP does the same to X0.
#define UNLOOP(VOP, SOP) \
loop32: \
	CMPQ CX, $32 \
	JLT  loop8 \
	VMOVUPS (SI), Y0 \
	VMOVUPS 32(SI), Y1 \
	VMOVUPS 64(SI), Y2 \
	VMOVUPS 96(SI), Y3 \
	VOP(Y0) \
	VOP(Y1) \
	VOP(Y2) \
	VOP(Y3) \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	ADDQ $128, SI \
	ADDQ $128, DI \
	SUBQ $32, CX \
	JMP  loop32 \
loop8: \
	CMPQ CX, $8 \
	JLT  tail \
	VMOVUPS (SI), Y0 \
	VOP(Y0) \
	VMOVUPS Y0, (DI) \
	ADDQ $32, SI \
	ADDQ $32, DI \
	SUBQ $8, CX \
	JMP  loop8 \
tail: \
	TESTQ CX, CX \
	JEQ   done \
	VMOVSS (SI), X0 \
	SOP \
	VMOVSS X0, (DI) \
	ADDQ $4, SI \
	ADDQ $4, DI \
	DECQ CX \
	JMP  tail \
done: \
	VZEROUPPER \
	RET

#define SQRTV(r) VSQRTPS r, r
#define SQRTS VSQRTSS X0, X0, X0
#define SQUAREV(r) VMULPS r, r, r
#define SQUARES VMULSS X0, X0, X0

// func addVVAVX(o, x, y *float32, n int)
TEXT ·addVVAVX(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VVLOOP(VADDPS, VADDSS)

// func addVSAVX(o, x *float32, y float32, n int)
TEXT ·addVSAVX(SB), NOSPLIT, $0-32
	MOVQ         o+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS y+16(FP), Y15
	MOVQ         n+24(FP), CX
	VSLOOP(VADDPS, VADDSS)

// func addSVAVX(o *float32, x float32, y *float32, n int)
TEXT ·addSVAVX(SB), NOSPLIT, $0-32
	MOVQ         o+0(FP), DI
	VBROADCASTSS x+8(FP), Y15
	MOVQ         y+16(FP), SI
	MOVQ         n+24(FP), CX
	SVLOOP(VADDPS, VADDSS)

// func subVVAVX(o, x, y *float32, n int)
TEXT ·subVVAVX(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VVLOOP(VSUBPS, VSUBSS)

// func subVSAVX(o, x *float32, y float32, n int)
TEXT ·subVSAVX(SB), NOSPLIT, $0-32
	MOVQ         o+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS y+16(FP), Y15
	MOVQ         n+24(FP), CX
	VSLOOP(VSUBPS, VSUBSS)

// func subSVAVX(o *float32, x float32, y *float32, n int)
TEXT ·subSVAVX(SB), NOSPLIT, $0-32
	MOVQ         o+0(FP), DI
	VBROADCASTSS x+8(FP), Y15
	MOVQ         y+16(FP), SI
	MOVQ         n+24(FP), CX
	SVLOOP(VSUBPS, VSUBSS)

// func mulVVAVX(o, x, y *float32, n int)
TEXT ·mulVVAVX(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VVLOOP(VMULPS, VMULSS)

// func mulVSAVX(o, x *float32, y float32, n int)
TEXT ·mulVSAVX(SB), NOSPLIT, $0-32
	MOVQ         o+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS y+16(FP), Y15
	MOVQ         n+24(FP), CX
	VSLOOP(VMULPS, VMULSS)

// func mulSVAVX(o *float32, x float32, y *float32, n int)
TEXT ·mulSVAVX(SB), NOSPLIT, $0-32
	MOVQ         o+0(FP), DI
	VBROADCASTSS x+8(FP), Y15
	MOVQ         y+16(FP), SI
	MOVQ         n+24(FP), CX
	SVLOOP(VMULPS, VMULSS)

// func divVVAVX(o, x, y *float32, n int)
TEXT ·divVVAVX(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VVLOOP(VDIVPS, VDIVSS)

// func divVSAVX(o, x *float32, y float32, n int)
TEXT ·divVSAVX(SB), NOSPLIT, $0-32
	MOVQ         o+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS y+16(FP), Y15
	MOVQ         n+24(FP), CX
	VSLOOP(VDIVPS, VDIVSS)

// func divSVAVX(o *float32, x float32, y *float32, n int)
TEXT ·divSVAVX(SB), NOSPLIT, $0-32
	MOVQ         o+0(FP), DI
	VBROADCASTSS x+8(FP), Y15
	MOVQ         y+16(FP), SI
	MOVQ         n+24(FP), CX
	SVLOOP(VDIVPS, VDIVSS)

// func sqrtAVX(o, x *float32, n int)
TEXT ·sqrtAVX(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	UNLOOP(SQRTV, SQRTS)

// func squareAVX(o, x *float32, n int)
TEXT ·squareAVX(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	UNLOOP(SQUAREV, SQUARES)
