package workers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// TypeSiteGC removes media that no manifest references any more.
const TypeSiteGC = "site:gc"

// GCGrace is how long an unreferenced object is kept: CDNs and apps may
// still be fetching it.
const GCGrace = 24 * time.Hour

// GCPayload says which show to sweep; All sweeps every show.
type GCPayload struct {
	Show string `json:"show,omitempty"`
	All  bool   `json:"all,omitempty"`
}

// NewGCTask returns a sweep of one show, or of all. The daily sweep is
// unique for a day, so the workers' schedulers queue it once.
func NewGCTask(p GCPayload, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeSiteGC, p, append([]asynq.Option{asynq.Queue(QueueSite), asynq.MaxRetry(maxRetry)}, opts...)...)
}

// Garbage lists a show's media and art (public or staged) that no manifest
// and not the show's art reference, and the pieces of encodes no episode
// waits for, that are older than grace.
func Garbage(ctx context.Context, st Store, show string, now time.Time, grace time.Duration) ([]pipeline.Object, error) {
	cat := catalog.ForShow(st, show)
	eps, err := cat.Manifests(ctx)
	if err != nil {
		return nil, err
	}
	used, waiting := map[string]bool{}, map[string]bool{}
	for _, m := range eps {
		if m.NeedsEncode() && m.Original.SHA256 != "" {
			waiting[cat.Keys.PiecesPrefix(m.Slug, m.Original.SHA256)] = true
		}
		for _, media := range m.Media() {
			used[media.Key], used[cat.Keys.StagedKey(media.Key)] = true, true
		}
		for _, k := range pipeline.ArtKeys(m.Art, m.ArtSizes) {
			used[k], used[cat.Keys.StagedKey(k)] = true, true
		}
	}
	if s, err := cat.Show(ctx, "http://placeholder.invalid"); err == nil {
		for _, k := range pipeline.ArtKeys(s.Art, s.ArtSizes) {
			used[k] = true
		}
	} else if !errors.Is(err, pipeline.ErrNotFound) {
		return nil, fmt.Errorf("cannot tell the show's art from garbage: %w", err)
	}
	var out []pipeline.Object
	for _, prefix := range []string{cat.Keys.MediaPrefix(), cat.Keys.StagedKey(cat.Keys.MediaPrefix())} {
		objs, err := st.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if !used[o.Key] && now.Sub(o.LastModified) >= grace {
				out = append(out, o)
			}
		}
	}
	objs, err := st.List(ctx, cat.Keys.Private()+"originals/")
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		before, rest, ok := strings.Cut(o.Key, "/pieces/")
		if !ok || now.Sub(o.LastModified) < grace {
			continue
		}
		sha, _, _ := strings.Cut(rest, "/")
		if !waiting[before+"/pieces/"+sha+"/"] {
			out = append(out, o)
		}
	}
	return out, nil
}

// GC handles site:gc: it removes the garbage of one show or of all.
func (h *Handlers) GC(ctx context.Context, t *asynq.Task) error {
	var p GCPayload
	if err := decode(t, &p); err != nil {
		return err
	}
	shows := []string{p.Show}
	if p.All {
		var err error
		if shows, err = catalog.Shows(ctx, h.Store); err != nil {
			return err
		}
	}
	for _, show := range shows {
		garbage, err := Garbage(ctx, h.Store, show, h.now(), GCGrace)
		if err != nil {
			return err
		}
		for _, o := range garbage {
			if err := h.Store.Delete(ctx, o.Key); err != nil {
				return err
			}
			h.Log.Info("unreferenced object removed", "show", show, "key", o.Key, "bytes", o.Size)
		}
	}
	return nil
}
