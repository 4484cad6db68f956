package train

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/nn"
)

// tinyEmbed and tinyLinear are hand-written modules, so the tests depend only on nn's
// reflection and on mx.
type tinyEmbed struct{ Weight *mx.Array }

type tinyLinear struct {
	Weight *mx.Array // (out, in)
	Bias   *mx.Array
}

// tinyModel is a bigram language model: embed → tanh → linear head.
type tinyModel struct {
	nn.Frozen
	Embed tinyEmbed
	Head  *tinyLinear
}

const (
	tV = 11 // vocabulary
	tD = 8  // width
)

func randArray(rng *rand.Rand, scale float64, shape ...int) *mx.Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return mx.FromSlice(v, shape...)
}

func newTinyModel(seed uint64) *tinyModel {
	rng := rand.New(rand.NewPCG(seed, 1))
	return &tinyModel{
		Embed: tinyEmbed{Weight: randArray(rng, 1, tV, tD)},
		Head:  &tinyLinear{Weight: randArray(rng, 0.3, tV, tD), Bias: randArray(rng, 0.1, tV)},
	}
}

// crossEntropy is the mean of logsumexp(logits) − logits[target], built from basic ops.
func crossEntropy(logits, y *mx.Array) *mx.Array {
	lse := mx.LogSumExp(logits, []int{-1}, false)
	tgt := mx.Squeeze(mx.TakeAlongAxis(logits, mx.ExpandDims(y, -1), -1), -1)
	return mx.Mean(mx.Sub(lse, tgt), nil, false)
}

func (m *tinyModel) logits(x *mx.Array) *mx.Array {
	h := mx.Tanh(mx.Take(m.Embed.Weight, x, 0))
	return mx.Add(mx.MatmulT(h, m.Head.Weight), m.Head.Bias)
}

func (m *tinyModel) loss(x, y *mx.Array) *mx.Array { return crossEntropy(m.logits(x), y) }

// synth is a resumable synthetic stream: each row starts at a random token and follows
// next = (3·tok + 1) mod V, so a bigram model can learn it. Batch i depends only on (seed, i).
type synth struct {
	Seed    uint64
	B, L, N int // N: number of batches (0: endless)
	I       int // next batch index
}

func (s *synth) Next() (Batch, bool) {
	if s.N > 0 && s.I >= s.N {
		return Batch{}, false
	}
	rng := rand.New(rand.NewPCG(s.Seed, uint64(s.I)))
	s.I++
	xs := make([]int32, s.B*s.L)
	ys := make([]int32, s.B*s.L)
	for b := 0; b < s.B; b++ {
		tok := int32(rng.IntN(tV))
		for l := 0; l < s.L; l++ {
			xs[b*s.L+l] = tok
			tok = (3*tok + 1) % tV
			if rng.IntN(10) == 0 { // a little noise
				tok = int32(rng.IntN(tV))
			}
			ys[b*s.L+l] = tok
		}
	}
	return Batch{X: mx.FromSlice(xs, s.B, s.L), Y: mx.FromSlice(ys, s.B, s.L)}, true
}

func (s *synth) State() json.RawMessage {
	b, _ := json.Marshal(map[string]int{"i": s.I})
	return b
}

func (s *synth) Restore(b json.RawMessage) error {
	var st map[string]int
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	s.I = st["i"]
	return nil
}

// testConfig is a small, fast config.
func testConfig() Config {
	c := DefaultConfig()
	c.LearningRate = 0.05
	c.WarmupSteps = 2
	c.MaxSteps = 20
	c.BatchSize = 4
	c.SeqLen = 6
	c.EvalInterval = 0
	c.LogInterval = 5
	c.WeightDecay = 0.01
	return c
}

func newTestTrainer(seed uint64, cfg Config) (*Trainer, *tinyModel) {
	m := newTinyModel(seed)
	return &Trainer{Model: m, Loss: m.loss, Config: cfg}, m
}

func assertClose(t *testing.T, what string, got, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > atol+rtol*math.Abs(want[i]) || math.IsNaN(got[i]) != math.IsNaN(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v (diff %g)", what, i, got[i], want[i], d)
		}
	}
}

func losses(h []Metrics) []float64 {
	out := make([]float64, len(h))
	for i, m := range h {
		out[i] = m.Loss
	}
	return out
}

func paramValues(m any) [][]float32 {
	var out [][]float32
	for _, p := range nn.Parameters(m) {
		out = append(out, p.Value.Float32s())
	}
	return out
}
