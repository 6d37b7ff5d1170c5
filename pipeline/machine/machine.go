package machine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/prodcast/prodcast/pipeline"
)

// Margin is the room a folder keeps besides what a task needs: a disk is
// not filled to its last byte.
const Margin = 16 << 20

// Classify turns an error that a fault of the machine caused into a
// pipeline.MachineError naming path (what it is, in what): no space left,
// a read-only file system, a missing folder, too many open files, no
// memory. It reads the operating system's error numbers and, for ffmpeg's
// errors, their words. Other errors are returned as they are.
func Classify(err error, path, what string) error {
	if err == nil || pipeline.IsMachine(err) {
		return err
	}
	kind := kindOf(err)
	if kind == "" {
		return err
	}
	e := &pipeline.MachineError{Kind: kind, Path: path, What: what, Free: -1, Err: err}
	if p := pathOf(err); p != "" && kind != pipeline.FaultOpenFiles && kind != pipeline.FaultMemory {
		e.Path = folderOf(p, path)
	}
	if kind == pipeline.FaultDiskFull {
		e.Free, _ = Free(e.Path)
	}
	return e
}

func kindOf(err error) string {
	text := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), strings.Contains(text, "no space left on device"),
		strings.Contains(text, "disk quota exceeded"):
		return pipeline.FaultDiskFull
	case errors.Is(err, syscall.EROFS), strings.Contains(text, "read-only file system"):
		return pipeline.FaultReadOnly
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), strings.Contains(text, "too many open files"):
		return pipeline.FaultOpenFiles
	case errors.Is(err, syscall.ENOMEM), strings.Contains(text, "cannot allocate memory"):
		return pipeline.FaultMemory
	}
	return ""
}

// pathOf is the path an os error names, if any.
func pathOf(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.New
	}
	return ""
}

// folderOf names the folder of p: within base when p is under it (the
// folder the operator knows), else p's own.
func folderOf(p, base string) string {
	if base != "" {
		if rel, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(rel, "..") {
			return base
		}
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return p
	}
	return filepath.Dir(p)
}

// CheckRoom reports a MachineError when path has less than need bytes
// free (plus Margin), saying how much is free and how much is needed; nil
// when there is room, or when the room cannot be told. A missing folder or
// a read-only one is reported too.
func CheckRoom(path, what string, need int64) error {
	if path == "" {
		path = os.TempDir()
	}
	free, err := Free(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &pipeline.MachineError{Kind: pipeline.FaultNoFolder, Path: path, What: what, Free: -1, Err: err}
		}
		return nil
	}
	if free < need+Margin {
		return &pipeline.MachineError{Kind: pipeline.FaultDiskFull, Path: path, What: what, Free: free, Need: need}
	}
	return nil
}

// CheckFull reports a MachineError when path's disk has less than below
// bytes free: full, as a disk is when a copy into it stopped short.
func CheckFull(path, what string, below int64) error {
	free, err := Free(path)
	if err != nil || free >= below {
		return nil
	}
	return &pipeline.MachineError{Kind: pipeline.FaultDiskFull, Path: path, What: what, Free: free}
}

// CheckWritable reports a MachineError when path is missing or read-only,
// by creating and removing a file in it.
func CheckWritable(path, what string) error {
	f, err := os.CreateTemp(path, ".prodcast-check-*")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &pipeline.MachineError{Kind: pipeline.FaultNoFolder, Path: path, What: what, Free: -1, Err: err}
		}
		if errors.Is(err, os.ErrPermission) {
			return &pipeline.MachineError{Kind: pipeline.FaultReadOnly, Path: path, What: what, Free: -1, Err: err,
				Problem: path + " (" + what + ") is not writable by this user", Fix: "give the user prodcast runs as write access to it"}
		}
		return Classify(err, path, what)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
