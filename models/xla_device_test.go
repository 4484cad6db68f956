package models

// Registers the "gpu" device so that LMXLAB_DEVICE=gpu runs these tests on the xla backend.
import _ "github.com/lmxlab/lmxlab/mx/xla"
