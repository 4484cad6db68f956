package xla_test

import (
	"fmt"
	"testing"

	"github.com/lmxlab/lmxlab/mx"
)

// BenchmarkGPUDispatch measures what one compiled call costs beyond its kernels, against the
// number of buffers it takes and returns: n small float32 inputs, each returned plus one, with
// the inputs donated or not. A training step passes every parameter and optimizer state through
// one call, so this per-buffer cost is paid hundreds of times a step.
//
//	LMXLAB_DEVICE=gpu go test ./mx/xla -run '^$' -bench GPUDispatch
func BenchmarkGPUDispatch(b *testing.B) {
	dev := gpuDevice(b)
	old := mx.DefaultDevice()
	mx.SetDefaultDevice(dev)
	defer mx.SetDefaultDevice(old)
	for _, n := range []int{1, 16, 64, 256, 1024} {
		for _, donate := range []bool{false, true} {
			b.Run(fmt.Sprintf("buffers=%d/donate=%v", n, donate), func(b *testing.B) {
				c := mx.Compile(func(args ...*mx.Array) []*mx.Array {
					out := make([]*mx.Array, len(args))
					for i, a := range args {
						out[i] = mx.AddScalar(a, 1)
					}
					return out
				})
				if donate {
					idx := make([]int, n)
					for i := range idx {
						idx[i] = i
					}
					c.Donate(idx...)
				}
				args := make([]*mx.Array, n)
				for i := range args {
					args[i] = mx.Zeros([]int{256}, mx.Float32)
				}
				mx.Eval(args...)
				args = c.Call(args...) // compile
				mx.Eval(args...)
				b.ResetTimer()
				for range b.N {
					out := c.Call(args...)
					if !donate {
						mx.Eval(out...)
					}
					args = out
				}
				b.StopTimer()
				if got := args[n-1].Float64s()[0]; got != float64(b.N+1) {
					b.Fatalf("after %d calls the last buffer holds %v", b.N+1, got)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "us/buffer")
			})
		}
	}
}
