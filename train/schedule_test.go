package train

import (
	"math"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
)

func scheduleValues(s Schedule, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = s(i)
	}
	return out
}

func TestSchedules(t *testing.T) {
	// Warmup lr·(s+1)/warmup, then a half cosine over total−warmup updates.
	cos := WarmupCosine(1, 4, 8, 0)
	want := []float64{0.25, 0.5, 0.75, 1, 1, 0.5 * (1 + math.Cos(math.Pi/4)), 0.5, 0.5 * (1 + math.Cos(3*math.Pi/4)), 0, 0}
	assertClose(t, "cosine", scheduleValues(cos, 10), want, 1e-12, 1e-12)

	// Warmup 0: no warmup, decay from the first update (the original rejected this).
	cos0 := WarmupCosine(2, 0, 4, 0.5)
	assertClose(t, "cosine warmup 0", scheduleValues(cos0, 5),
		[]float64{2, 0.5 + 0.75*(1+math.Cos(math.Pi/4)), 1.25, 0.5 + 0.75*(1+math.Cos(3*math.Pi/4)), 0.5}, 1e-12, 1e-12)

	lin := WarmupLinear(1, 2, 6, 0)
	assertClose(t, "linear", scheduleValues(lin, 8), []float64{0.5, 1, 1, 0.75, 0.5, 0.25, 0, 0}, 1e-12, 1e-12)
	lin0 := WarmupLinear(1, 0, 4, 0)
	assertClose(t, "linear warmup 0", scheduleValues(lin0, 5), []float64{1, 0.75, 0.5, 0.25, 0}, 1e-12, 1e-12)

	// Constant works (the original's "constant" was broken), with and without warmup.
	assertClose(t, "constant", scheduleValues(Constant(0.1, 0), 3), []float64{0.1, 0.1, 0.1}, 0, 0)
	assertClose(t, "constant warmup", scheduleValues(Constant(0.1, 2), 3), []float64{0.05, 0.1, 0.1}, 1e-12, 0)

	// warmup >= total: warm up, then hold.
	assertClose(t, "warmup only", scheduleValues(WarmupCosine(1, 2, 2, 0), 4), []float64{0.5, 1, 1, 1}, 0, 0)
	// total 0, warmup 0.
	assertClose(t, "empty", scheduleValues(WarmupCosine(1, 0, 0, 0), 2), []float64{1, 1}, 0, 0)
}

func TestScheduleByName(t *testing.T) {
	for _, name := range ScheduleNames {
		for _, warmup := range []int{0, 3} {
			s, err := ScheduleByName(name, 0.1, warmup, 10)
			if err != nil {
				t.Fatalf("%s warmup %d: %v", name, warmup, err)
			}
			for i := range 12 {
				if v := s(i); math.IsNaN(v) || v < 0 || v > 0.1+1e-15 {
					t.Fatalf("%s warmup %d: s(%d) = %v", name, warmup, i, v)
				}
			}
			if warmup == 0 && s(0) != 0.1 {
				t.Fatalf("%s without warmup starts at %v", name, s(0))
			}
		}
	}
	_, err := ScheduleByName("step", 0.1, 0, 10)
	if err == nil || !strings.Contains(err.Error(), "cosine, linear, constant") {
		t.Fatalf("unknown schedule error: %v", err)
	}
	if _, err := ScheduleByName("cosine", -1, 0, 10); err == nil {
		t.Fatal("negative lr accepted")
	}
	if _, err := ScheduleByName("cosine", 1, -1, 10); err == nil {
		t.Fatal("negative warmup accepted")
	}
	c := DefaultConfig()
	c.MinLR = 0.1
	c.LearningRate = 1
	c.WarmupSteps = 0
	c.MaxSteps = 4
	s, err := c.Schedule()
	if err != nil || s(4) != 0.1 || s(0) != 1 {
		t.Fatalf("config schedule with min_lr: %v %v %v", err, s(0), s(4))
	}
}

func TestClipGradNorm(t *testing.T) {
	g1 := mx.FromSlice([]float32{3, 0}, 2)
	g2 := mx.AsType(mx.FromSlice([]float32{4}, 1), mx.BFloat16)
	clipped, norm := ClipGradNorm([]*mx.Array{g1, g2}, 1)
	if n := norm.Item(); math.Abs(n-5) > 1e-6 {
		t.Fatalf("norm %v, want 5", n)
	}
	if clipped[1].DType() != mx.BFloat16 {
		t.Fatalf("clipped dtype %s", clipped[1].DType())
	}
	scale := 1 / (5 + 1e-6)
	assertClose(t, "clipped", f64s(clipped[0].Float32s()), []float64{3 * scale, 0}, 1e-6, 0)
	assertClose(t, "clipped bf16", f64s(clipped[1].Float32s()), []float64{4 * scale}, 1e-2, 0)
	// Below the limit: unchanged (scale min(1, ...)).
	clipped, _ = ClipGradNorm([]*mx.Array{g1}, 10)
	assertClose(t, "unclipped", f64s(clipped[0].Float32s()), []float64{3, 0}, 0, 0)
	// maxNorm 0: only the norm.
	clipped, norm = ClipGradNorm([]*mx.Array{g1, g2}, 0)
	if clipped[0] != g1 || math.Abs(norm.Item()-5) > 1e-6 {
		t.Fatal("maxNorm 0 changed the gradients")
	}
}
