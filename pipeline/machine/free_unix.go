//go:build unix

package machine

import (
	"os"
	"syscall"
)

// Free is the number of bytes an unprivileged user may still write to the
// file system that holds path.
func Free(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return -1, &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
