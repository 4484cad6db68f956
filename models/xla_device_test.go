package models

// LMXLAB_DEVICE=gpu or xlacheck runs these tests on the xla backend (see internal/xladevice).
import _ "github.com/lmxlab/lmxlab/internal/xladevice"
