package xla_test

import (
	"testing"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/xla"
)

// TestLowerDynamicSlices checks that run-time starts become the scalar operands of
// stablehlo.dynamic_slice and dynamic_update_slice, for int32 and unsigned start vectors.
func TestLowerDynamicSlices(t *testing.T) {
	for _, dt := range []mx.DType{mx.Int32, mx.Int64, mx.Uint32} {
		f := mx.Compile(func(a ...*mx.Array) []*mx.Array {
			c := mx.DynamicUpdateSlice(a[0], a[1], a[2])
			return []*mx.Array{c, mx.DynamicSlice(c, a[2], []int{1, 3, 2})}
		})
		args := []*mx.Array{mx.Zeros([]int{2, 5, 4}, mx.BFloat16), mx.Zeros([]int{1, 3, 2}, mx.Float32), mx.Zeros([]int{3}, dt)}
		p := f.Program(args...)
		text, err := xla.Lower(p, xla.Options{})
		if err != nil {
			t.Fatalf("%s: Lower: %v\n%s", dt, err, p)
		}
		if err := xla.Verify(text); err != nil {
			t.Fatalf("%s: Verify: %v\n%s", dt, err, text)
		}
		it := "i32"
		if dt != mx.Int32 {
			it = "i64"
		}
		wantOps(t, text,
			`"stablehlo.dynamic_update_slice"`,
			"(tensor<2x5x4xbf16>, tensor<1x3x2xbf16>, tensor<"+it+">, tensor<"+it+">, tensor<"+it+">) -> tensor<2x5x4xbf16>",
			`"stablehlo.dynamic_slice"`, "slice_sizes = array<i64: 1, 3, 2>",
			"(tensor<2x5x4xbf16>, tensor<"+it+">, tensor<"+it+">, tensor<"+it+">) -> tensor<1x3x2xbf16>")
	}
}

// TestLowerDynamicSliceRuns runs a compiled cache write on the check backend (lowered, verified,
// then computed by the cpu kernels) at several positions.
func TestLowerDynamicSliceRuns(t *testing.T) {
	step := mx.Compile(func(a ...*mx.Array) []*mx.Array {
		return []*mx.Array{mx.DynamicUpdateSliceAxis(a[0], a[1], 1, a[2])}
	})
	buf := mx.ToDevice(mx.Zeros([]int{1, 4, 2}, mx.Float32), checkDev)
	for pos := range 4 {
		row := mx.ToDevice(mx.Full([]int{1, 1, 2}, float64(pos+1), mx.Float32), checkDev)
		buf = step.Call(buf, row, mx.ToDevice(mx.Scalar(float64(pos), mx.Int32), checkDev))[0]
	}
	got := buf.Float32s()
	want := []float32{1, 1, 2, 2, 3, 3, 4, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if step.Traces() != 1 {
		t.Fatalf("traced %d times", step.Traces())
	}
}
