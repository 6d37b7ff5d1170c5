package memstore_test

import (
	"context"
	"errors"
	"testing"

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
