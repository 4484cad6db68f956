//go:build amd64 && !purego

#include "textflag.h"

// AVX2/FMA row helpers of the attention kernels (see attention_amd64.go): e^x eight lanes at a
// time, by the method of exp32 in softmax.go: x = k·ln2 + r with |r| <= ln2/2, e^r by its
// Taylor series to degree 7 (Horner, fused multiply-adds), and 2^k put into the exponent bits.
// Inputs below -87.33654 (-Inf included) give 0, above 88.72283 +Inf, NaN gives NaN. A tail of
// fewer than eight elements is handled with masked loads and stores.

// log2(e)
DATA attnlog2e<>+0(SB)/4, $0x3fb8aa3b
DATA attnlog2e<>+4(SB)/4, $0x3fb8aa3b
DATA attnlog2e<>+8(SB)/4, $0x3fb8aa3b
DATA attnlog2e<>+12(SB)/4, $0x3fb8aa3b
DATA attnlog2e<>+16(SB)/4, $0x3fb8aa3b
DATA attnlog2e<>+20(SB)/4, $0x3fb8aa3b
DATA attnlog2e<>+24(SB)/4, $0x3fb8aa3b
DATA attnlog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL attnlog2e<>(SB), RODATA|NOPTR, $32
// 1.5·2^23: adding it rounds to an integer in the low mantissa bits
DATA attnmagic<>+0(SB)/4, $0x4b400000
DATA attnmagic<>+4(SB)/4, $0x4b400000
DATA attnmagic<>+8(SB)/4, $0x4b400000
DATA attnmagic<>+12(SB)/4, $0x4b400000
DATA attnmagic<>+16(SB)/4, $0x4b400000
DATA attnmagic<>+20(SB)/4, $0x4b400000
DATA attnmagic<>+24(SB)/4, $0x4b400000
DATA attnmagic<>+28(SB)/4, $0x4b400000
GLOBL attnmagic<>(SB), RODATA|NOPTR, $32
// ln 2 to 16 bits
DATA attnln2hi<>+0(SB)/4, $0x3f317200
DATA attnln2hi<>+4(SB)/4, $0x3f317200
DATA attnln2hi<>+8(SB)/4, $0x3f317200
DATA attnln2hi<>+12(SB)/4, $0x3f317200
DATA attnln2hi<>+16(SB)/4, $0x3f317200
DATA attnln2hi<>+20(SB)/4, $0x3f317200
DATA attnln2hi<>+24(SB)/4, $0x3f317200
DATA attnln2hi<>+28(SB)/4, $0x3f317200
GLOBL attnln2hi<>(SB), RODATA|NOPTR, $32
// ln 2 - ln2hi
DATA attnln2lo<>+0(SB)/4, $0x35bfbe8e
DATA attnln2lo<>+4(SB)/4, $0x35bfbe8e
DATA attnln2lo<>+8(SB)/4, $0x35bfbe8e
DATA attnln2lo<>+12(SB)/4, $0x35bfbe8e
DATA attnln2lo<>+16(SB)/4, $0x35bfbe8e
DATA attnln2lo<>+20(SB)/4, $0x35bfbe8e
DATA attnln2lo<>+24(SB)/4, $0x35bfbe8e
DATA attnln2lo<>+28(SB)/4, $0x35bfbe8e
GLOBL attnln2lo<>(SB), RODATA|NOPTR, $32
// 1/2
DATA attnc2<>+0(SB)/4, $0x3f000000
DATA attnc2<>+4(SB)/4, $0x3f000000
DATA attnc2<>+8(SB)/4, $0x3f000000
DATA attnc2<>+12(SB)/4, $0x3f000000
DATA attnc2<>+16(SB)/4, $0x3f000000
DATA attnc2<>+20(SB)/4, $0x3f000000
DATA attnc2<>+24(SB)/4, $0x3f000000
DATA attnc2<>+28(SB)/4, $0x3f000000
GLOBL attnc2<>(SB), RODATA|NOPTR, $32
// 1/6
DATA attnc3<>+0(SB)/4, $0x3e2aaaab
DATA attnc3<>+4(SB)/4, $0x3e2aaaab
DATA attnc3<>+8(SB)/4, $0x3e2aaaab
DATA attnc3<>+12(SB)/4, $0x3e2aaaab
DATA attnc3<>+16(SB)/4, $0x3e2aaaab
DATA attnc3<>+20(SB)/4, $0x3e2aaaab
DATA attnc3<>+24(SB)/4, $0x3e2aaaab
DATA attnc3<>+28(SB)/4, $0x3e2aaaab
GLOBL attnc3<>(SB), RODATA|NOPTR, $32
// 1/24
DATA attnc4<>+0(SB)/4, $0x3d2aaaab
DATA attnc4<>+4(SB)/4, $0x3d2aaaab
DATA attnc4<>+8(SB)/4, $0x3d2aaaab
DATA attnc4<>+12(SB)/4, $0x3d2aaaab
DATA attnc4<>+16(SB)/4, $0x3d2aaaab
DATA attnc4<>+20(SB)/4, $0x3d2aaaab
DATA attnc4<>+24(SB)/4, $0x3d2aaaab
DATA attnc4<>+28(SB)/4, $0x3d2aaaab
GLOBL attnc4<>(SB), RODATA|NOPTR, $32
// 1/120
DATA attnc5<>+0(SB)/4, $0x3c088889
DATA attnc5<>+4(SB)/4, $0x3c088889
DATA attnc5<>+8(SB)/4, $0x3c088889
DATA attnc5<>+12(SB)/4, $0x3c088889
DATA attnc5<>+16(SB)/4, $0x3c088889
DATA attnc5<>+20(SB)/4, $0x3c088889
DATA attnc5<>+24(SB)/4, $0x3c088889
DATA attnc5<>+28(SB)/4, $0x3c088889
GLOBL attnc5<>(SB), RODATA|NOPTR, $32
// 1/720
DATA attnc6<>+0(SB)/4, $0x3ab60b61
DATA attnc6<>+4(SB)/4, $0x3ab60b61
DATA attnc6<>+8(SB)/4, $0x3ab60b61
DATA attnc6<>+12(SB)/4, $0x3ab60b61
DATA attnc6<>+16(SB)/4, $0x3ab60b61
DATA attnc6<>+20(SB)/4, $0x3ab60b61
DATA attnc6<>+24(SB)/4, $0x3ab60b61
DATA attnc6<>+28(SB)/4, $0x3ab60b61
GLOBL attnc6<>(SB), RODATA|NOPTR, $32
// 1/5040
DATA attnc7<>+0(SB)/4, $0x39500d01
DATA attnc7<>+4(SB)/4, $0x39500d01
DATA attnc7<>+8(SB)/4, $0x39500d01
DATA attnc7<>+12(SB)/4, $0x39500d01
DATA attnc7<>+16(SB)/4, $0x39500d01
DATA attnc7<>+20(SB)/4, $0x39500d01
DATA attnc7<>+24(SB)/4, $0x39500d01
DATA attnc7<>+28(SB)/4, $0x39500d01
GLOBL attnc7<>(SB), RODATA|NOPTR, $32
// 1
DATA attnone<>+0(SB)/4, $0x3f800000
DATA attnone<>+4(SB)/4, $0x3f800000
DATA attnone<>+8(SB)/4, $0x3f800000
DATA attnone<>+12(SB)/4, $0x3f800000
DATA attnone<>+16(SB)/4, $0x3f800000
DATA attnone<>+20(SB)/4, $0x3f800000
DATA attnone<>+24(SB)/4, $0x3f800000
DATA attnone<>+28(SB)/4, $0x3f800000
GLOBL attnone<>(SB), RODATA|NOPTR, $32
// -87.33654: below, e^x flushes to 0
DATA attnlo<>+0(SB)/4, $0xc2aeac4f
DATA attnlo<>+4(SB)/4, $0xc2aeac4f
DATA attnlo<>+8(SB)/4, $0xc2aeac4f
DATA attnlo<>+12(SB)/4, $0xc2aeac4f
DATA attnlo<>+16(SB)/4, $0xc2aeac4f
DATA attnlo<>+20(SB)/4, $0xc2aeac4f
DATA attnlo<>+24(SB)/4, $0xc2aeac4f
DATA attnlo<>+28(SB)/4, $0xc2aeac4f
GLOBL attnlo<>(SB), RODATA|NOPTR, $32
// 88.72283: above, e^x overflows
DATA attnhi<>+0(SB)/4, $0x42b17217
DATA attnhi<>+4(SB)/4, $0x42b17217
DATA attnhi<>+8(SB)/4, $0x42b17217
DATA attnhi<>+12(SB)/4, $0x42b17217
DATA attnhi<>+16(SB)/4, $0x42b17217
DATA attnhi<>+20(SB)/4, $0x42b17217
DATA attnhi<>+24(SB)/4, $0x42b17217
DATA attnhi<>+28(SB)/4, $0x42b17217
GLOBL attnhi<>(SB), RODATA|NOPTR, $32
// +Inf
DATA attninf<>+0(SB)/4, $0x7f800000
DATA attninf<>+4(SB)/4, $0x7f800000
DATA attninf<>+8(SB)/4, $0x7f800000
DATA attninf<>+12(SB)/4, $0x7f800000
DATA attninf<>+16(SB)/4, $0x7f800000
DATA attninf<>+20(SB)/4, $0x7f800000
DATA attninf<>+24(SB)/4, $0x7f800000
DATA attninf<>+28(SB)/4, $0x7f800000
GLOBL attninf<>(SB), RODATA|NOPTR, $32
// -Inf
DATA attnninf<>+0(SB)/4, $0xff800000
DATA attnninf<>+4(SB)/4, $0xff800000
DATA attnninf<>+8(SB)/4, $0xff800000
DATA attnninf<>+12(SB)/4, $0xff800000
DATA attnninf<>+16(SB)/4, $0xff800000
DATA attnninf<>+20(SB)/4, $0xff800000
DATA attnninf<>+24(SB)/4, $0xff800000
DATA attnninf<>+28(SB)/4, $0xff800000
GLOBL attnninf<>(SB), RODATA|NOPTR, $32
// 127 (int32)
DATA attni127<>+0(SB)/4, $0x0000007f
DATA attni127<>+4(SB)/4, $0x0000007f
DATA attni127<>+8(SB)/4, $0x0000007f
DATA attni127<>+12(SB)/4, $0x0000007f
DATA attni127<>+16(SB)/4, $0x0000007f
DATA attni127<>+20(SB)/4, $0x0000007f
DATA attni127<>+24(SB)/4, $0x0000007f
DATA attni127<>+28(SB)/4, $0x0000007f
GLOBL attni127<>(SB), RODATA|NOPTR, $32

// Lanes [0, r) of the 32 bytes at attntail<>+(8-r)*4 are all ones, the others zero.
DATA attntail<>+0(SB)/4, $0xffffffff
DATA attntail<>+4(SB)/4, $0xffffffff
DATA attntail<>+8(SB)/4, $0xffffffff
DATA attntail<>+12(SB)/4, $0xffffffff
DATA attntail<>+16(SB)/4, $0xffffffff
DATA attntail<>+20(SB)/4, $0xffffffff
DATA attntail<>+24(SB)/4, $0xffffffff
DATA attntail<>+28(SB)/4, $0xffffffff
DATA attntail<>+32(SB)/4, $0x00000000
DATA attntail<>+36(SB)/4, $0x00000000
DATA attntail<>+40(SB)/4, $0x00000000
DATA attntail<>+44(SB)/4, $0x00000000
DATA attntail<>+48(SB)/4, $0x00000000
DATA attntail<>+52(SB)/4, $0x00000000
DATA attntail<>+56(SB)/4, $0x00000000
DATA attntail<>+60(SB)/4, $0x00000000
GLOBL attntail<>(SB), RODATA|NOPTR, $64

// EXP8 sets Y4 = e^Y0 lane by lane; Y1, Y2, Y3 and Y5 are clobbered.
#define EXP8 \
	VMINPS       attnhi<>(SB), Y0, Y1    \ // clamp x (a NaN becomes hi; fixed below)
	VMAXPS       attnlo<>(SB), Y1, Y1    \
	VMOVUPS      attnmagic<>(SB), Y2     \
	VFMADD231PS  attnlog2e<>(SB), Y1, Y2 \ // t = x·log2e + magic
	VSUBPS       attnmagic<>(SB), Y2, Y3 \ // kf = round(x·log2e)
	VPSUBD       attnmagic<>(SB), Y2, Y2 \ // k as int32
	VFNMADD231PS attnln2hi<>(SB), Y3, Y1 \ // r = x - kf·ln2hi - kf·ln2lo
	VFNMADD231PS attnln2lo<>(SB), Y3, Y1 \
	VMOVUPS      attnc7<>(SB), Y4        \
	VFMADD213PS  attnc6<>(SB), Y1, Y4    \
	VFMADD213PS  attnc5<>(SB), Y1, Y4    \
	VFMADD213PS  attnc4<>(SB), Y1, Y4    \
	VFMADD213PS  attnc3<>(SB), Y1, Y4    \
	VFMADD213PS  attnc2<>(SB), Y1, Y4    \
	VFMADD213PS  attnone<>(SB), Y1, Y4   \
	VFMADD213PS  attnone<>(SB), Y1, Y4   \ // p = e^r
	VPCMPGTD     attni127<>(SB), Y2, Y5  \ // k = 128: use 2^127 and double p
	VPADDD       Y5, Y2, Y2              \
	VANDPS       attnone<>(SB), Y5, Y5   \
	VADDPS       attnone<>(SB), Y5, Y5   \
	VMULPS       Y5, Y4, Y4              \
	VPADDD       attni127<>(SB), Y2, Y2  \
	VPSLLD       $23, Y2, Y2             \
	VMULPS       Y2, Y4, Y4              \ // p·2^k
	VCMPPS       $1, attnlo<>(SB), Y0, Y5 \ // x < lo: 0
	VANDNPS      Y4, Y5, Y4              \
	VCMPPS       $0x1e, attnhi<>(SB), Y0, Y5 \ // x > hi: +Inf
	VBLENDVPS    Y5, attninf<>(SB), Y4, Y4 \
	VCMPPS       $3, Y0, Y0, Y5          \ // NaN: NaN
	VBLENDVPS    Y5, Y0, Y4, Y4

// TAILMASK sets Y7 to the load/store mask of the CX (1 to 7) remaining lanes; AX, DX clobbered.
#define TAILMASK \
	LEAQ    attntail<>(SB), AX \
	MOVQ    $8, DX             \
	SUBQ    CX, DX             \
	VMOVUPS (AX)(DX*4), Y7

// HSUM8 leaves in X8's lane 0 the sum of Y8's lanes, in the fixed order
// ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)); X1 is clobbered.
#define HSUM8 \
	VEXTRACTF128 $1, Y8, X1 \
	VADDPS       X1, X8, X8 \
	VPERMILPS    $0x4e, X8, X1 \
	VADDPS       X1, X8, X8 \
	VPERMILPS    $0xb1, X8, X1 \
	VADDPS       X1, X8, X8

// func expShiftSumAVX2(s *float32, n int, m float32) float32
//
// s[i] = e^(s[i]-m) for i < n; returns their sum, accumulated in eight lanes (lane l takes the
// elements i ≡ l mod 8) and then added across lanes by HSUM8.
TEXT ·expShiftSumAVX2(SB), NOSPLIT, $0-28
	MOVQ         s+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS m+16(FP), Y15
	VXORPS       Y8, Y8, Y8

esloop:
	CMPQ    CX, $8
	JLT     estail
	VMOVUPS (DI), Y0
	VSUBPS  Y15, Y0, Y0
	EXP8
	VMOVUPS Y4, (DI)
	VADDPS  Y4, Y8, Y8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     esloop

estail:
	TESTQ      CX, CX
	JZ         esdone
	TAILMASK
	VMASKMOVPS (DI), Y7, Y0
	VSUBPS     Y15, Y0, Y0
	EXP8
	VANDPS     Y7, Y4, Y4
	VMASKMOVPS Y4, Y7, (DI)
	VADDPS     Y4, Y8, Y8

esdone:
	HSUM8
	VZEROUPPER
	MOVSS X8, ret+24(FP)
	RET

// func probGradAVX2(s, dp *float32, n int, lse, delta float32)
//
// For i < n: s[i] = e^(s[i]-lse), then dp[i] = s[i]·(dp[i]-delta).
TEXT ·probGradAVX2(SB), NOSPLIT, $0-32
	MOVQ         s+0(FP), DI
	MOVQ         dp+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lse+24(FP), Y15
	VBROADCASTSS delta+28(FP), Y14

pgloop:
	CMPQ    CX, $8
	JLT     pgtail
	VMOVUPS (DI), Y0
	VSUBPS  Y15, Y0, Y0
	EXP8
	VMOVUPS (SI), Y6
	VSUBPS  Y14, Y6, Y6
	VMULPS  Y4, Y6, Y6
	VMOVUPS Y4, (DI)
	VMOVUPS Y6, (SI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     pgloop

pgtail:
	TESTQ      CX, CX
	JZ         pgdone
	TAILMASK
	VMASKMOVPS (DI), Y7, Y0
	VSUBPS     Y15, Y0, Y0
	EXP8
	VMASKMOVPS (SI), Y7, Y6
	VSUBPS     Y14, Y6, Y6
	VMULPS     Y4, Y6, Y6
	VMASKMOVPS Y4, Y7, (DI)
	VMASKMOVPS Y6, Y7, (SI)

pgdone:
	VZEROUPPER
	RET

// func maxAVX2(s *float32, n int) float32
//
// The largest of s[:n]: -Inf if n == 0, NaN if any element is NaN.
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ    s+0(FP), DI
	MOVQ    n+8(FP), CX
	VMOVUPS attnninf<>(SB), Y8
	VXORPS  Y9, Y9, Y9

mxloop:
	CMPQ    CX, $8
	JLT     mxtail
	VMOVUPS (DI), Y0
	VCMPPS  $3, Y0, Y0, Y1
	VORPS   Y1, Y9, Y9
	VMAXPS  Y0, Y8, Y8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     mxloop

mxtail:
	TESTQ      CX, CX
	JZ         mxdone
	TAILMASK
	VMASKMOVPS (DI), Y7, Y0
	VCMPPS     $3, Y0, Y0, Y1
	VORPS      Y1, Y9, Y9
	VBLENDVPS  Y7, Y0, Y8, Y0
	VMAXPS     Y0, Y8, Y8

mxdone:
	VMOVMSKPS    Y9, AX
	TESTL        AX, AX
	JNZ          mxnan
	VEXTRACTF128 $1, Y8, X1
	VMAXPS       X1, X8, X8
	VPERMILPS    $0x4e, X8, X1
	VMAXPS       X1, X8, X8
	VPERMILPS    $0xb1, X8, X1
	VMAXPS       X1, X8, X8
	VZEROUPPER
	MOVSS        X8, ret+16(FP)
	RET

mxnan:
	VZEROUPPER
	MOVL $0x7fc00000, ret+16(FP)
	RET
