package xla_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/cpu"
	"github.com/lmxlab/lmxlab/mx/prim"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/mx/xla"
)

// These tests need no GPU: they check the StableHLO text that Lower writes.

var checkDev = func() *mx.Device {
	mx.RegisterDevice("xlacheck", func() (prim.Backend, error) { return xla.NewCheckBackend(cpu.New()), nil })
	d, err := mx.OpenDevice("xlacheck")
	if err != nil {
		panic(err)
	}
	return d
}()

// lowerOf traces f on arguments of the given shapes (float32) and lowers the program.
func lowerOf(t *testing.T, f func(a ...*mx.Array) []*mx.Array, shapes ...[]int) string {
	t.Helper()
	args := make([]*mx.Array, len(shapes))
	for i, s := range shapes {
		args[i] = mx.Zeros(s, mx.Float32)
	}
	p := mx.Compile(f).Program(args...)
	text, err := xla.Lower(p, xla.Options{})
	if err != nil {
		t.Fatalf("Lower: %v\n%s", err, p)
	}
	if err := xla.Verify(text); err != nil {
		t.Fatalf("Verify: %v\n%s", err, text)
	}
	return text
}

func wantOps(t *testing.T, text string, ops ...string) {
	t.Helper()
	for _, op := range ops {
		if !strings.Contains(text, op) {
			t.Errorf("lowering lacks %q:\n%s", op, text)
		}
	}
}

func TestLowerGolden(t *testing.T) {
	text := lowerOf(t, func(a ...*mx.Array) []*mx.Array {
		return []*mx.Array{mx.Add(a[0], mx.Scalar(1, mx.Float32))}
	}, []int{2, 3})
	want := `module @lmxlab {
  func.func public @main(%arg0: tensor<2x3xf32>) -> (tensor<2x3xf32>) {
    %0 = "stablehlo.constant"() {value = dense<0x3F800000> : tensor<f32>} : () -> tensor<f32>
    %1 = "stablehlo.broadcast_in_dim"(%0) {broadcast_dimensions = array<i64>} : (tensor<f32>) -> tensor<2x3xf32>
    %2 = "stablehlo.add"(%arg0, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    "func.return"(%2) : (tensor<2x3xf32>) -> ()
  }
}
`
	if text != want {
		t.Fatalf("got\n%s\nwant\n%s", text, want)
	}
}

func TestLowerRepresentativeOps(t *testing.T) {
	cases := []struct {
		name   string
		f      func(a ...*mx.Array) []*mx.Array
		shapes [][]int
		ops    []string
	}{
		{"matmul", func(a ...*mx.Array) []*mx.Array { return []*mx.Array{mx.Matmul(a[0], a[1])} },
			[][]int{{2, 3, 4, 5}, {3, 5, 6}}, []string{"stablehlo.dot_general", "precision HIGHEST", "lhs_batching_dimensions = [0, 1]"}},
		{"linear", func(a ...*mx.Array) []*mx.Array { return []*mx.Array{mx.MatmulT(a[0], a[1])} },
			[][]int{{2, 7, 4}, {6, 4}}, []string{"lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [1]"}},
		{"softmax", func(a ...*mx.Array) []*mx.Array { return []*mx.Array{mx.Softmax(a[0], -1)} },
			[][]int{{4, 9}}, []string{"stablehlo.reduce", "stablehlo.maximum", "stablehlo.exponential", "stablehlo.divide"}},
		{"sort", func(a ...*mx.Array) []*mx.Array { return []*mx.Array{mx.Sort(a[0], -1), mx.ArgSort(a[0], 0)} },
			[][]int{{3, 5}}, []string{"stablehlo.sort", "is_stable = true", "stablehlo.iota"}},
		{"cumsum", func(a ...*mx.Array) []*mx.Array { return []*mx.Array{mx.Cumsum(a[0], 1, false, true)} },
			[][]int{{3, 5}}, []string{"stablehlo.reduce_window", "padding = dense<[[0, 0], [4, 0]]> : tensor<2x2xi64>"}},
		{"take", func(a ...*mx.Array) []*mx.Array {
			return []*mx.Array{mx.Take(a[0], mx.FromSlice([]int32{2, -1, 0}, 3), 0)}
		}, [][]int{{5, 4}}, []string{"stablehlo.gather", "collapsed_slice_dims = [0]"}},
		{"scatter", func(a ...*mx.Array) []*mx.Array {
			return []*mx.Array{mx.ScatterAdd(a[0], mx.FromSlice([]int32{1, 1, 3}, 3), a[1], 1)}
		}, [][]int{{2, 5}, {2, 3}}, []string{"stablehlo.scatter", "inserted_window_dims = [1]"}},
		{"attention", func(a ...*mx.Array) []*mx.Array {
			return []*mx.Array{mx.ScaledDotProductAttention(a[0], a[1], a[2], mx.AttentionOptions{Causal: true})}
		}, [][]int{{1, 4, 6, 8}, {1, 2, 6, 8}, {1, 2, 6, 8}}, []string{"stablehlo.dot_general", "comparison_direction LE"}},
		{"strided slice", func(a ...*mx.Array) []*mx.Array {
			return []*mx.Array{mx.Transpose(a[0], 1, 0)}
		}, [][]int{{3, 5}}, []string{"stablehlo.transpose", "permutation = array<i64: 1, 0>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOps(t, lowerOf(t, c.f, c.shapes...), c.ops...)
		})
	}
}

func TestLowerRandomBitsMatchesCPU(t *testing.T) {
	// The check device runs the cpu kernels; this only proves the program lowers. The GPU test
	// compares the bits themselves.
	text := lowerOf(t, func(a ...*mx.Array) []*mx.Array {
		return []*mx.Array{mx.RandomBits(mx.AsType(a[0], mx.Uint32), []int{3, 5})}
	}, []int{2})
	wantOps(t, text, "stablehlo.shift_left", "stablehlo.shift_right_logical", "stablehlo.xor", "dense<466688986>")
}

// TestLowerModelTrainingStep pushes a tiny GPT's loss and gradients through the lowering and
// verifier.
func TestLowerModelTrainingStep(t *testing.T) {
	old := mx.DefaultDevice()
	mx.SetDefaultDevice(checkDev)
	defer mx.SetDefaultDevice(old)
	for _, name := range []string{"gpt_tiny", "llama_tiny"} {
		cfg, err := models.ConfigByName(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := models.New(cfg, random.Key(0))
		if err != nil {
			t.Fatal(err)
		}
		tok := random.Randint(random.Key(1), 0, cfg.VocabSize, []int{2, 9}, mx.Int32)
		x, y := mx.SliceAxis(tok, 1, 0, 8), mx.SliceAxis(tok, 1, 1, 9)
		loss := mx.Compile(func(a ...*mx.Array) []*mx.Array {
			return []*mx.Array{m.Loss(a[0], a[1], nil)}
		})
		out := loss.Call(x, y)[0]
		if v := out.Item(); !(v > 0) {
			t.Fatalf("%s: loss %v", name, v)
		}
	}
	n, _ := checkDev.Backend().(*xla.CheckBackend).Stats()
	if n == 0 {
		t.Fatal("no program went through the check backend")
	}
}

func TestVerifyRejects(t *testing.T) {
	good := lowerOf(t, func(a ...*mx.Array) []*mx.Array { return []*mx.Array{mx.Exp(a[0])} }, []int{2})
	bad := map[string]string{
		"undefined value": strings.Replace(good, `"stablehlo.exponential"(%arg0)`, `"stablehlo.exponential"(%7)`, 1),
		"type mismatch":   strings.Replace(good, `: (tensor<2xf32>) -> tensor<2xf32>`, `: (tensor<3xf32>) -> tensor<2xf32>`, 1),
		"unbalanced":      strings.Replace(good, "dense<", "dense<<", 1) + "{",
		"unknown op":      strings.Replace(good, "stablehlo.exponential", "stablehlo.exp", 1),
		"bad return":      strings.Replace(good, `"func.return"(%0) : (tensor<2xf32>)`, `"func.return"(%arg0) : (tensor<2xf32>)`, 1) + "",
	}
	bad["bad return"] = strings.Replace(good, "-> (tensor<2xf32>) {", "-> (tensor<3xf32>) {", 1)
	for name, text := range bad {
		if err := xla.Verify(text); err == nil {
			t.Errorf("%s: Verify accepted\n%s", name, text)
		}
	}
}

func TestFindPluginFromEnv(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "xla_cuda_plugin.so")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(xla.PluginEnv, p)
	got, err := xla.FindPlugin()
	if err != nil || got != p {
		t.Fatalf("FindPlugin = %q, %v; want %q", got, err, p)
	}
	t.Setenv(xla.PluginEnv, filepath.Join(dir, "missing.so"))
	if _, err := xla.FindPlugin(); err == nil || !strings.Contains(err.Error(), xla.PluginEnv) {
		t.Fatalf("FindPlugin with a missing file: %v", err)
	}
}

// Donated inputs are aliased with the first unpaired output of their type.
func TestLowerDonatedAliases(t *testing.T) {
	f := func(a ...*mx.Array) []*mx.Array {
		return []*mx.Array{mx.Sum(a[0], nil, false), mx.Add(a[0], a[1]), mx.Mul(a[1], a[1]), mx.Reshape(a[2], 6)}
	}
	args := []*mx.Array{mx.Zeros([]int{2, 3}, mx.Float32), mx.Zeros([]int{2, 3}, mx.Float32), mx.Zeros([]int{3, 2}, mx.Float32)}
	p := mx.Compile(f).Donate(0, 1, 2).Program(args...)
	text, err := xla.Lower(p, xla.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := xla.Verify(text); err != nil {
		t.Fatalf("Verify: %v\n%s", err, text)
	}
	wantOps(t, text, "%arg0: tensor<2x3xf32> {tf.aliasing_output = 1 : i32}", "%arg1: tensor<2x3xf32> {tf.aliasing_output = 2 : i32}", "%arg2: tensor<3x2xf32>)")
}
