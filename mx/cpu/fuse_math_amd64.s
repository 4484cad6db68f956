//go:build amd64 && !purego

#include "textflag.h"

// AVX2/FMA versions of the activation functions of fastmath.go, four lanes at a time in float64:
// x is widened, the function computed in double precision (to about 4e-10 relative, as in
// fastmath.go, with fused multiply-adds), and the result rounded to float32 once. They use one
// formula on every lane, with no table lookups:
//
//	e^y: n = round(y·log2 e), r = y - n·ln2 (one fused multiply-add), e^r by its Taylor
//	     polynomial of degree 9 (|r| <= ln2/2, truncation below 7e-12), 2^n added to the exponent
//	     bits; y is clamped to [-708, 708] first, and e^y set to +Inf where y > 708 and to 0
//	     where y < -708.
//	Φ(x): h = Φ(-|x|) = e^(-x²/2)·erfcx(z)/2 with z = |x|/√2 (clamped at 10.5, past which h is
//	     far below the float32 range) and erfcx from the same degree-11 polynomial in
//	     u = erfcU1/(1 + 0.3z) - erfcU0 as fastmath.go's Chebyshev tables were checked against;
//	     then Φ = h for negative x, else 1 - h.
//	σ(x) = 1/(1 + e^-x); the SiLU and GELUTanh kinds are built on it.
//
// Infinities and NaN give what the Go functions give (the derivative kinds are 1 at +Inf and 0
// at -Inf). The callers (fuse_amd64.go) pass a multiple of four elements.

DATA fmp708<>+0(SB)/8, $0x4086200000000000
DATA fmp708<>+8(SB)/8, $0x4086200000000000
DATA fmp708<>+16(SB)/8, $0x4086200000000000
DATA fmp708<>+24(SB)/8, $0x4086200000000000
GLOBL fmp708<>(SB), RODATA|NOPTR, $32
DATA fmm708<>+0(SB)/8, $0xc086200000000000
DATA fmm708<>+8(SB)/8, $0xc086200000000000
DATA fmm708<>+16(SB)/8, $0xc086200000000000
DATA fmm708<>+24(SB)/8, $0xc086200000000000
GLOBL fmm708<>(SB), RODATA|NOPTR, $32
DATA fmlog2e<>+0(SB)/8, $0x3ff71547652b82fe
DATA fmlog2e<>+8(SB)/8, $0x3ff71547652b82fe
DATA fmlog2e<>+16(SB)/8, $0x3ff71547652b82fe
DATA fmlog2e<>+24(SB)/8, $0x3ff71547652b82fe
GLOBL fmlog2e<>(SB), RODATA|NOPTR, $32
DATA fmln2<>+0(SB)/8, $0x3fe62e42fefa39ef
DATA fmln2<>+8(SB)/8, $0x3fe62e42fefa39ef
DATA fmln2<>+16(SB)/8, $0x3fe62e42fefa39ef
DATA fmln2<>+24(SB)/8, $0x3fe62e42fefa39ef
GLOBL fmln2<>(SB), RODATA|NOPTR, $32
DATA fmf9<>+0(SB)/8, $0x3ec71de3a556c734
DATA fmf9<>+8(SB)/8, $0x3ec71de3a556c734
DATA fmf9<>+16(SB)/8, $0x3ec71de3a556c734
DATA fmf9<>+24(SB)/8, $0x3ec71de3a556c734
GLOBL fmf9<>(SB), RODATA|NOPTR, $32
DATA fmf8<>+0(SB)/8, $0x3efa01a01a01a01a
DATA fmf8<>+8(SB)/8, $0x3efa01a01a01a01a
DATA fmf8<>+16(SB)/8, $0x3efa01a01a01a01a
DATA fmf8<>+24(SB)/8, $0x3efa01a01a01a01a
GLOBL fmf8<>(SB), RODATA|NOPTR, $32
DATA fmf7<>+0(SB)/8, $0x3f2a01a01a01a01a
DATA fmf7<>+8(SB)/8, $0x3f2a01a01a01a01a
DATA fmf7<>+16(SB)/8, $0x3f2a01a01a01a01a
DATA fmf7<>+24(SB)/8, $0x3f2a01a01a01a01a
GLOBL fmf7<>(SB), RODATA|NOPTR, $32
DATA fmf6<>+0(SB)/8, $0x3f56c16c16c16c17
DATA fmf6<>+8(SB)/8, $0x3f56c16c16c16c17
DATA fmf6<>+16(SB)/8, $0x3f56c16c16c16c17
DATA fmf6<>+24(SB)/8, $0x3f56c16c16c16c17
GLOBL fmf6<>(SB), RODATA|NOPTR, $32
DATA fmf5<>+0(SB)/8, $0x3f81111111111111
DATA fmf5<>+8(SB)/8, $0x3f81111111111111
DATA fmf5<>+16(SB)/8, $0x3f81111111111111
DATA fmf5<>+24(SB)/8, $0x3f81111111111111
GLOBL fmf5<>(SB), RODATA|NOPTR, $32
DATA fmf4<>+0(SB)/8, $0x3fa5555555555555
DATA fmf4<>+8(SB)/8, $0x3fa5555555555555
DATA fmf4<>+16(SB)/8, $0x3fa5555555555555
DATA fmf4<>+24(SB)/8, $0x3fa5555555555555
GLOBL fmf4<>(SB), RODATA|NOPTR, $32
DATA fmf3<>+0(SB)/8, $0x3fc5555555555555
DATA fmf3<>+8(SB)/8, $0x3fc5555555555555
DATA fmf3<>+16(SB)/8, $0x3fc5555555555555
DATA fmf3<>+24(SB)/8, $0x3fc5555555555555
GLOBL fmf3<>(SB), RODATA|NOPTR, $32
DATA fmf2<>+0(SB)/8, $0x3fe0000000000000
DATA fmf2<>+8(SB)/8, $0x3fe0000000000000
DATA fmf2<>+16(SB)/8, $0x3fe0000000000000
DATA fmf2<>+24(SB)/8, $0x3fe0000000000000
GLOBL fmf2<>(SB), RODATA|NOPTR, $32
DATA fmone<>+0(SB)/8, $0x3ff0000000000000
DATA fmone<>+8(SB)/8, $0x3ff0000000000000
DATA fmone<>+16(SB)/8, $0x3ff0000000000000
DATA fmone<>+24(SB)/8, $0x3ff0000000000000
GLOBL fmone<>(SB), RODATA|NOPTR, $32
DATA fminf<>+0(SB)/8, $0x7ff0000000000000
DATA fminf<>+8(SB)/8, $0x7ff0000000000000
DATA fminf<>+16(SB)/8, $0x7ff0000000000000
DATA fminf<>+24(SB)/8, $0x7ff0000000000000
GLOBL fminf<>(SB), RODATA|NOPTR, $32
DATA fmc11<>+0(SB)/8, $0x3ea74ef524e00000
DATA fmc11<>+8(SB)/8, $0x3ea74ef524e00000
DATA fmc11<>+16(SB)/8, $0x3ea74ef524e00000
DATA fmc11<>+24(SB)/8, $0x3ea74ef524e00000
GLOBL fmc11<>(SB), RODATA|NOPTR, $32
DATA fmc10<>+0(SB)/8, $0x3eb8f05bab0aaaab
DATA fmc10<>+8(SB)/8, $0x3eb8f05bab0aaaab
DATA fmc10<>+16(SB)/8, $0x3eb8f05bab0aaaab
DATA fmc10<>+24(SB)/8, $0x3eb8f05bab0aaaab
GLOBL fmc10<>(SB), RODATA|NOPTR, $32
DATA fmc9<>+0(SB)/8, $0xbee8592c7d0e8000
DATA fmc9<>+8(SB)/8, $0xbee8592c7d0e8000
DATA fmc9<>+16(SB)/8, $0xbee8592c7d0e8000
DATA fmc9<>+24(SB)/8, $0xbee8592c7d0e8000
GLOBL fmc9<>(SB), RODATA|NOPTR, $32
DATA fmc8<>+0(SB)/8, $0xbf0ca8c80b48eaaa
DATA fmc8<>+8(SB)/8, $0xbf0ca8c80b48eaaa
DATA fmc8<>+16(SB)/8, $0xbf0ca8c80b48eaaa
DATA fmc8<>+24(SB)/8, $0xbf0ca8c80b48eaaa
GLOBL fmc8<>(SB), RODATA|NOPTR, $32
DATA fmc7<>+0(SB)/8, $0x3f0e8f023d0df555
DATA fmc7<>+8(SB)/8, $0x3f0e8f023d0df555
DATA fmc7<>+16(SB)/8, $0x3f0e8f023d0df555
DATA fmc7<>+24(SB)/8, $0x3f0e8f023d0df555
GLOBL fmc7<>(SB), RODATA|NOPTR, $32
DATA fmc6<>+0(SB)/8, $0x3f577f35a05015d5
DATA fmc6<>+8(SB)/8, $0x3f577f35a05015d5
DATA fmc6<>+16(SB)/8, $0x3f577f35a05015d5
DATA fmc6<>+24(SB)/8, $0x3f577f35a05015d5
GLOBL fmc6<>(SB), RODATA|NOPTR, $32
DATA fmc5<>+0(SB)/8, $0x3f7e4e6446dbb7f4
DATA fmc5<>+8(SB)/8, $0x3f7e4e6446dbb7f4
DATA fmc5<>+16(SB)/8, $0x3f7e4e6446dbb7f4
DATA fmc5<>+24(SB)/8, $0x3f7e4e6446dbb7f4
GLOBL fmc5<>(SB), RODATA|NOPTR, $32
DATA fmc4<>+0(SB)/8, $0x3f98d60ed6380eb6
DATA fmc4<>+8(SB)/8, $0x3f98d60ed6380eb6
DATA fmc4<>+16(SB)/8, $0x3f98d60ed6380eb6
DATA fmc4<>+24(SB)/8, $0x3f98d60ed6380eb6
GLOBL fmc4<>(SB), RODATA|NOPTR, $32
DATA fmc3<>+0(SB)/8, $0x3fae2d9397c1ce97
DATA fmc3<>+8(SB)/8, $0x3fae2d9397c1ce97
DATA fmc3<>+16(SB)/8, $0x3fae2d9397c1ce97
DATA fmc3<>+24(SB)/8, $0x3fae2d9397c1ce97
GLOBL fmc3<>(SB), RODATA|NOPTR, $32
DATA fmc2<>+0(SB)/8, $0x3fbcb17487fae8d2
DATA fmc2<>+8(SB)/8, $0x3fbcb17487fae8d2
DATA fmc2<>+16(SB)/8, $0x3fbcb17487fae8d2
DATA fmc2<>+24(SB)/8, $0x3fbcb17487fae8d2
GLOBL fmc2<>(SB), RODATA|NOPTR, $32
DATA fmc1<>+0(SB)/8, $0x3fc5ca65f3b5168f
DATA fmc1<>+8(SB)/8, $0x3fc5ca65f3b5168f
DATA fmc1<>+16(SB)/8, $0x3fc5ca65f3b5168f
DATA fmc1<>+24(SB)/8, $0x3fc5ca65f3b5168f
GLOBL fmc1<>(SB), RODATA|NOPTR, $32
DATA fmc0<>+0(SB)/8, $0x3fc015782f5a91a9
DATA fmc0<>+8(SB)/8, $0x3fc015782f5a91a9
DATA fmc0<>+16(SB)/8, $0x3fc015782f5a91a9
DATA fmc0<>+24(SB)/8, $0x3fc015782f5a91a9
GLOBL fmc0<>(SB), RODATA|NOPTR, $32
DATA fmabs<>+0(SB)/8, $0x7fffffffffffffff
DATA fmabs<>+8(SB)/8, $0x7fffffffffffffff
DATA fmabs<>+16(SB)/8, $0x7fffffffffffffff
DATA fmabs<>+24(SB)/8, $0x7fffffffffffffff
GLOBL fmabs<>(SB), RODATA|NOPTR, $32
DATA fmisqrt2<>+0(SB)/8, $0x3fe6a09e667f3bcc
DATA fmisqrt2<>+8(SB)/8, $0x3fe6a09e667f3bcc
DATA fmisqrt2<>+16(SB)/8, $0x3fe6a09e667f3bcc
DATA fmisqrt2<>+24(SB)/8, $0x3fe6a09e667f3bcc
GLOBL fmisqrt2<>(SB), RODATA|NOPTR, $32
DATA fmzmax<>+0(SB)/8, $0x4025000000000000
DATA fmzmax<>+8(SB)/8, $0x4025000000000000
DATA fmzmax<>+16(SB)/8, $0x4025000000000000
DATA fmzmax<>+24(SB)/8, $0x4025000000000000
GLOBL fmzmax<>(SB), RODATA|NOPTR, $32
DATA fmp03<>+0(SB)/8, $0x3fd3333333333333
DATA fmp03<>+8(SB)/8, $0x3fd3333333333333
DATA fmp03<>+16(SB)/8, $0x3fd3333333333333
DATA fmp03<>+24(SB)/8, $0x3fd3333333333333
GLOBL fmp03<>(SB), RODATA|NOPTR, $32
DATA fmu1<>+0(SB)/8, $0x4005145145145145
DATA fmu1<>+8(SB)/8, $0x4005145145145145
DATA fmu1<>+16(SB)/8, $0x4005145145145145
DATA fmu1<>+24(SB)/8, $0x4005145145145145
GLOBL fmu1<>(SB), RODATA|NOPTR, $32
DATA fmu0<>+0(SB)/8, $0x3ffa28a28a28a289
DATA fmu0<>+8(SB)/8, $0x3ffa28a28a28a289
DATA fmu0<>+16(SB)/8, $0x3ffa28a28a28a289
DATA fmu0<>+24(SB)/8, $0x3ffa28a28a28a289
GLOBL fmu0<>(SB), RODATA|NOPTR, $32
DATA fmmhalf<>+0(SB)/8, $0xbfe0000000000000
DATA fmmhalf<>+8(SB)/8, $0xbfe0000000000000
DATA fmmhalf<>+16(SB)/8, $0xbfe0000000000000
DATA fmmhalf<>+24(SB)/8, $0xbfe0000000000000
GLOBL fmmhalf<>(SB), RODATA|NOPTR, $32
DATA fmisqrt2pi<>+0(SB)/8, $0x3fd9884533d43651
DATA fmisqrt2pi<>+8(SB)/8, $0x3fd9884533d43651
DATA fmisqrt2pi<>+16(SB)/8, $0x3fd9884533d43651
DATA fmisqrt2pi<>+24(SB)/8, $0x3fd9884533d43651
GLOBL fmisqrt2pi<>(SB), RODATA|NOPTR, $32
DATA fmk1<>+0(SB)/8, $0x3fa6e4e26d4801f7
DATA fmk1<>+8(SB)/8, $0x3fa6e4e26d4801f7
DATA fmk1<>+16(SB)/8, $0x3fa6e4e26d4801f7
DATA fmk1<>+24(SB)/8, $0x3fa6e4e26d4801f7
GLOBL fmk1<>(SB), RODATA|NOPTR, $32
DATA fmk0x2<>+0(SB)/8, $0x3ff9884533d43651
DATA fmk0x2<>+8(SB)/8, $0x3ff9884533d43651
DATA fmk0x2<>+16(SB)/8, $0x3ff9884533d43651
DATA fmk0x2<>+24(SB)/8, $0x3ff9884533d43651
GLOBL fmk0x2<>(SB), RODATA|NOPTR, $32
DATA fmk1x3<>+0(SB)/8, $0x3fc12ba9d1f60179
DATA fmk1x3<>+8(SB)/8, $0x3fc12ba9d1f60179
DATA fmk1x3<>+16(SB)/8, $0x3fc12ba9d1f60179
DATA fmk1x3<>+24(SB)/8, $0x3fc12ba9d1f60179
GLOBL fmk1x3<>(SB), RODATA|NOPTR, $32

// EXP sets Y5 to e^Y5 (clamped as above); Y6, Y9, Y10, Y15 clobbered.
#define EXP \
	VCMPPD       $0x1e, fmp708<>(SB), Y5, Y10 \
	VCMPPD       $0x11, fmm708<>(SB), Y5, Y15 \
	VMINPD       fmp708<>(SB), Y5, Y5 \
	VMAXPD       fmm708<>(SB), Y5, Y5 \
	VMULPD       fmlog2e<>(SB), Y5, Y6 \
	VROUNDPD     $0, Y6, Y6 \
	VFNMADD231PD fmln2<>(SB), Y6, Y5 \
	VMOVAPD      fmf9<>(SB), Y9 \
	VFMADD213PD  fmf8<>(SB), Y5, Y9 \
	VFMADD213PD  fmf7<>(SB), Y5, Y9 \
	VFMADD213PD  fmf6<>(SB), Y5, Y9 \
	VFMADD213PD  fmf5<>(SB), Y5, Y9 \
	VFMADD213PD  fmf4<>(SB), Y5, Y9 \
	VFMADD213PD  fmf3<>(SB), Y5, Y9 \
	VFMADD213PD  fmf2<>(SB), Y5, Y9 \
	VFMADD213PD  fmone<>(SB), Y5, Y9 \
	VFMADD213PD  fmone<>(SB), Y5, Y9 \
	VCVTPD2DQY   Y6, X6 \
	VPMOVSXDQ    X6, Y6 \
	VPSLLQ       $52, Y6, Y6 \
	VPADDQ       Y6, Y9, Y5 \
	VBLENDVPD    Y10, fminf<>(SB), Y5, Y5 \
	VANDNPD      Y5, Y15, Y5

// PHI sets Y4 to Φ(Y0) and Y5 to e^(-Y0²/2), with Y1 = |Y0|; Y2, Y3, Y6, Y9, Y10, Y15 clobbered.
#define PHI \
	VANDPD       fmabs<>(SB), Y0, Y1 \
	VMULPD       fmisqrt2<>(SB), Y1, Y2 \
	VMINPD       fmzmax<>(SB), Y2, Y2 \
	VMOVAPD      fmone<>(SB), Y3 \
	VFMADD231PD  fmp03<>(SB), Y2, Y3 \
	VMOVAPD      fmu1<>(SB), Y4 \
	VDIVPD       Y3, Y4, Y4 \
	VSUBPD       fmu0<>(SB), Y4, Y4 \
	VMOVAPD      fmc11<>(SB), Y3 \
	VFMADD213PD  fmc10<>(SB), Y4, Y3 \
	VFMADD213PD  fmc9<>(SB), Y4, Y3 \
	VFMADD213PD  fmc8<>(SB), Y4, Y3 \
	VFMADD213PD  fmc7<>(SB), Y4, Y3 \
	VFMADD213PD  fmc6<>(SB), Y4, Y3 \
	VFMADD213PD  fmc5<>(SB), Y4, Y3 \
	VFMADD213PD  fmc4<>(SB), Y4, Y3 \
	VFMADD213PD  fmc3<>(SB), Y4, Y3 \
	VFMADD213PD  fmc2<>(SB), Y4, Y3 \
	VFMADD213PD  fmc1<>(SB), Y4, Y3 \
	VFMADD213PD  fmc0<>(SB), Y4, Y3 \
	VMULPD       Y0, Y0, Y5 \
	VMULPD       fmmhalf<>(SB), Y5, Y5 \
	EXP \
	VMULPD       Y5, Y3, Y3 \
	VMOVAPD      fmone<>(SB), Y4 \
	VSUBPD       Y3, Y4, Y4 \
	VBLENDVPD    Y0, Y3, Y4, Y4

// SIGMOID sets Y4 to σ(Y8) and Y5 to e^(-Y8); Y6, Y9, Y10, Y15 clobbered.
#define SIGMOID \
	VXORPD       Y5, Y5, Y5 \
	VSUBPD       Y8, Y5, Y5 \
	EXP \
	VADDPD       fmone<>(SB), Y5, Y4 \
	VMOVAPD      fmone<>(SB), Y6 \
	VDIVPD       Y4, Y6, Y4

// func geluAVX2(o, x *float32, n int)
// x·Φ(x)
TEXT ·geluAVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
loop:
	TESTQ CX, CX
	JEQ   done
	VCVTPS2PD (SI), Y0
	PHI
	VMULPD Y4, Y0, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS    X4, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $4, CX
	JMP  loop
done:
	VZEROUPPER
	RET

// func geluGradAVX2(o, x *float32, n int)
// Φ(x) + x·φ(x); Φ(x) at ±Inf
TEXT ·geluGradAVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
loop:
	TESTQ CX, CX
	JEQ   done
	VCVTPS2PD (SI), Y0
	PHI
	VMOVAPD      Y4, Y8
	VMULPD       Y5, Y0, Y6
	VFMADD231PD  fmisqrt2pi<>(SB), Y6, Y4
	VCMPPD       $0, fminf<>(SB), Y1, Y7
	VBLENDVPD    Y7, Y8, Y4, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS    X4, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $4, CX
	JMP  loop
done:
	VZEROUPPER
	RET

// func sigmoidAVX2(o, x *float32, n int)
// σ(x); NaN stays NaN
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
loop:
	TESTQ CX, CX
	JEQ   done
	VCVTPS2PD (SI), Y0
	VMOVAPD Y0, Y8
	SIGMOID
	VCMPPD       $3, Y0, Y0, Y7
	VBLENDVPD    Y7, Y0, Y4, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS    X4, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $4, CX
	JMP  loop
done:
	VZEROUPPER
	RET

// func siluAVX2(o, x *float32, n int)
// x·σ(x)
TEXT ·siluAVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
loop:
	TESTQ CX, CX
	JEQ   done
	VCVTPS2PD (SI), Y0
	VMOVAPD Y0, Y8
	SIGMOID
	VMULPD Y4, Y0, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS    X4, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $4, CX
	JMP  loop
done:
	VZEROUPPER
	RET

// func siluGradAVX2(o, x *float32, n int)
// σ + x·σ·(1-σ); σ at ±Inf
TEXT ·siluGradAVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
loop:
	TESTQ CX, CX
	JEQ   done
	VCVTPS2PD (SI), Y0
	VMOVAPD      Y0, Y8
	SIGMOID
	VMOVAPD      Y4, Y11
	VMOVAPD      fmone<>(SB), Y6
	VSUBPD       Y4, Y6, Y6
	VMULPD       Y4, Y6, Y6
	VMULPD       Y0, Y6, Y6
	VADDPD       Y6, Y4, Y4
	VANDPD       fmabs<>(SB), Y0, Y1
	VCMPPD       $0, fminf<>(SB), Y1, Y7
	VBLENDVPD    Y7, Y11, Y4, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS    X4, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $4, CX
	JMP  loop
done:
	VZEROUPPER
	RET

// func geluTanhAVX2(o, x *float32, n int)
// x·σ(2u), u = k0·(x + k1·x³)
TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
loop:
	TESTQ CX, CX
	JEQ   done
	VCVTPS2PD (SI), Y0
	VMULPD       Y0, Y0, Y12
	VMOVAPD      fmk1<>(SB), Y8
	VMULPD       Y12, Y8, Y8
	VFMADD213PD  Y0, Y0, Y8
	VMULPD       fmk0x2<>(SB), Y8, Y8
	SIGMOID
	VMULPD Y4, Y0, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS    X4, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $4, CX
	JMP  loop
done:
	VZEROUPPER
	RET

// func geluTanhGradAVX2(o, x *float32, n int)
// σ(2u) + 2x·u'·σ(2u)·(1-σ(2u)); σ at ±Inf
TEXT ·geluTanhGradAVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
loop:
	TESTQ CX, CX
	JEQ   done
	VCVTPS2PD (SI), Y0
	VMULPD       Y0, Y0, Y12
	VMOVAPD      fmk1<>(SB), Y8
	VMULPD       Y12, Y8, Y8
	VFMADD213PD  Y0, Y0, Y8
	VMULPD       fmk0x2<>(SB), Y8, Y8
	SIGMOID
	VMOVAPD      Y4, Y11
	VMOVAPD      fmone<>(SB), Y6
	VSUBPD       Y4, Y6, Y6
	VMULPD       Y4, Y6, Y6
	VMOVAPD      fmone<>(SB), Y13
	VFMADD231PD  fmk1x3<>(SB), Y12, Y13
	VMULPD       fmk0x2<>(SB), Y13, Y13
	VMULPD       Y0, Y13, Y13
	VFMADD231PD  Y13, Y6, Y4
	VANDPD       fmabs<>(SB), Y0, Y1
	VCMPPD       $0, fminf<>(SB), Y1, Y7
	VBLENDVPD    Y7, Y11, Y4, Y4
	VCVTPD2PSY Y4, X4
	VMOVUPS    X4, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	SUBQ $4, CX
	JMP  loop
done:
	VZEROUPPER
	RET
