package watch

import (
	"context"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Store is the bucket as the watcher uses it: it uploads bundles, the
// show and its art, and reads the outcomes.
type Store interface {
	catalog.Store
	Stat(ctx context.Context, key string) (pipeline.Object, error)
	PutFile(ctx context.Context, key, path string, p pipeline.Put) error
	DeletePrefix(ctx context.Context, prefix string) error
}

var _ Store = (*s3.Store)(nil)
