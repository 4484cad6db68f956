package models

// Device hooks: importing mx/xla registers "gpu", so LMXLAB_DEVICE=gpu runs these tests on the
// xla backend; LMXLAB_DEVICE=xlacheck runs them on the cpu backend with every program also
// lowered to StableHLO and verified (no GPU needed).

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
