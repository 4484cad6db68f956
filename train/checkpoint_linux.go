//go:build linux

package train

import "golang.org/x/sys/unix"

// exchangeDirs atomically swaps two paths (renameat2 RENAME_EXCHANGE). It fails on file systems
// without support, and the caller then falls back to two renames.
func exchangeDirs(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}
