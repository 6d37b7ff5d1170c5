package machine

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
)

func TestClassify(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "originals", "x.wav.part")
	for _, tc := range []struct {
		err  error
		kind string
	}{
		{&os.PathError{Op: "write", Path: file, Err: syscall.ENOSPC}, pipeline.FaultDiskFull},
		{fmt.Errorf("cannot download: %w", &os.PathError{Op: "write", Path: file, Err: syscall.EDQUOT}), pipeline.FaultDiskFull},
		{errors.New("ffmpeg: exit status 1: Error writing trailer of out.mp3: No space left on device"), pipeline.FaultDiskFull},
		{&os.PathError{Op: "open", Path: file, Err: syscall.EROFS}, pipeline.FaultReadOnly},
		{&os.PathError{Op: "open", Path: file, Err: syscall.EMFILE}, pipeline.FaultOpenFiles},
		{errors.New("fork/exec /usr/bin/ffmpeg: cannot allocate memory"), pipeline.FaultMemory},
		{errors.New("ffprobe cannot read talk.wav"), ""},
		{pipeline.ErrNotFound, ""},
	} {
		got := Classify(tc.err, dir, "the worker's temp folder (TMPDIR)")
		var me *pipeline.MachineError
		switch {
		case tc.kind == "" && got != tc.err:
			t.Errorf("Classify(%v) = %v; want it as it was", tc.err, got)
		case tc.kind != "" && (!errors.As(got, &me) || me.Kind != tc.kind):
			t.Errorf("Classify(%v) = %v; want a %s fault", tc.err, got, tc.kind)
		case tc.kind != "" && !pipeline.IsUnavailable(got):
			t.Errorf("Classify(%v) is not waited out", tc.err)
		case tc.kind == pipeline.FaultDiskFull && (me.Path != dir || me.Free < 0 || !strings.Contains(got.Error(), "no space left on "+dir)):
			t.Errorf("a full disk under the temp folder: %v (path %s); want it named as the temp folder, with its free space", got, me.Path)
		}
	}
}

func TestCheckRoom(t *testing.T) {
	dir := t.TempDir()
	if err := CheckRoom(dir, "a folder", 1<<20); err != nil {
		t.Errorf("1 MB in %s: %v", dir, err)
	}
	free, _ := Free(dir)
	err := CheckRoom(dir, "a folder", free*2)
	var me *pipeline.MachineError
	if !errors.As(err, &me) || me.Kind != pipeline.FaultDiskFull || me.Need != free*2 ||
		!strings.Contains(err.Error(), "the task needs") || !strings.Contains(err.Error(), "free") {
		t.Errorf("twice the free space: %v", err)
	}
	if err := CheckRoom(filepath.Join(dir, "gone"), "a folder", 0); !errors.As(err, &me) || me.Kind != pipeline.FaultNoFolder {
		t.Errorf("a missing folder: %v", err)
	}
	if err := CheckWritable(filepath.Join(dir, "gone"), "a folder"); !errors.As(err, &me) || me.Kind != pipeline.FaultNoFolder {
		t.Errorf("a missing folder: %v", err)
	}
	if err := CheckWritable(dir, "a folder"); err != nil {
		t.Errorf("a writable folder: %v", err)
	}
	if err := CheckFull(dir, "a folder", free*2); !errors.As(err, &me) || me.Kind != pipeline.FaultDiskFull {
		t.Errorf("CheckFull below twice the free space: %v", err)
	}
}

func TestClockOffset(t *testing.T) {
	for _, skew := range []time.Duration{0, 20 * time.Minute, -40 * time.Minute} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusForbidden) // as S3 answers an unsigned request
		}))
		off, err := ClockOffset(t.Context(), srv.URL)
		srv.Close()
		if err != nil || (off-skew).Abs() > 2*time.Second {
			t.Errorf("skew %s: offset %s, %v", skew, off, err)
			continue
		}
		err = CheckClock(off)
		switch {
		case skew == 0 && err != nil:
			t.Errorf("no skew: %v", err)
		case skew > 0 && (err == nil || !strings.Contains(err.Error(), "20 minutes behind the storage's")):
			t.Errorf("the storage 20 minutes ahead: %v", err)
		case skew < 0 && (err == nil || !strings.Contains(err.Error(), "40 minutes ahead of the storage's")):
			t.Errorf("the storage 40 minutes behind: %v", err)
		}
	}
}
