package mx_test

// Device hooks for this package's tests. Importing mx/xla registers the "gpu" device, so
// LMXLAB_DEVICE=gpu runs the whole suite on the GPU (DefaultDevice honours the variable), and
// "xlacheck" runs it on the cpu backend with every program also lowered to StableHLO and
// verified: LMXLAB_DEVICE=xlacheck go test ./mx/ checks the lowering without a GPU.

import (
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/cpu"
	"github.com/lmxlab/lmxlab/mx/prim"
	"github.com/lmxlab/lmxlab/mx/xla"
)

func init() {
	mx.RegisterDevice("xlacheck", func() (prim.Backend, error) { return xla.NewCheckBackend(cpu.New()), nil })
}
