package hf

import (
	"fmt"
	"math"
	"slices"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/safetensors"
)

// Report is the outcome of checking a loaded checkpoint against reference outputs.
type Report struct {
	Model       string  `json:"model"`
	MaxAbsErr   float64 `json:"max_abs_err"`
	Tolerance   float64 `json:"tolerance"`
	LogitsMatch bool    `json:"logits_match"`
	GreedyMatch *bool   `json:"greedy_match,omitempty"` // nil when the reference has no greedy decode
	Greedy      []int   `json:"greedy_output,omitempty"`
	Expected    []int   `json:"expected_output,omitempty"`
	Params      int     `json:"params"`
}

// OK reports whether every check passed.
func (r Report) OK() bool { return r.LogitsMatch && (r.GreedyMatch == nil || *r.GreedyMatch) }

// Verify loads the checkpoint in dir, runs the reference's input_ids, and compares the logits
// (max absolute error within tol) and, when the reference has them, the greedy decode of
// greedy_prompt with the KV cache against greedy_output.
func Verify(dir, refPath string, tol float64) (Report, error) {
	m, err := Load(dir)
	if err != nil {
		return Report{}, err
	}
	ref, err := safetensors.ReadFile(refPath)
	if err != nil {
		return Report{}, err
	}
	get := func(name string) (*mx.Array, error) {
		t, err := ref.Tensor(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", refPath, err)
		}
		return tensorToArray(t)
	}
	ids, err := get("input_ids")
	if err != nil {
		return Report{}, err
	}
	want, err := get("logits")
	if err != nil {
		return Report{}, err
	}
	rep := Report{Model: m.Config.Name, Tolerance: tol, Params: m.NumParams()}
	got := m.Forward(mx.AsType(ids, mx.Int32), models.ForwardOptions{})
	if !slices.Equal(got.Shape(), want.Shape()) {
		return rep, fmt.Errorf("logits have shape %v, reference %v", got.Shape(), want.Shape())
	}
	g, w := got.Float32s(), want.Float32s()
	for i := range g {
		rep.MaxAbsErr = math.Max(rep.MaxAbsErr, math.Abs(float64(g[i]-w[i])))
		if math.IsNaN(float64(g[i])) {
			rep.MaxAbsErr = math.Inf(1)
		}
	}
	rep.LogitsMatch = rep.MaxAbsErr <= tol
	if _, ok := ref.Info("greedy_prompt"); ok {
		prompt, err := get("greedy_prompt")
		if err != nil {
			return rep, err
		}
		out, err := get("greedy_output")
		if err != nil {
			return rep, err
		}
		rep.Expected = out.Ints()
		n := out.Dim(1) - prompt.Dim(1)
		rep.Greedy = append(prompt.Ints(), GreedyDecode(m, prompt.Ints(), n)...)
		match := len(rep.Greedy) == len(rep.Expected)
		for i := range rep.Greedy {
			match = match && rep.Greedy[i] == rep.Expected[i]
		}
		rep.GreedyMatch = &match
	}
	return rep, nil
}

// GreedyDecode continues one prompt by n argmax tokens using the KV cache.
func GreedyDecode(m *models.LanguageModel, prompt []int, n int) []int {
	cache := m.NewCache(1, len(prompt)+n)
	input := mx.FromSlice(prompt, 1, len(prompt))
	var out []int
	for i := 0; i < n; i++ {
		logits := m.Forward(input, models.ForwardOptions{Cache: cache})
		last := mx.SliceAxis(logits, 1, logits.Dim(1)-1, logits.Dim(1))
		next := mx.ArgMax(mx.Reshape(last, 1, -1), -1, false)
		mx.Eval(append([]*mx.Array{next}, cache.Arrays()...)...)
		t := next.Ints()[0]
		out = append(out, t)
		input = mx.FromSlice([]int{t}, 1, 1)
	}
	return out
}
