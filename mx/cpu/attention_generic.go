//go:build !amd64 || purego

package cpu

// Without assembly the attention kernels' float32 row helpers are the generic Go loops.

func expShiftSum32(s []float32, m float32) float32   { return expShiftSumGo(s, m) }
func probGrad32(s, dp []float32, lse, delta float32) { probGradGo(s, dp, lse, delta) }
func rowMax32(s []float32) float32                   { return rowMaxGo(s) }
