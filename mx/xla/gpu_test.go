package xla_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/train"
)

// GPU tests: skipped unless LMXLAB_DEVICE=gpu, and failing (not skipping) when that is set and
// the device cannot be opened. Each runs the same program on the gpu and the cpu device and
// compares the results.

func gpuDevice(t testing.TB) *mx.Device {
	t.Helper()
	if os.Getenv("LMXLAB_DEVICE") != "gpu" {
		t.Skip("set LMXLAB_DEVICE=gpu to run on the GPU")
	}
	// These tests compare with the cpu backend: keep bfloat16 roundings (see defaultXLAFlags).
	if os.Getenv("LMXLAB_XLA_STRICT_BF16") == "" {
		os.Setenv("LMXLAB_XLA_STRICT_BF16", "1")
	}
	d, err := mx.OpenDevice("gpu")
	if err != nil {
		t.Fatalf("LMXLAB_DEVICE=gpu but the gpu device does not open: %v", err)
	}
	return d
}

// on runs build with dev as the default device and reads every result as float64.
func on(dev *mx.Device, build func(r *rand.Rand) []*mx.Array) [][]float64 {
	old := mx.DefaultDevice()
	mx.SetDefaultDevice(dev)
	defer mx.SetDefaultDevice(old)
	outs := build(rand.New(rand.NewPCG(1, 2)))
	mx.Eval(outs...)
	res := make([][]float64, len(outs))
	for i, o := range outs {
		res[i] = o.Float64s()
	}
	return res
}

func rnd(r *rand.Rand, shape ...int) *mx.Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return mx.FromSlice(v, shape...)
}

func ints(r *rand.Rand, lo, hi int, shape ...int) *mx.Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(lo + r.IntN(hi-lo))
	}
	return mx.FromSlice(v, shape...)
}

// relErr is ‖a - b‖ / max(‖b‖, tiny), with NaNs required at the same places.
func relErr(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range a {
		if math.IsNaN(a[i]) != math.IsNaN(b[i]) {
			return math.Inf(1)
		}
		if math.IsNaN(a[i]) || (math.IsInf(b[i], 0) && a[i] == b[i]) {
			continue
		}
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), 1e-30)
}

func sum(a *mx.Array) *mx.Array { return mx.Sum(a, nil, false) }

// weighted is Σ a·w with fixed pseudo-random weights, a scalar whose gradient probes every
// element.
func weighted(a *mx.Array) *mx.Array {
	r := rand.New(rand.NewPCG(7, 7))
	return sum(mx.Mul(mx.AsType(a, mx.Float32), rnd(r, a.Shape()...)))
}

var gpuCases = []struct {
	name string
	tol  float64
	f    func(r *rand.Rand) []*mx.Array
}{
	{"matmul", 1e-5, func(r *rand.Rand) []*mx.Array {
		a, b := rnd(r, 2, 1, 5, 7), rnd(r, 3, 7, 4)
		return []*mx.Array{mx.Matmul(a, b), mx.MatmulT(rnd(r, 6, 7), rnd(r, 9, 7))}
	}},
	{"elementwise", 1e-5, func(r *rand.Rand) []*mx.Array {
		x := rnd(r, 4, 33)
		outs := []*mx.Array{mx.Exp(x), mx.Tanh(x), mx.GELU(x), mx.SiLU(x), mx.Erf(x), mx.Sigmoid(x),
			mx.Log1p(mx.Abs(x)), mx.Remainder(x, mx.Scalar(0.7, mx.Float32)), mx.Maximum(x, mx.Transpose(rnd(r, 33, 4)))}
		i, j := ints(r, -20, 20, 50), ints(r, -5, 6, 50)
		outs = append(outs, mx.Div(i, j), mx.Remainder(i, j), mx.Pow(ints(r, -3, 4, 50), ints(r, 0, 5, 50)))
		return outs
	}},
	{"reductions", 1e-5, func(r *rand.Rand) []*mx.Array {
		x := rnd(r, 3, 4, 5)
		return []*mx.Array{mx.Sum(x, []int{0, 2}, true), mx.Max(x, []int{1}, false), mx.ArgMax(x, 2, false),
			mx.ArgMin(x, 0, false), mx.Cumsum(x, 1, true, true), mx.CumMax(x, 2, false), mx.Softmax(x, 1),
			mx.LogSoftmax(x, -1), mx.LogSumExp(x, []int{2}, false)}
	}},
	{"sort", 0, func(r *rand.Rand) []*mx.Array {
		v := []float32{3, math.Float32frombits(0x7fc00000), -1, 2, 2, 0, -5, 7}
		x := mx.FromSlice(v, 2, 4)
		return []*mx.Array{mx.Sort(x, 1), mx.ArgSort(x, 1), mx.ArgSort(ints(r, 0, 4, 3, 9), 1)}
	}},
	{"indexing", 1e-6, func(r *rand.Rand) []*mx.Array {
		x := rnd(r, 6, 5)
		idx := mx.FromSlice([]int32{0, -1, 3, 3}, 4)
		ai := ints(r, 0, 5, 6, 2)
		return []*mx.Array{mx.Take(x, idx, 0), mx.Take(x, idx, 1), mx.ScatterAdd(x, idx, rnd(r, 4, 5), 0),
			mx.TakeAlongAxis(x, ai, 1), mx.AddAlongAxis(x, ai, rnd(r, 6, 2), 1),
			mx.Slice(x, []int{5, 4}, []int{0, 0}, []int{-2, -3}),
			mx.SliceUpdate(x, rnd(r, 2, 2), []int{1, 0}, []int{5, 5}, []int{2, 3}),
			mx.Pad(x, []int{1, 0}, []int{2, 1}, 0.5), mx.Concatenate([]*mx.Array{x, x}, 1)}
	}},
	{"norms and grads", 1e-4, func(r *rand.Rand) []*mx.Array {
		x, w, b := rnd(r, 3, 7, 16), rnd(r, 16), rnd(r, 16)
		f := func(a ...*mx.Array) *mx.Array {
			return mx.Add(weighted(mx.LayerNorm(a[0], a[1], a[2], 1e-5)), weighted(mx.RMSNorm(a[0], a[1], 1e-6)))
		}
		gs := mx.Grad(f, 0, 1, 2)(x, w, b)
		return append([]*mx.Array{mx.LayerNorm(x, w, b, 1e-5), mx.RMSNorm(x, w, 1e-6)}, gs...)
	}},
	{"attention", 1e-4, func(r *rand.Rand) []*mx.Array {
		q, k, v := rnd(r, 2, 4, 9, 8), rnd(r, 2, 2, 9, 8), rnd(r, 2, 2, 9, 8)
		mask := mx.Greater(rnd(r, 1, 1, 9, 9), mx.Scalar(-1, mx.Float32))
		opts := []mx.AttentionOptions{{Causal: true}, {Causal: true, Window: 3}, {Mask: mask}, {Chunk: 4, Causal: true}}
		var outs []*mx.Array
		for _, o := range opts {
			o := o
			outs = append(outs, mx.ScaledDotProductAttention(q, k, v, o))
			f := func(a ...*mx.Array) *mx.Array { return weighted(mx.ScaledDotProductAttention(a[0], a[1], a[2], o)) }
			outs = append(outs, mx.Grad(f, 0, 1, 2)(q, k, v)...)
		}
		return outs
	}},
	{"bfloat16 attention (cuDNN on the GPU)", 3e-2, func(r *rand.Rand) []*mx.Array {
		// bfloat16 q, k, v: the GPU runs cuDNN's flash-attention calls (output rounded to
		// bfloat16, its own accumulation order), the cpu the plain kernels.
		h := func(x *mx.Array) *mx.Array { return mx.AsType(x, mx.BFloat16) }
		q, k, v := rnd(r, 2, 4, 32, 64), rnd(r, 2, 2, 32, 64), rnd(r, 2, 2, 32, 64)
		var outs []*mx.Array
		for _, o := range []mx.AttentionOptions{{Causal: true}, {Causal: true, Window: 7}, {}} {
			o := o
			outs = append(outs, mx.ScaledDotProductAttention(h(q), h(k), h(v), o))
			f := func(a ...*mx.Array) *mx.Array {
				return weighted(mx.ScaledDotProductAttention(h(a[0]), h(a[1]), h(a[2]), o))
			}
			outs = append(outs, mx.Grad(f, 0, 1, 2)(q, k, v)...)
		}
		return outs
	}},
	{"cross entropy", 1e-5, func(r *rand.Rand) []*mx.Array {
		logits := rnd(r, 6, 11)
		tg := mx.FromSlice([]int32{0, 3, -1, 10, 5, 5}, 6)
		f := func(a ...*mx.Array) *mx.Array { return weighted(mx.CrossEntropy(a[0], tg)) }
		return append([]*mx.Array{mx.CrossEntropy(logits, tg)}, mx.Grad(f, 0)(logits)...)
	}},
	{"cross entropy, wide rows and infinities", 1e-5, func(r *rand.Rand) []*mx.Array {
		// Rows long enough for the GPU's many-thread row reduction, large logits, -Inf
		// entries and an all -Inf row (its target ignored): the one-pass log-sum-exp merges
		// partial sums of different maxima.
		v := make([]float32, 5*3001)
		for i := range v {
			row, col := i/3001, i%3001
			switch {
			case row == 4, row == 1 && col%3 == 0: // row 1: every third entry; row 4: all
				v[i] = float32(math.Inf(-1))
			default:
				v[i] = float32(40 * r.NormFloat64())
			}
		}
		logits := mx.FromSlice(v, 5, 3001)
		tg := mx.FromSlice([]int32{7, 1, 3000, 0, -1}, 5)
		f := func(a ...*mx.Array) *mx.Array { return weighted(mx.CrossEntropy(a[0], tg)) }
		return append([]*mx.Array{mx.CrossEntropy(logits, tg), mx.LogSumExp(logits, []int{1}, false)}, mx.Grad(f, 0)(logits)...)
	}},
	{"cross entropy, chunked vocabulary", 1e-5, func(r *rand.Rand) []*mx.Array {
		// 5,000 columns: the log-sum-exp reduces chunks of 1,000 first (lseChunk), then the
		// chunks' maxima and sums; the target logits come from a gather.
		const cols = 5000
		v := make([]float32, 4*cols)
		for i := range v {
			v[i] = float32(30 * r.NormFloat64())
			if i/cols == 2 && i%7 == 0 {
				v[i] = float32(math.Inf(-1))
			}
		}
		logits := mx.FromSlice(v, 4, cols)
		tg := mx.FromSlice([]int32{cols - 1, 0, 1, -1}, 4)
		f := func(a ...*mx.Array) *mx.Array { return weighted(mx.CrossEntropy(a[0], tg)) }
		return append([]*mx.Array{mx.CrossEntropy(logits, tg), mx.LogSumExp(logits, []int{1}, false)}, mx.Grad(f, 0)(logits)...)
	}},
	{"rope", 1e-5, func(r *rand.Rand) []*mx.Array {
		x := rnd(r, 2, 3, 5, 12)
		return []*mx.Array{mx.RoPE(x, mx.RoPEOptions{Offset: 3}), mx.RoPE(x, mx.RoPEOptions{Dims: 8, Traditional: true, Scale: 0.5})}
	}},
	{"conv1d", 1e-4, func(r *rand.Rand) []*mx.Array {
		x, w := rnd(r, 2, 11, 4), rnd(r, 6, 3, 2)
		f := func(a ...*mx.Array) *mx.Array { return weighted(mx.Conv1d(a[0], a[1], 2, 1, 2, 2)) }
		return append([]*mx.Array{mx.Conv1d(x, w, 2, 1, 2, 2)}, mx.Grad(f, 0, 1)(x, w)...)
	}},
	{"quantized matmul", 1e-5, func(r *rand.Rand) []*mx.Array {
		w := rnd(r, 8, 64)
		wq, s, b := mx.Quantize(w, 32, 4)
		x := rnd(r, 3, 64)
		return []*mx.Array{mx.QuantizedMatmul(x, wq, s, b, true, 32, 4), mx.QuantizedMatmul(rnd(r, 2, 8), wq, s, b, false, 32, 4)}
	}},
	{"random bits", 0, func(r *rand.Rand) []*mx.Array {
		return []*mx.Array{mx.RandomBits(random.Key(42), []int{7, 3}), random.Randint(random.Key(4), 0, 100, []int{9}, mx.Int32)}
	}},
	{"random normal", 1e-6, func(r *rand.Rand) []*mx.Array {
		// The same bits; erfinv and log may differ in the last place.
		return []*mx.Array{random.Normal(random.Key(3), []int{5, 4}, mx.Float32, 0, 1)}
	}},
	{"conversions", 0, func(r *rand.Rand) []*mx.Array {
		x := mx.FromSlice([]float32{-1.7, 0, 2.5, 300, 1 + 1.0/256}, 5)
		b := mx.AsType(x, mx.BFloat16)
		return []*mx.Array{mx.AsType(x, mx.Int32), mx.AsType(x, mx.Uint8), mx.AsType(x, mx.Bool), b}
	}},
	{"bfloat16 stays rounded", 1e-6, func(r *rand.Rand) []*mx.Array {
		// A value rounded to bfloat16 must not be used unrounded by a fused consumer.
		b := mx.AsType(mx.MulScalar(rnd(r, 3, 40), 3), mx.BFloat16)
		return []*mx.Array{mx.Exp(mx.AsType(b, mx.Float32)), mx.CrossEntropy(b, mx.FromSlice([]int32{2, 0, 39}, 3))}
	}},
	{"bfloat16", 1e-2, func(r *rand.Rand) []*mx.Array {
		a, b := mx.AsType(rnd(r, 16, 32), mx.BFloat16), mx.AsType(rnd(r, 32, 8), mx.BFloat16)
		return []*mx.Array{mx.Matmul(a, b), mx.Softmax(a, -1), mx.Sum(a, []int{1}, false)}
	}},
}

func TestGPUMatchesCPU(t *testing.T) {
	gpu := gpuDevice(t)
	for _, c := range gpuCases {
		t.Run(c.name, func(t *testing.T) {
			want := on(mx.CPU, c.f)
			got := on(gpu, c.f)
			for i := range want {
				if e := relErr(got[i], want[i]); e > c.tol || (c.tol == 0 && e != 0) {
					t.Errorf("output %d: relative error %.3g (tolerance %.g)\n gpu %v\n cpu %v", i, e, c.tol, head(got[i]), head(want[i]))
				}
			}
		})
	}
}

func head(v []float64) []float64 {
	if len(v) > 8 {
		return v[:8]
	}
	return v
}

// TestGPUTrainingSteps trains tiny GPT and LLaMA models for a few AdamW steps on both devices
// from the same seed: the weights (drawn on each device from the same Threefry stream) and
// the losses must agree.
func TestGPUTrainingSteps(t *testing.T) {
	gpu := gpuDevice(t)
	for _, name := range []string{"gpt_tiny", "llama_tiny"} {
		t.Run(name, func(t *testing.T) {
			losses := func(dev *mx.Device, donate, many bool) []float64 {
				old := mx.DefaultDevice()
				mx.SetDefaultDevice(dev)
				defer mx.SetDefaultDevice(old)
				cfg, err := models.ConfigByName(name)
				if err != nil {
					t.Fatal(err)
				}
				m, err := models.New(cfg, random.Key(0))
				if err != nil {
					t.Fatal(err)
				}
				tok := random.Randint(random.Key(1), 0, cfg.VocabSize, []int{4, 33}, mx.Int32)
				batch := train.Batch{X: mx.SliceAxis(tok, 1, 0, 32), Y: mx.SliceAxis(tok, 1, 1, 33)}
				tc := train.DefaultConfig()
				tc.BatchSize, tc.SeqLen, tc.WarmupSteps, tc.MaxSteps = 4, 32, 0, 4
				tc.LearningRate, tc.LRSchedule, tc.EvalInterval, tc.LogInterval = 3e-3, "constant", 0, 0
				tc.DonateBuffers = donate
				tr := &train.Trainer{Model: m, Config: tc, Loss: func(x, y *mx.Array) *mx.Array { return m.Loss(x, y, nil) }}
				var out []float64
				if many { // the four updates in one program
					for _, m := range tr.StepMany([]train.Batch{batch, batch, batch, batch}) {
						out = append(out, m.Loss)
					}
					return out
				}
				for i := 0; i < 4; i++ {
					out = append(out, tr.Step(batch).Loss)
				}
				return out
			}
			want := losses(mx.CPU, false, false)
			// On the GPU also with the parameters and optimizer state donated (updated in place),
			// and with the four updates in one compiled call (Trainer.StepMany).
			for _, v := range []struct{ donate, many bool }{{false, false}, {true, false}, {true, true}} {
				got := losses(gpu, v.donate, v.many)
				t.Logf("cpu losses %v\ngpu losses %v (donated buffers: %v, one call: %v)", want, got, v.donate, v.many)
				if e := relErr(got, want); e > 1e-3 {
					t.Fatalf("donate %v many %v: losses differ: relative error %.3g", v.donate, v.many, e)
				}
			}
		})
	}
	if s, ok := gpu.Backend().(interface{ CompileStats() (int, time.Duration) }); ok {
		n, d := s.CompileStats()
		fmt.Printf("xla: %d programs compiled in %v\n", n, d)
	}
}

// TestGPUCasesLower runs the GPU comparison programs on the check device (the cpu kernels, with
// every program lowered and verified): the lowering of each is exercised without a GPU.
func TestGPUCasesLower(t *testing.T) {
	for _, c := range gpuCases {
		t.Run(c.name, func(t *testing.T) {
			want := on(mx.CPU, c.f)
			got := on(checkDev, c.f)
			for i := range want {
				if e := relErr(got[i], want[i]); e != 0 {
					t.Errorf("output %d differs on the check device: %.3g", i, e)
				}
			}
		})
	}
}
