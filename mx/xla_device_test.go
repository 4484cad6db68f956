package mx_test

// LMXLAB_DEVICE=gpu or xlacheck runs this package's tests on the xla backend (see
// internal/xladevice).
import _ "github.com/lmxlab/lmxlab/internal/xladevice"
