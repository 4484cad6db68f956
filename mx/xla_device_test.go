package mx_test

// Device hooks for this package's tests. Importing mx/xla registers the "gpu" device, so
// LMXLAB_DEVICE=gpu runs the whole suite on the GPU (DefaultDevice honours the variable), and
// "xlacheck" runs it on the cpu backend with every program also lowered to StableHLO and
// verified: LMXLAB_DEVICE=xlacheck go test ./mx/ checks the lowering without a GPU.

import (
	"os"

	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/cpu"
	"github.com/lmxlab/lmxlab/mx/prim"
	"github.com/lmxlab/lmxlab/mx/xla"
)

func init() {
	// The suites compare with cpu-backend values: keep bfloat16 roundings on the GPU too.
	if os.Getenv("LMXLAB_XLA_STRICT_BF16") == "" {
		os.Setenv("LMXLAB_XLA_STRICT_BF16", "1")
	}
	mx.RegisterDevice("xlacheck", func() (prim.Backend, error) { return xla.NewCheckBackend(cpu.New()), nil })
}
