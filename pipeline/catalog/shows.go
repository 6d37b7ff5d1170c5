package catalog

import (
	"context"
	"errors"
	"sort"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Lister finds the shows in a bucket.
type Lister interface {
	Dirs(ctx context.Context, prefix string) ([]string, error)
	Stat(ctx context.Context, key string) (pipeline.Object, error)
}

var _ Lister = (*s3.Store)(nil)

// Shows lists the shows whose watcher has uploaded a show.yaml: "" for the
// root show if it has one, then the shows under shows/, by name.
func Shows(ctx context.Context, st Lister) ([]string, error) {
	var out []string
	if _, err := st.Stat(ctx, Layout{}.ShowKey()); err == nil {
		out = append(out, "")
	} else if !errors.Is(err, pipeline.ErrNotFound) {
		return nil, err
	}
	dirs, err := st.Dirs(ctx, RootPrivate)
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if CheckShowName(d) != nil {
			continue // the root show's own folders: catalog/, bundles/, ...
		}
		if _, err := st.Stat(ctx, Layout{Show: d}.ShowKey()); err == nil {
			out = append(out, d)
		} else if !errors.Is(err, pipeline.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}
