package models_test

import (
	"math"
	"testing"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/nn"
	"github.com/lmxlab/lmxlab/train"
)

// tinyMixedConfigs are small GPT and LLaMA configs (plus a learned-position, RMSNorm + qk-norm
// variant) for the mixed-precision tests.
func tinyMixedConfigs() map[string]models.ModelConfig {
	gpt := models.GPTTiny()
	gpt.VocabSize, gpt.Block.DModel, gpt.Block.DFF, gpt.Block.MaxSeqLen = 64, 32, 64, 16
	llama := models.LlamaTiny()
	llama.VocabSize, llama.Block.DModel, llama.Block.DFF, llama.Block.MaxSeqLen = 64, 32, 64, 16
	learned := llama
	learned.Block.Position, learned.Block.QKNorm, learned.TieEmbeddings = "learned", true, true
	learned.Name = "llama_learned_qknorm"
	return map[string]models.ModelConfig{"gpt": gpt, "llama": llama, "learned_qknorm": learned}
}

func tokenBatch(vocab, b, l int, seed uint64) (x, y *mx.Array) {
	tok := random.Randint(random.Key(seed), 0, vocab, []int{b, l + 1}, mx.Int32)
	x, y = mx.SliceAxis(tok, 1, 0, l), mx.SliceAxis(tok, 1, 1, l+1)
	mx.Eval(x, y)
	return x, y
}

func TestParseComputeDType(t *testing.T) {
	for s, want := range map[string]mx.DType{"": mx.Float32, "fp32": mx.Float32, "float32": mx.Float32,
		"bf16": mx.BFloat16, "bfloat16": mx.BFloat16} {
		if got, err := models.ParseComputeDType(s); err != nil || got != want {
			t.Errorf("ParseComputeDType(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"int8", "fp16"} {
		if _, err := models.ParseComputeDType(s); err == nil {
			t.Errorf("ParseComputeDType(%s) did not fail", s)
		}
	}
	m, err := models.Build(models.GPTTiny(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range []mx.DType{mx.Int32, mx.Float16} {
		if err := m.SetComputeDType(dt); err == nil {
			t.Errorf("SetComputeDType(%s) did not fail", dt)
		}
	}
}

// lossAndGrads returns the loss of m on (x, y) and its gradients with respect to every
// parameter, leaving the parameters in place.
func lossAndGrads(m *models.LanguageModel, x, y *mx.Array) (float64, []*mx.Array) {
	vals := nn.Values(nn.Parameters(m))
	f := func(ps ...*mx.Array) *mx.Array {
		nn.UpdateList(m, ps)
		return m.Loss(x, y, nil)
	}
	loss, grads := mx.ValueAndGrad(f)(vals...)
	nn.UpdateList(m, vals)
	mx.Eval(append([]*mx.Array{loss}, grads...)...)
	return loss.Item(), grads
}

func sumSquares(a []float32) float64 {
	var s float64
	for _, v := range a {
		s += float64(v) * float64(v)
	}
	return s
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 && bb == 0 {
		return 1
	}
	return ab / math.Sqrt(aa*bb)
}

// TestBF16ForwardAndGradientsMatchFloat32 checks that the mixed-precision forward pass gives
// float32 logits close to the float32 model's, and float32 gradients for the float32 parameters
// that point the same way as the float32 gradients.
func TestBF16ForwardAndGradientsMatchFloat32(t *testing.T) {
	for name, cfg := range tinyMixedConfigs() {
		t.Run(name, func(t *testing.T) {
			m, err := models.New(cfg, random.Key(3))
			if err != nil {
				t.Fatal(err)
			}
			x, y := tokenBatch(cfg.VocabSize, 2, 12, 5)

			ref := m.Forward(x, models.ForwardOptions{})
			refLoss, refGrads := lossAndGrads(m, x, y)
			if err := m.SetComputeDType(mx.BFloat16); err != nil {
				t.Fatal(err)
			}
			got := m.Forward(x, models.ForwardOptions{})
			loss, grads := lossAndGrads(m, x, y)
			mx.Eval(ref, got)

			if h := m.Hidden(x, models.ForwardOptions{}); h.DType() != mx.BFloat16 {
				t.Fatalf("bf16 hidden states are %s, want bfloat16", h.DType())
			}
			if got.DType() != mx.Float32 {
				t.Fatalf("bf16 logits dtype %s, want float32", got.DType())
			}
			rv, gv := ref.Float32s(), got.Float32s()
			var maxErr, maxRef float64
			for i := range rv {
				maxErr = math.Max(maxErr, math.Abs(float64(rv[i]-gv[i])))
				maxRef = math.Max(maxRef, math.Abs(float64(rv[i])))
			}
			if maxErr > 0.05*maxRef+0.02 {
				t.Errorf("bf16 logits differ from float32 by %.4g (largest |logit| %.4g)", maxErr, maxRef)
			}
			if rel := math.Abs(loss-refLoss) / refLoss; rel > 2e-2 {
				t.Errorf("bf16 loss %.5f vs float32 %.5f: relative error %.3g", loss, refLoss, rel)
			}
			// Some gradients vanish in exact arithmetic (a key bias shifts every score of a row
			// equally, which the softmax ignores): they are rounding noise in both runs, so they
			// are held to a small norm instead of a direction.
			params := nn.Parameters(m)
			var total float64
			for _, g := range refGrads {
				total += sumSquares(g.Float32s())
			}
			total = math.Sqrt(total)
			for i, g := range grads {
				if g.DType() != mx.Float32 {
					t.Errorf("gradient of %s is %s, want float32", params[i].Name, g.DType())
					continue
				}
				r, v := refGrads[i].Float32s(), g.Float32s()
				if math.Sqrt(sumSquares(r)) < 1e-4*total {
					if n := math.Sqrt(sumSquares(v)); n > 1e-3*total {
						t.Errorf("gradient of %s: norm %.3g where float32 gives ~0 (total norm %.3g)", params[i].Name, n, total)
					}
					continue
				}
				if c := cosine(r, v); c < 0.99 {
					t.Errorf("gradient of %s: cosine similarity to float32 %.4f < 0.99", params[i].Name, c)
				}
			}
		})
	}
}

// TestFloat32ComputeIsThePlainModel checks that SetComputeDType(Float32) changes nothing, bit
// for bit.
func TestFloat32ComputeIsThePlainModel(t *testing.T) {
	cfg := tinyMixedConfigs()["llama"]
	m, err := models.New(cfg, random.Key(3))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := tokenBatch(cfg.VocabSize, 2, 8, 5)
	a := m.Forward(x, models.ForwardOptions{})
	if err := m.SetComputeDType(mx.Float32); err != nil {
		t.Fatal(err)
	}
	b := m.Forward(x, models.ForwardOptions{})
	mx.Eval(a, b)
	av, bv := a.Float32s(), b.Float32s()
	for i := range av {
		if math.Float32bits(av[i]) != math.Float32bits(bv[i]) {
			t.Fatalf("logit %d: %v with float32 compute, %v plain", i, bv[i], av[i])
		}
	}
}

// TestBF16TrainingLowersTheLoss trains tiny GPT and LLaMA models in bf16 with the compiled AdamW
// step: the loss falls and the parameters (master weights) stay float32.
func TestBF16TrainingLowersTheLoss(t *testing.T) {
	cfgs := tinyMixedConfigs()
	for _, name := range []string{"gpt", "llama"} {
		cfg := cfgs[name]
		t.Run(name, func(t *testing.T) {
			m, err := models.New(cfg, random.Key(1))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.SetComputeDType(mx.BFloat16); err != nil {
				t.Fatal(err)
			}
			// A fixed batch: the model can memorise it, so the loss must fall steadily.
			x, y := tokenBatch(cfg.VocabSize, 4, 16, 9)
			tc := train.DefaultConfig()
			tc.BatchSize, tc.SeqLen, tc.WarmupSteps, tc.MaxSteps = 4, 16, 0, 20
			tc.LearningRate, tc.LRSchedule, tc.EvalInterval, tc.LogInterval = 3e-3, "constant", 0, 0
			tr := &train.Trainer{Model: m, Config: tc, Loss: func(x, y *mx.Array) *mx.Array { return m.Loss(x, y, nil) }}
			var losses []float64
			for range 20 {
				losses = append(losses, tr.Step(train.Batch{X: x, Y: y}).Loss)
			}
			first, last := losses[0], losses[len(losses)-1]
			if math.IsNaN(last) || !(last < 0.8*first) {
				t.Errorf("bf16 training loss %.4f -> %.4f did not fall by 20%%: %v", first, last, losses)
			}
			for _, p := range nn.Parameters(m) {
				if p.Value.DType() != mx.Float32 {
					t.Errorf("parameter %s is %s after training, want float32", p.Name, p.Value.DType())
				}
			}
		})
	}
}
