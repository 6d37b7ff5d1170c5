package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/prodcast/prodcast/pipeline"
)

// TestLoopback: only this machine's addresses send a file in one request.
func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.53": true, "::1": true, "localhost": true,
		"10.0.0.5": false, "minio": false, "s3.eu-west-1.amazonaws.com": false, "": false,
	} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestPutOptions: every upload skips the payload's SHA-256; pages keep
// their status, media their length.
func TestPutOptions(t *testing.T) {
	o := putOptions(Put{ContentType: "text/html; charset=utf-8", CacheControl: "no-cache", Status: 410})
	if !o.DisableContentSha256 || o.ContentType != "text/html; charset=utf-8" || o.CacheControl != "no-cache" ||
		o.UserMetadata[statusMeta] != "410" {
		t.Errorf("a page: %+v", o)
	}
	o = putOptions(Put{ContentType: "audio/mpeg", Duration: 3600.5})
	if !o.DisableContentSha256 || o.UserMetadata[durationMeta] != "3600.500" || o.UserMetadata[statusMeta] != "" {
		t.Errorf("a media file: %+v", o)
	}
}

// TestWrap: a missing object is ErrNotFound; a server that does not answer
// is unavailable (retried); a refusal is neither.
func TestWrap(t *testing.T) {
	s := &Store{}
	cases := []struct {
		err                   error
		notFound, unavailable bool
	}{
		{minio.ErrorResponse{Code: "NoSuchKey", StatusCode: 404}, true, false},
		{minio.ErrorResponse{Code: "InternalError", StatusCode: 503}, false, true},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), false, true},
		{io.ErrUnexpectedEOF, false, true},
		{context.DeadlineExceeded, false, true},
		{minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}, false, false},
	}
	for _, c := range cases {
		err := s.wrap("read", "k", c.err)
		if errors.Is(err, pipeline.ErrNotFound) != c.notFound || pipeline.IsUnavailable(err) != c.unavailable {
			t.Errorf("%v: wrapped as %v (not found %v, unavailable %v)", c.err, err,
				errors.Is(err, pipeline.ErrNotFound), pipeline.IsUnavailable(err))
		}
	}
}

// TestWrapMachineFaults: what this machine's disk or clock causes is
// named as such, not as S3 being down.
func TestWrapMachineFaults(t *testing.T) {
	dir := t.TempDir()
	local := &Store{localDir: dir}
	remote := &Store{}
	full := minio.ErrorResponse{Code: "InsufficientStorage", Message: "No space left on device.", StatusCode: 507}
	var me *pipeline.MachineError
	if err := local.wrap("upload", "k", full); !errors.As(err, &me) || me.Kind != pipeline.FaultDiskFull || me.Path != dir {
		t.Errorf("the embedded S3 out of space: %v; want a full disk at %s", err, dir)
	}
	if err := remote.wrap("upload", "k", full); pipeline.IsMachine(err) || !pipeline.IsUnavailable(err) ||
		!strings.Contains(err.Error(), "storage is full") {
		t.Errorf("a remote S3 out of space: %v; want S3's own fault, waited out", err)
	}
	write := fmt.Errorf("write %s/x.part: %w", dir, syscall.ENOSPC)
	if err := remote.wrap("download", "k", write); !errors.As(err, &me) || me.Kind != pipeline.FaultDiskFull ||
		strings.Contains(err.Error(), "waiting for S3") {
		t.Errorf("a download onto a full disk: %v; want the disk named, not S3", err)
	}
	skew := minio.ErrorResponse{Code: "RequestTimeTooSkewed", StatusCode: 403}
	if err := remote.wrap("upload", "k", skew); !errors.As(err, &me) || me.Kind != pipeline.FaultClock || !strings.Contains(err.Error(), "clock") {
		t.Errorf("a skewed clock: %v", err)
	}
}
