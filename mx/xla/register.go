package xla

import "github.com/lmxlab/lmxlab/mx"

func init() { mx.RegisterDevice("gpu", open) }
