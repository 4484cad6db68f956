package eval

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/data"
	"github.com/lmxlab/lmxlab/mx"
)

// Source is a batch source, such as data.Sequential or data.TokenBuffer: Next returns the next
// batch, or false when there are no more.
type Source interface {
	Next() (data.Batch, bool)
}

// EvaluateLoss runs loss on at most maxBatches batches of src (all of them when maxBatches ≤ 0)
// and returns the token-weighted mean loss and the number of batches used. loss(x, y) returns
// either the mean loss over y's tokens (a one-element array), weighted by y's size, or one loss
// per target token (as many elements as y), which are summed. With no batches the mean is NaN.
// It panics if loss returns any other size.
func EvaluateLoss(loss func(x, y *mx.Array) *mx.Array, src Source, maxBatches int) (meanLoss float64, nBatches int) {
	var total, tokens float64
	for maxBatches <= 0 || nBatches < maxBatches {
		b, ok := src.Next()
		if !ok {
			break
		}
		l := loss(b.X, b.Y)
		n := b.Y.Size()
		switch l.Size() {
		case 1:
			total += l.Item() * float64(n)
		case n:
			for _, v := range l.Float64s() {
				total += v
			}
		default:
			panic(fmt.Sprintf("eval.EvaluateLoss: loss returned shape %v for targets of shape %v (want 1 or %d elements)",
				l.Shape(), b.Y.Shape(), n))
		}
		tokens += float64(n)
		nBatches++
	}
	if tokens == 0 {
		return math.NaN(), nBatches
	}
	return total / tokens, nBatches
}
