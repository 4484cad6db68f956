package safetensors_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lmxlab/lmxlab/safetensors"
)

func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	// Write a float32 weight stored as bfloat16, and an int64 step counter.
	w, err := safetensors.FromFloat32s("linear.weight", []int{2, 2}, []float32{1, 0.1, -2, 3}).Convert(safetensors.BF16)
	if err != nil {
		log.Fatal(err)
	}
	step := safetensors.FromInt64s("step", nil, []int64{100})
	if err := safetensors.WriteFile(path, []safetensors.Tensor{w, step}, map[string]string{"format": "pt"}); err != nil {
		log.Fatal(err)
	}

	// Open reads only the header; Tensor reads one tensor's bytes.
	f, err := safetensors.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fmt.Println(f.Names(), f.Metadata)
	t, err := f.Tensor("linear.weight")
	if err != nil {
		log.Fatal(err)
	}
	v, err := t.Float32s()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.DType, t.Shape, v)

	// Errors say which file, which tensor, and what is wrong.
	_, err = safetensors.Parse([]byte("\x04\x00\x00\x00\x00\x00\x00\x00{}"))
	fmt.Println(err)
	_, err = f.Tensor("missing")
	fmt.Println(errors.Is(err, safetensors.ErrNotFound))
	// Output:
	// [step linear.weight] map[format:pt]
	// BF16 [2 2] [1 0.100097656 -2 3]
	// safetensors: header length 4 exceeds the 2 bytes that follow the length field
	// true
}
