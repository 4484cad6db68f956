//go:build !linux

package train

import "errors"

// exchangeDirs has no atomic form here; the caller falls back to two renames.
func exchangeDirs(a, b string) error { return errors.New("no atomic directory exchange") }
