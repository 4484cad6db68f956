package train

import (
	"fmt"
	"math"
	"strings"
)

// Schedule gives the learning rate of the k-th update, k counted from 0.
type Schedule func(step int) float64

// ScheduleNames lists the names ScheduleByName accepts.
var ScheduleNames = []string{"cosine", "linear", "constant"}

func checkSchedule(name string, lr float64, warmup, total int) {
	if lr < 0 || math.IsNaN(lr) || math.IsInf(lr, 0) || warmup < 0 || total < 0 {
		panic(fmt.Sprintf("train.%s: invalid lr %v, warmup %d, total %d", name, lr, warmup, total))
	}
}

// warmup returns lr·(s+1)/warmup for s < warmup (so the first update already moves, and update
// warmup−1 uses the full rate), and ok=false past the warmup. warmup 0 means none.
func warmupAt(lr float64, warmup, s int) (float64, bool) {
	if s < warmup {
		return lr * float64(s+1) / float64(warmup), true
	}
	return 0, false
}

// decayProgress is how far update s is into the decay phase of total−warmup updates, in [0, 1].
func decayProgress(warmup, total, s int) float64 {
	d := total - warmup
	if d <= 0 {
		return 0
	}
	return math.Min(float64(s-warmup), float64(d)) / float64(d)
}

// WarmupCosine warms up linearly over warmup updates (lr·(s+1)/warmup), then follows a half
// cosine from lr down to minLR over the remaining total−warmup updates, and stays at minLR
// after total. warmup may be 0. It panics on a negative argument.
func WarmupCosine(lr float64, warmup, total int, minLR float64) Schedule {
	checkSchedule("WarmupCosine", lr, warmup, total)
	return func(s int) float64 {
		if v, ok := warmupAt(lr, warmup, s); ok {
			return v
		}
		p := decayProgress(warmup, total, s)
		return minLR + (lr-minLR)*0.5*(1+math.Cos(math.Pi*p))
	}
}

// WarmupLinear warms up like WarmupCosine, then decays linearly from lr to minLR over the
// remaining total−warmup updates.
func WarmupLinear(lr float64, warmup, total int, minLR float64) Schedule {
	checkSchedule("WarmupLinear", lr, warmup, total)
	return func(s int) float64 {
		if v, ok := warmupAt(lr, warmup, s); ok {
			return v
		}
		return lr + (minLR-lr)*decayProgress(warmup, total, s)
	}
}

// Constant warms up like WarmupCosine (warmup may be 0), then holds lr.
func Constant(lr float64, warmup int) Schedule {
	checkSchedule("Constant", lr, warmup, 0)
	return func(s int) float64 {
		if v, ok := warmupAt(lr, warmup, s); ok {
			return v
		}
		return lr
	}
}

// ScheduleByName builds the schedule a config names: "cosine" (WarmupCosine to 0), "linear"
// (WarmupLinear to 0) or "constant" (Constant with warmup).
func ScheduleByName(name string, lr float64, warmup, total int) (Schedule, error) {
	if lr < 0 || math.IsNaN(lr) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("train: learning rate %v must be finite and >= 0", lr)
	}
	if warmup < 0 || total < 0 {
		return nil, fmt.Errorf("train: warmup (%d) and total steps (%d) must be >= 0", warmup, total)
	}
	switch strings.ToLower(name) {
	case "cosine":
		return WarmupCosine(lr, warmup, total, 0), nil
	case "linear":
		return WarmupLinear(lr, warmup, total, 0), nil
	case "constant":
		return Constant(lr, warmup), nil
	}
	return nil, fmt.Errorf("train: unknown lr schedule %q (valid: %s)", name, strings.Join(ScheduleNames, ", "))
}
