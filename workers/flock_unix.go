//go:build unix

package workers

import (
	"os"
	"syscall"
)

func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

func tryLockFile(f *os.File) error { return lockFile(f) }
