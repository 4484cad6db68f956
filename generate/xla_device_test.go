package generate

import (
	"slices"
	"testing"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/cpu"
	"github.com/lmxlab/lmxlab/mx/prim"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/mx/xla"
)

// Device hooks: importing mx/xla registers "gpu", so LMXLAB_DEVICE=gpu runs these tests on the
// xla backend; "xlacheck" runs the cpu kernels with every program also lowered to StableHLO and
// verified, which TestCompiledDecodingLowers uses to check the decode step without a GPU.

var checkBackend = xla.NewCheckBackend(cpu.New())

func init() {
	mx.RegisterDevice("xlacheck", func() (prim.Backend, error) { return checkBackend, nil })
}

func TestCompiledDecodingLowers(t *testing.T) {
	dev, err := mx.OpenDevice("xlacheck")
	if err != nil {
		t.Fatal(err)
	}
	old := mx.DefaultDevice()
	mx.SetDefaultDevice(dev)
	defer mx.SetDefaultDevice(old)
	cfg := models.GPTTiny()
	cfg.Block.Position = "learned"
	for _, c := range []models.ModelConfig{cfg, models.LlamaTiny()} {
		m, err := models.New(c, random.Key(11))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []Sampler{{}, {Temperature: 1, TopP: 0.9, RepetitionPenalty: 1.2}} {
			d := NewDecoder(m, s)
			got, err := Generate(m, [][]int{{3, 1, 4}}, Options{Sampler: s, MaxTokens: 6, Seed: 1, Decoder: d})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Generate(m, [][]int{{3, 1, 4}}, Options{Sampler: s, MaxTokens: 6, Seed: 1, Decode: DecodeEager})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Tokens[0], want.Tokens[0]) {
				t.Fatalf("%s %+v: compiled %v, eager %v", c.Name, s, got.Tokens[0], want.Tokens[0])
			}
			if d.Traces() != 1 {
				t.Fatalf("%s: %d traces", c.Name, d.Traces())
			}
		}
	}
	_, ops := checkBackend.Stats()
	if !slices.ContainsFunc(ops, func(s string) bool { return len(s) > 19 && s[:19] == "DynamicUpdateSlice:" }) {
		t.Fatalf("no DynamicUpdateSlice went through the lowering: %v", ops)
	}
}
