package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
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
