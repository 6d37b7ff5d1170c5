package workers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// The task types of an episode's life after publish.
const (
	TypeEpisodeUnpublish = "episode:unpublish"
	TypeEpisodeRepublish = "episode:republish"
	TypeEpisodeDelete    = "episode:delete"
)

// NewLifecycleTask returns the task that unpublishes, republishes or
// deletes an episode (typ is one of the Type constants above).
func NewLifecycleTask(typ, show, slug string) (*asynq.Task, error) {
	return newTask(typ, EpisodePayload{Show: show, Slug: slug}, asynq.MaxRetry(maxRetry))
}

// EnqueueLifecycle asks for an episode to be unpublished, republished or deleted.
func (c *Client) EnqueueLifecycle(ctx context.Context, typ, show, slug string) error {
	t, err := NewLifecycleTask(typ, show, slug)
	if err != nil {
		return err
	}
	return enqueue(ctx, c.asynq, t)
}

// Unpublish handles episode:unpublish: the episode is marked unpublished;
// the rebuild then takes it out of the feed and the pages, answers its page
// with 410 Gone, and, once the feed no longer names them, moves its media
// out of public/ (see withdrawMedia).
func (h *Handlers) Unpublish(ctx context.Context, t *asynq.Task) error {
	return h.change(ctx, t, "unpublish", func(cat *catalog.Catalog, m *pipeline.Manifest) error { return m.Unpublish() })
}

// Republish handles episode:republish: the episode's media goes back where
// it was (same URLs, no encode) and the rebuild puts it back in the feed.
func (h *Handlers) Republish(ctx context.Context, t *asynq.Task) error {
	return h.change(ctx, t, "republish", func(cat *catalog.Catalog, m *pipeline.Manifest) error {
		if err := m.Republish(); err != nil {
			return err
		}
		return h.release(ctx, cat.Keys, m)
	})
}

// Delete handles episode:delete: the media, art of its own, transcript and
// original recording are removed, and the manifest becomes a tombstone
// that keeps the slug's GUID.
func (h *Handlers) Delete(ctx context.Context, t *asynq.Task) error {
	return h.change(ctx, t, "delete", func(cat *catalog.Catalog, m *pipeline.Manifest) error {
		keys := []string{m.Original.Key}
		if m.Transcript != nil {
			keys = append(keys, m.Transcript.Key)
		}
		for _, t := range m.Translations {
			keys = append(keys, t.Key)
		}
		for _, media := range m.Media() {
			if cat.Keys.IsPublic(media.Key) {
				keys = append(keys, media.Key, cat.Keys.StagedKey(media.Key))
			}
		}
		for _, key := range m.Retired {
			if cat.Keys.IsPublic(key) {
				keys = append(keys, key, cat.Keys.StagedKey(key))
			}
		}
		for _, key := range keys {
			if key == "" {
				continue
			}
			if err := h.Store.Delete(ctx, key); err != nil {
				return err
			}
		}
		m.Delete()
		return nil
	})
}

// change loads an episode, applies a change of state, records it and asks
// for a rebuild. An episode that does not exist, or whose state does not
// allow the change, is reported and not retried.
func (h *Handlers) change(ctx context.Context, t *asynq.Task, verb string, apply func(*catalog.Catalog, *pipeline.Manifest) error) error {
	var p EpisodePayload
	cat, m, err := h.episodeOf(ctx, t, &p)
	if errors.Is(err, pipeline.ErrNotFound) {
		h.Log.Warn("no such episode; nothing to "+verb, "show", p.Show, "episode", p.Slug)
		return nil
	}
	if err != nil {
		return err
	}
	if err := apply(cat, m); err != nil {
		if pipeline.IsUnavailable(err) {
			return err
		}
		h.Log.Warn("cannot "+verb+" episode", "show", p.Show, "episode", p.Slug, "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err := cat.PutManifest(ctx, m); err != nil {
		return err
	}
	h.Log.Info("episode "+verb+"ed", "show", p.Show, "episode", p.Slug, "guid", m.GUID, "state", m.State)
	if show, err := h.Show(ctx, p.Show); err == nil {
		event := map[string]string{"unpublish": "episode.unpublished", "republish": "episode.published", "delete": "episode.deleted"}[verb]
		if err := h.emit(ctx, show, event, m, ""); err != nil {
			return err
		}
	}
	return h.enqueue(ctx)(NewRebuildTask(p.Show, verb+" "+p.Slug))
}

// retireMedia removes the media that new encodes replaced, now that the
// feed names the new ones, and clears the record of them. It keeps the
// manifest's UpdatedAt: nothing listeners see changed.
func (h *Handlers) retireMedia(ctx context.Context, cat *catalog.Catalog, eps []*pipeline.Manifest, grace func(context.Context) error) error {
	for _, m := range eps {
		if len(m.Retired) == 0 || m.State != pipeline.StatePublished {
			continue // a scheduled episode's old media goes once its new version is live
		}
		for _, key := range m.Retired {
			if !cat.Keys.IsPublic(key) {
				continue
			}
			if err := grace(ctx); err != nil {
				return err
			}
			if err := h.fence(ctx); err != nil {
				return err
			}
			for _, k := range []string{key, cat.Keys.StagedKey(key)} {
				if err := h.Store.Delete(ctx, k); err != nil {
					return err
				}
			}
			h.Log.Info("replaced media removed", "show", cat.ShowName(), "episode", m.Slug, "key", key)
		}
		fresh, err := cat.Manifest(ctx, m.Slug)
		if err != nil {
			return err
		}
		fresh.Retired = slices.DeleteFunc(fresh.Retired, func(k string) bool { return slices.Contains(m.Retired, k) })
		if err := cat.Keep(ctx, fresh); err != nil {
			return err
		}
	}
	return nil
}

// withdrawMedia moves the media of withdrawn episodes out of public/ to
// their staged keys, from where Republish brings them back. It runs after
// the rebuild uploaded a feed that no longer names them.
func (h *Handlers) withdrawMedia(ctx context.Context, keys catalog.Layout, eps []*pipeline.Manifest, grace func(context.Context) error) error {
	for _, m := range eps {
		if m.State != pipeline.StateUnpublished {
			continue
		}
		for _, media := range m.Media() {
			if !keys.IsPublic(media.Key) {
				continue
			}
			if _, err := h.Store.Stat(ctx, media.Key); errors.Is(err, pipeline.ErrNotFound) {
				continue // withdrawn before
			} else if err != nil {
				return err
			}
			if err := grace(ctx); err != nil {
				return err
			}
			if err := h.fence(ctx); err != nil {
				return err
			}
			if err := h.Store.Copy(ctx, media.Key, keys.StagedKey(media.Key)); err != nil {
				return err
			}
			if err := h.Store.Delete(ctx, media.Key); err != nil {
				return err
			}
		}
	}
	return nil
}
