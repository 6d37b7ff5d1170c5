package workers

import (
	"context"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Store is the bucket as the stages use it.
type Store interface {
	catalog.Store
	catalog.Lister
	PutFile(ctx context.Context, key, path string, p pipeline.Put) error
	GetFile(ctx context.Context, key, path string) error
	GetFileSHA256(ctx context.Context, key, path string) (string, int64, error)
	OpenObject(ctx context.Context, key string) (pipeline.Reader, pipeline.Object, error)
	Copy(ctx context.Context, src, dst string) error
	// PresignGet returns a URL that reads key for ttl, for ffprobe to stream.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
	Ping(ctx context.Context) error
}

var _ Store = (*s3.Store)(nil)
