package eval

import (
	"math"
	"testing"
)

// bruteForcePassAtK enumerates every k-subset of n completions (the first c passing) and returns
// the fraction that contain a passing one.
func bruteForcePassAtK(n, c, k int) float64 {
	hit, total := 0, 0
	for mask := 0; mask < 1<<n; mask++ {
		size, pass := 0, false
		for i := range n {
			if mask&(1<<i) != 0 {
				size++
				if i < c {
					pass = true
				}
			}
		}
		if size != k {
			continue
		}
		total++
		if pass {
			hit++
		}
	}
	return float64(hit) / float64(total)
}

func TestPassAtKMatchesEnumeration(t *testing.T) {
	for n := 1; n <= 10; n++ {
		for c := 0; c <= n; c++ {
			for k := 1; k <= n; k++ {
				got, want := PassAtK(n, c, k), bruteForcePassAtK(n, c, k)
				if math.Abs(got-want) > 1e-12 {
					t.Errorf("PassAtK(%d, %d, %d) = %v, enumeration %v", n, c, k, got, want)
				}
			}
		}
	}
}

func TestPassAtKKnownValues(t *testing.T) {
	// 1 − C(7,2)/C(10,2) = 1 − 21/45.
	if got := PassAtK(10, 3, 2); math.Abs(got-24.0/45) > 1e-15 {
		t.Errorf("PassAtK(10,3,2) = %v", got)
	}
	if got := PassAtK(20, 5, 1); got != 0.25 {
		t.Errorf("pass@1 = %v, want c/n", got)
	}
	if PassAtK(5, 5, 3) != 1 || PassAtK(5, 1, 5) != 1 || PassAtK(5, 0, 3) != 0 {
		t.Error("all pass / k = n / none pass")
	}
	// Large n stays accurate: compare with the log-gamma form of the binomial ratio.
	n, c, k := 2000, 37, 100
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	logRatio := lg(n-c) - lg(n-c-k) - lg(n) + lg(n-k)
	if got, want := PassAtK(n, c, k), 1-math.Exp(logRatio); math.Abs(got-want) > 1e-10 {
		t.Errorf("PassAtK(%d,%d,%d) = %v, want %v", n, c, k, got, want)
	}
	// pass@k grows with k.
	prev := 0.0
	for k := 1; k <= 20; k++ {
		p := PassAtK(20, 2, k)
		if p < prev {
			t.Errorf("pass@%d = %v < pass@%d = %v", k, p, k-1, prev)
		}
		prev = p
	}
}

func TestPassAtKPanicsOnBadArguments(t *testing.T) {
	for _, a := range [][3]int{{5, 6, 1}, {5, -1, 1}, {5, 2, 0}, {5, 2, 6}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PassAtK%v did not panic", a)
				}
			}()
			PassAtK(a[0], a[1], a[2])
		}()
	}
}

func TestEvaluatePassAtK(t *testing.T) {
	problems := [][]string{
		{"ok", "ok", "bad", "bad", "bad", "ok", "bad", "bad", "bad", "bad"}, // n=10, c=3
		{"bad", "bad", "bad", "bad", "ok"},                                  // n=5, c=1
		{"ok", "ok"},                                                        // n=2, c=2
	}
	calls := 0
	test := func(s string) bool { calls++; return s == "ok" }
	got := EvaluatePassAtK(problems, test, []int{1, 5, 10})
	if calls != 17 {
		t.Errorf("test called %d times, want once per completion (17)", calls)
	}
	want := map[string]float64{
		"pass@1":  (0.3 + 0.2 + 1) / 3,
		"pass@5":  (PassAtK(10, 3, 5) + 1) / 2, // the 2-sample problem has too few
		"pass@10": 1,
	}
	for k, w := range want {
		if math.Abs(got[k]-w) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if len(got) != 3 {
		t.Errorf("keys %v", got)
	}

	always := func(string) bool { return true }
	never := func(string) bool { return false }
	ten := [][]string{make([]string, 10), make([]string, 10)}
	for k, v := range EvaluatePassAtK(ten, always, nil) {
		if v != 1 {
			t.Errorf("all pass: %s = %v", k, v)
		}
	}
	res := EvaluatePassAtK(ten, never, nil)
	if len(res) != 3 || res["pass@1"] != 0 || res["pass@5"] != 0 || res["pass@10"] != 0 {
		t.Errorf("none pass with default ks: %v", res)
	}
	if res := EvaluatePassAtK([][]string{{"ok"}}, always, []int{5}); res["pass@5"] != 0 {
		t.Errorf("no qualifying problem: %v", res)
	}
}
