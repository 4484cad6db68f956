package main

// The xla backend registers the "gpu" device (--device gpu, LMXLAB_DEVICE=gpu). Without cgo it
// still builds, and opening the device reports that it needs cgo.
import _ "github.com/lmxlab/lmxlab/mx/xla"
