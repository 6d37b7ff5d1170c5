package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// Publish handles episode:publish. An episode whose publish_at is in the
// future is scheduled for then; otherwise it gets its GUID (once, ever) and
// is marked published, and a rebuild puts it in the feed and on the blog.
func (h *Handlers) Publish(ctx context.Context, t *asynq.Task) error {
	var p EpisodePayload
	cat, m, err := h.episodeOf(ctx, t, &p)
	if err != nil {
		return err
	}
	if m.NeedsEncode() {
		// A newer original arrived; its encode will publish.
		return nil
	}
	now := h.now()
	if at := m.Meta.PublishAt; at != nil && at.After(now) {
		return h.schedule(ctx, cat, m, p.BundleID, *at)
	}
	if err := h.release(ctx, cat.Keys, m); err != nil {
		return err
	}
	was := m.State
	m.Publish(now, uuid.NewString)
	if was != pipeline.StatePublished {
		h.Log.Info("episode published", "show", p.Show, "episode", m.Slug, "guid", m.GUID)
	}
	if p.BundleID != "" {
		m.Pending = p.BundleID // reported done once the rebuild has it in the feed
		m.Announce = "episode.updated"
		if was != pipeline.StatePublished {
			m.Announce = "episode.published"
		}
	}
	if err := cat.PutManifest(ctx, m); err != nil {
		return err
	}
	return h.enqueue(ctx)(NewRebuildTask(p.Show, "publish "+m.Slug))
}

func (h *Handlers) schedule(ctx context.Context, cat *catalog.Catalog, m *pipeline.Manifest, bundleID string, at time.Time) error {
	wasLive := m.State == pipeline.StatePublished
	m.Schedule()
	if err := cat.PutManifest(ctx, m); err != nil {
		return err
	}
	show := cat.ShowName()
	if err := h.enqueue(ctx)(NewPublishTask(show, m.Slug, "", at)); err != nil {
		return err
	}
	h.Log.Info("episode scheduled", "episode", m.Slug, "publish_at", at)
	if bundleID != "" {
		res := &pipeline.BundleResult{BundleID: bundleID, Bundle: m.Bundle, Slug: m.Slug, OK: true}
		if err := cat.PutResult(ctx, res); err != nil {
			return err
		}
		bundlesTotal.WithLabelValues("published").Inc()
	}
	if wasLive {
		return h.enqueue(ctx)(NewRebuildTask(show, "unpublish "+m.Slug))
	}
	return nil
}

// release makes the episode's media and art public: what was encoded while
// the episode was scheduled waits under its staged key until now.
func (h *Handlers) release(ctx context.Context, layout catalog.Layout, m *pipeline.Manifest) error {
	var keys []string
	if m.MP3 != nil {
		keys = append(keys, m.MP3.Key)
	}
	for _, a := range m.Alternates {
		keys = append(keys, a.Key)
	}
	keys = append(keys, pipeline.ArtKeys(m.Art, m.ArtSizes)...)
	for _, key := range keys {
		if !layout.IsPublic(key) {
			continue // an imported episode's media, linked where it is
		}
		staged := layout.StagedKey(key)
		if _, err := h.Store.Stat(ctx, key); err == nil {
			// Public already (art another episode published first): a
			// staged copy is left over, and must not pile up.
			if err := h.Store.Delete(ctx, staged); err != nil {
				return err
			}
			continue
		} else if !errors.Is(err, pipeline.ErrNotFound) {
			return err
		}
		if err := h.Store.Copy(ctx, staged, key); err != nil {
			if errors.Is(err, pipeline.ErrNotFound) {
				return fmt.Errorf("%q is neither public nor staged; encode the episode again (prodcast status says how): %w", key, err)
			}
			return err
		}
		if err := h.Store.Delete(ctx, staged); err != nil {
			return err
		}
		h.Log.Info("media released", "episode", m.Slug, "key", key)
	}
	return nil
}
