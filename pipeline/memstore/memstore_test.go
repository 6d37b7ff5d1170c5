package memstore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
	"github.com/prodcast/prodcast/pipeline/watch"
	"github.com/prodcast/prodcast/web"
	"github.com/prodcast/prodcast/workers"
)

// The in-memory bucket stands in for the S3 adapter wherever a stage
// declares the bucket it needs.
var (
	_ workers.Store = (*memstore.Store)(nil)
	_ watch.Store   = (*memstore.Store)(nil)
	_ web.Store     = (*memstore.Store)(nil)
	_ catalog.Store = (*memstore.Store)(nil)
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	if err := s.PutBytes(ctx, "private/a/show.yaml", []byte("x"), pipeline.Put{}); err != nil {
		t.Fatal(err)
	}
	s.PutBytes(ctx, "private/catalog/e.json", []byte("{}"), pipeline.Put{})
	o, err := s.Stat(ctx, "private/a/show.yaml")
	if err != nil || o.ETag != "9dd4e461268c8034f5c8564e155c67a6" || o.Size != 1 {
		t.Errorf("Stat: %+v %v", o, err)
	}
	if dirs, _ := s.Dirs(ctx, "private/"); len(dirs) != 2 || dirs[0] != "a" || dirs[1] != "catalog" {
		t.Errorf("Dirs: %v", dirs)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("Get of a missing key: %v", err)
	}
	s.SetFail(errors.New("connection refused"))
	if err := s.Ping(ctx); !pipeline.IsUnavailable(err) {
		t.Errorf("Ping during an outage: %v", err)
	}
}

// TestPresignGet: a presigned URL serves its object with ranged reads, as
// a bucket does, and only its object, only while it exists and the store
// is up.
func TestPresignGet(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	s.PutBytes(ctx, "private/originals/a/talk.wav", []byte("0123456789"), pipeline.Put{})
	u, err := s.PresignGet(ctx, "private/originals/a/talk.wav", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	get := func(url, rng string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(u, "bytes=2-4"); code != http.StatusPartialContent || body != "234" {
		t.Errorf("ranged read: %d %q", code, body)
	}
	if code, body := get(u, ""); code != http.StatusOK || body != "0123456789" {
		t.Errorf("read: %d %q", code, body)
	}
	if code, _ := get(strings.Replace(u, "talk.wav", "other.wav", 1), ""); code != http.StatusForbidden {
		t.Errorf("another key with this signature: %d, want 403", code)
	}
	s.SetFail(errors.New("down"))
	if code, _ := get(u, ""); code != http.StatusServiceUnavailable {
		t.Errorf("during an outage: %d, want 503", code)
	}
	s.SetFail(nil)
	s.Delete(ctx, "private/originals/a/talk.wav")
	if code, _ := get(u, ""); code != http.StatusNotFound {
		t.Errorf("once deleted: %d, want 404", code)
	}
	short, _ := s.PresignGet(ctx, "private/originals/a/talk.wav", -time.Second)
	if code, _ := get(short, ""); code != http.StatusForbidden {
		t.Errorf("expired: %d, want 403", code)
	}
}
