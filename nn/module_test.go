package nn

import (
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
)

type block struct {
	QProj *Linear
	Norm  *RMSNorm
	Skip  *mx.Array `nn:"-"`
	Gate  *mx.Array `nn:"gate_weight"`
	extra *mx.Array
}

type toy struct {
	Frozen
	Embed  *Embedding
	Blocks []*block
	Head   *Linear
	Mixer  any
}

func newToy() *toy {
	k := random.Key(1)
	return &toy{
		Embed:  NewEmbedding(10, 4, random.At(random.Split(k, 3), 0)),
		Blocks: []*block{{QProj: NewLinear(4, 4, true, nil), Norm: NewRMSNorm(4, 1e-5), Skip: mx.Ones([]int{2}, mx.Float32), Gate: mx.Ones([]int{4}, mx.Float32)}},
		Head:   NewLinear(4, 10, false, nil),
		Mixer:  &Linear{Weight: mx.Zeros([]int{2, 2}, mx.Float32)},
	}
}

func TestParameterNamesAndOrder(t *testing.T) {
	m := newToy()
	got := strings.Join(Names(Parameters(m)), " ")
	want := "embed.weight blocks.0.q_proj.weight blocks.0.q_proj.bias blocks.0.norm.weight blocks.0.gate_weight head.weight mixer.weight"
	if got != want {
		t.Fatalf("names:\n%s\nwant\n%s", got, want)
	}
	if n := NumParams(m); n != 40+16+4+4+4+40+4 {
		t.Fatalf("NumParams = %d", n)
	}
	for in, want := range map[string]string{"QProj": "q_proj", "KVDown": "kv_down", "ALog": "a_log", "Weight": "weight", "FFN": "ffn", "AttnNorm": "attn_norm", "DtBias": "dt_bias"} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestUpdateChecksNamesAndShapes(t *testing.T) {
	m := newToy()
	if err := Update(m, map[string]*mx.Array{"head.weight": mx.Zeros([]int{10, 4}, mx.Float32)}); err != nil {
		t.Fatal(err)
	}
	if mx.Sum(m.Head.Weight, nil, false).Item() != 0 {
		t.Fatal("Update did not replace the weight")
	}
	err := Update(m, map[string]*mx.Array{"head.wieght": mx.Zeros([]int{10, 4}, mx.Float32)})
	if err == nil || !strings.Contains(err.Error(), "head.wieght") {
		t.Fatalf("unknown name: %v", err)
	}
	before := m.Embed.Weight
	err = Update(m, map[string]*mx.Array{"embed.weight": mx.Zeros([]int{10, 4}, mx.Float32), "head.weight": mx.Zeros([]int{3, 4}, mx.Float32)})
	if err == nil || !strings.Contains(err.Error(), "[10 4]") || m.Embed.Weight != before {
		t.Fatalf("a shape mismatch must fail and change nothing: %v", err)
	}
	vals := Values(Parameters(m))
	vals[0] = mx.Ones([]int{10, 4}, mx.Float32)
	UpdateList(m, vals)
	if m.Embed.Weight != vals[0] {
		t.Fatal("UpdateList did not write in order")
	}
}

func TestFreezeAndTrainable(t *testing.T) {
	m := newToy()
	Freeze(m)
	Unfreeze(m, "q_proj", "head")
	got := strings.Join(Names(Trainable(m)), " ")
	if got != "blocks.0.q_proj.weight blocks.0.q_proj.bias head.weight" {
		t.Fatalf("trainable after freeze/unfreeze: %s", got)
	}
	Unfreeze(m)
	if len(Trainable(m)) != len(Parameters(m)) {
		t.Fatal("Unfreeze() should unfreeze all")
	}
}

func TestLayersForward(t *testing.T) {
	l := NewLinear(3, 2, true, random.Key(5))
	x := mx.FromSlice([]float32{1, 2, 3}, 1, 3)
	w, b := l.Weight.Float32s(), l.Bias.Float32s()
	got := l.Forward(x).Float32s()
	for o := 0; o < 2; o++ {
		want := b[o] + w[o*3]*1 + w[o*3+1]*2 + w[o*3+2]*3
		if d := got[o] - want; d > 1e-6 || d < -1e-6 {
			t.Fatalf("Linear output %d = %v, want %v", o, got[o], want)
		}
	}
	e := NewEmbedding(5, 3, random.Key(6))
	rows := e.Forward(mx.FromSlice([]int32{4, 0}, 2)).Float32s()
	tab := e.Weight.Float32s()
	if rows[0] != tab[12] || rows[3] != tab[0] {
		t.Fatal("Embedding lookup picked the wrong rows")
	}
	// Dropout: p=0 is the identity; in expectation it preserves the mean.
	ones := mx.Ones([]int{20000}, mx.Float32)
	if Dropout(ones, 0, nil) != ones {
		t.Fatal("Dropout(p=0) must return its input")
	}
	mean := mx.Mean(Dropout(ones, 0.25, random.Key(7)), nil, false).Item()
	if mean < 0.97 || mean > 1.03 {
		t.Fatalf("Dropout mean %v", mean)
	}
}
