//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// The attention kernels' float32 row helpers in AVX2 assembly (attention_amd64.s), used when
// the CPU has AVX2 and FMA.

//go:noescape
func expShiftSumAVX2(s *float32, n int, m float32) float32

//go:noescape
func probGradAVX2(s, dp *float32, n int, lse, delta float32)

//go:noescape
func maxAVX2(s *float32, n int) float32

var attnAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

// expShiftSum32 replaces each s_j by e^(s_j - m) and returns their sum.
func expShiftSum32(s []float32, m float32) float32 {
	if !attnAsm || len(s) == 0 {
		return expShiftSumGo(s, m)
	}
	return expShiftSumAVX2(&s[0], len(s), m)
}

// probGrad32 is probGrad for float32.
func probGrad32(s, dp []float32, lse, delta float32) {
	if !attnAsm || len(s) == 0 {
		probGradGo(s, dp, lse, delta)
		return
	}
	dp = dp[:len(s)]
	probGradAVX2(&s[0], &dp[0], len(s), lse, delta)
}

// rowMax32 is rowMax for float32.
func rowMax32(s []float32) float32 {
	if !attnAsm || len(s) == 0 {
		return rowMaxGo(s)
	}
	return maxAVX2(&s[0], len(s))
}
