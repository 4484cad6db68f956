// Package xladevice is imported by test suites for its side effects, so that one suite runs on
// any device: importing mx/xla registers the "gpu" device (LMXLAB_DEVICE=gpu then runs the suite
// on the GPU, as DefaultDevice honours the variable), and this package registers "xlacheck", the
// cpu backend with every program also lowered to StableHLO and verified
// (LMXLAB_DEVICE=xlacheck go test ./mx/ checks the lowering without a GPU).
package xladevice

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
