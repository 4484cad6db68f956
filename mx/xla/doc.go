// Package xla is mx's GPU backend: it lowers a whole prim.Program to one StableHLO module (MLIR
// text written by this package), compiles it with XLA through a PJRT plugin (github.com/gomlx/
// go-xla's pjrt package), caches the executable by the Program's structure and runs it with the
// arrays resident on the device. Both eager mx.Eval and mx.Compile go through Backend.Compile, so
// a compiled training step becomes a single XLA executable.
//
// Importing the package registers the device "gpu" with mx (mx.OpenDevice("gpu"), or
// LMXLAB_DEVICE=gpu). Opening it finds the CUDA plugin (see FindPlugin: $LMXLAB_PJRT_PLUGIN,
// then JAX's plugin in python3's site-packages, then go-xla's folders) and creates a client that
// does not preallocate GPU memory. The backend needs cgo; without it the package still builds and
// opening "gpu" reports that it needs cgo.
//
// The lowering follows the cpu backend's semantics (mx/cpu is the reference): half-precision
// arithmetic runs in float32 and rounds once, float32 matrix products use full float32
// precision unless LMXLAB_XLA_TF32=1, and RandomBits computes the same Threefry-2x32 stream, so a
// seed gives the same numbers on every backend. Lower and Verify need no GPU and are tested in CI;
// CheckBackend pushes any workload through them on the cpu backend.
//
// Environment: LMXLAB_PJRT_PLUGIN (plugin path), LMXLAB_XLA_MEM_FRACTION (the most of GPU memory
// the client may take, default 0.9), LMXLAB_XLA_TF32=1, LMXLAB_XLA_DUMP (a folder to write each
// compiled module to).
package xla
