package eval

import (
	"math"
	"strings"
	"testing"

	"github.com/lmxlab/lmxlab/data"
	"github.com/lmxlab/lmxlab/mx"
)

// listSource yields fixed batches.
type listSource struct{ batches []data.Batch }

func (s *listSource) Next() (data.Batch, bool) {
	if len(s.batches) == 0 {
		return data.Batch{}, false
	}
	b := s.batches[0]
	s.batches = s.batches[1:]
	return b, true
}

// constBatch is a (b, l) batch whose targets all equal v.
func constBatch(b, l int, v int32) data.Batch {
	y := make([]int32, b*l)
	for i := range y {
		y[i] = v
	}
	return data.Batch{X: mx.Zeros([]int{b, l}, mx.Int32), Y: mx.FromSlice(y, b, l)}
}

// targetMeanLoss returns the mean target value as the loss: batches built by constBatch have
// loss v.
func targetMeanLoss(x, y *mx.Array) *mx.Array { return mx.Mean(mx.AsType(y, mx.Float32), nil, false) }

func TestEvaluateLossIsTokenWeighted(t *testing.T) {
	// Losses 1 over 2×4 = 8 tokens and 4 over 1×2 = 2 tokens: weighted (8 + 8) / 10 = 1.6,
	// where the mean of batch means would be 2.5.
	src := &listSource{[]data.Batch{constBatch(2, 4, 1), constBatch(1, 2, 4)}}
	loss, n := EvaluateLoss(targetMeanLoss, src, 0)
	if n != 2 || math.Abs(loss-1.6) > 1e-12 {
		t.Errorf("loss %v over %d batches, want 1.6 over 2", loss, n)
	}
	// Per-token losses are summed to the same result.
	src = &listSource{[]data.Batch{constBatch(2, 4, 1), constBatch(1, 2, 4)}}
	perToken := func(x, y *mx.Array) *mx.Array { return mx.AsType(y, mx.Float32) }
	if loss, _ := EvaluateLoss(perToken, src, 0); math.Abs(loss-1.6) > 1e-12 {
		t.Errorf("per-token loss %v, want 1.6", loss)
	}
}

func TestEvaluateLossMaxBatches(t *testing.T) {
	src := &listSource{[]data.Batch{constBatch(1, 3, 2), constBatch(1, 3, 5), constBatch(1, 3, 9)}}
	loss, n := EvaluateLoss(targetMeanLoss, src, 2)
	if n != 2 || math.Abs(loss-3.5) > 1e-12 {
		t.Errorf("loss %v over %d batches, want 3.5 over 2", loss, n)
	}
	if len(src.batches) != 1 {
		t.Errorf("EvaluateLoss consumed %d batches past the limit", 1-len(src.batches))
	}
	loss, n = EvaluateLoss(targetMeanLoss, &listSource{}, 0)
	if n != 0 || !math.IsNaN(loss) {
		t.Errorf("empty source: %v, %d", loss, n)
	}
}

func TestEvaluateLossBadShapePanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "eval.EvaluateLoss") {
			t.Errorf("recovered %v", r)
		}
	}()
	bad := func(x, y *mx.Array) *mx.Array { return mx.Zeros([]int{3}, mx.Float32) }
	EvaluateLoss(bad, &listSource{[]data.Batch{constBatch(2, 2, 0)}}, 0)
}
