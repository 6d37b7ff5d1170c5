package workers

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// encodeDirPattern names the temporary folder of one encode.
const encodeDirPattern = "prodcast-encode-*"

// lockName is the file, inside an encode's folder, that its worker holds
// locked (flock) while the encode runs. The lock dies with the process,
// however it dies, so a folder whose lock is free was left by a kill.
const lockName = ".owner.lock"

// encodeDir is an encode's temporary folder, locked while it is in use.
type encodeDir struct {
	Path string
	lock *os.File
}

// newEncodeDir makes an encode's temporary folder under dir ("" for the
// system's) and locks it.
func newEncodeDir(dir string) (*encodeDir, error) {
	path, err := os.MkdirTemp(dir, encodeDirPattern)
	if err != nil {
		return nil, fmt.Errorf("cannot create temporary folder: %w", err)
	}
	f, err := os.Create(filepath.Join(path, lockName))
	if err == nil {
		err = lockFile(f)
	}
	if err != nil {
		os.RemoveAll(path)
		return nil, fmt.Errorf("cannot lock temporary folder %s: %w", path, err)
	}
	return &encodeDir{Path: path, lock: f}, nil
}

// Release unlocks the folder and removes it.
func (d *encodeDir) Release() {
	d.lock.Close()
	os.RemoveAll(d.Path)
}

// SweepTemp removes the encode folders under dir that no running process
// holds: those of encodes killed with their worker (kill -9, OOM, power
// loss). A folder with no lock file, from an older release, goes once it
// is a day old.
func SweepTemp(dir string, log *slog.Logger) {
	if dir == "" {
		dir = os.TempDir()
	}
	// Copies of recordings for pieces: those not used for a day, and
	// downloads cut short.
	copies, _ := filepath.Glob(filepath.Join(dir, originalsDir, "*"))
	for _, c := range copies {
		if fi, err := os.Stat(c); err == nil && (time.Since(fi.ModTime()) > 24*time.Hour ||
			(filepath.Ext(c) == ".part" && time.Since(fi.ModTime()) > time.Hour)) {
			os.Remove(c)
		}
	}
	folders, _ := filepath.Glob(filepath.Join(dir, encodeDirPattern))
	for _, d := range folders {
		if !abandoned(d) {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			log.Warn("cannot remove the folder of a killed encode", "path", d, "err", err)
			continue
		}
		log.Info("removed the folder of a killed encode", "path", d)
	}
}

func abandoned(d string) bool {
	f, err := os.Open(filepath.Join(d, lockName))
	if err != nil {
		fi, serr := os.Stat(d)
		return serr == nil && time.Since(fi.ModTime()) > 24*time.Hour
	}
	defer f.Close()
	if err := tryLockFile(f); err != nil {
		return false // held: an encode is running
	}
	return true
}
