package hf

// Registers the gpu device so LMXLAB_DEVICE=gpu runs the fixture checks on the xla backend.
import _ "github.com/lmxlab/lmxlab/mx/xla"
