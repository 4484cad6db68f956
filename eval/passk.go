package eval

import (
	"fmt"
	"strconv"
)

// PassAtK returns the unbiased pass@k estimate for a problem with n sampled completions of which
// c pass: the probability that at least one of k completions drawn without replacement passes,
// 1 − C(n−c, k)/C(n, k). It is computed as 1 − Π_{i<k} (n−c−i)/(n−i), a product of factors in
// [0, 1] that neither overflows nor cancels, and is exactly 1 when n − c < k. It panics unless
// 0 ≤ c ≤ n and 1 ≤ k ≤ n.
func PassAtK(n, c, k int) float64 {
	if c < 0 || c > n || k < 1 || k > n {
		panic(fmt.Sprintf("eval.PassAtK: need 0 ≤ c ≤ n and 1 ≤ k ≤ n, got n=%d c=%d k=%d", n, c, k))
	}
	if n-c < k {
		return 1
	}
	p := 1.0
	for i := range k {
		p *= float64(n-c-i) / float64(n-i)
	}
	return 1 - p
}

// DefaultKs are the k values EvaluatePassAtK uses when given none.
var DefaultKs = []int{1, 5, 10}

// EvaluatePassAtK scores sampled completions: completions[p] holds problem p's samples, and test
// says whether one passes (it is called once per completion). For each k in ks (DefaultKs when
// ks is empty) the result maps "pass@k" to the mean of PassAtK over the problems with at least k
// completions, or to 0 when no problem has that many.
func EvaluatePassAtK(completions [][]string, test func(string) bool, ks []int) map[string]float64 {
	if len(ks) == 0 {
		ks = DefaultKs
	}
	passed := make([]int, len(completions))
	for p, samples := range completions {
		for _, s := range samples {
			if test(s) {
				passed[p]++
			}
		}
	}
	out := make(map[string]float64, len(ks))
	for _, k := range ks {
		sum, m := 0.0, 0
		for p, samples := range completions {
			if k >= 1 && len(samples) >= k {
				sum += PassAtK(len(samples), passed[p], k)
				m++
			}
		}
		key := "pass@" + strconv.Itoa(k)
		out[key] = 0
		if m > 0 {
			out[key] = sum / float64(m)
		}
	}
	return out
}
