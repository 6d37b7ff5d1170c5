package workers

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
	"github.com/prodcast/prodcast/pipeline/site"
)

// TypeNetworkRebuild renders the install's own pages: /shows.opml, and the
// front page when there is no root show.
const TypeNetworkRebuild = "network:rebuild"

const (
	networkGroup   = "network"
	networkLockKey = "prodcast:lock:network"
)

// NewNetworkTask returns a request to render the network's pages again.
// Requests are grouped and aggregated into one.
func NewNetworkTask(reason string) (*asynq.Task, error) {
	return newTask(TypeNetworkRebuild, RebuildPayload{Reason: reason}, asynq.Queue(QueueSite), asynq.Group(networkGroup),
		asynq.MaxRetry(maxRetry))
}

// summary is what the network's pages say of a show, as its last rebuild
// left it.
func summary(show *pipeline.Show, eps []*pipeline.Manifest, now time.Time) site.NetworkShow {
	s := site.NetworkShow{Name: show.Name, Title: show.Title, Description: show.Description, Language: show.Language,
		FeedURL: show.FeedURL(), SiteURL: show.BaseURL, ArtURL: show.ArtURL()}
	s.Episodes = len(eps)
	for _, m := range eps { // newest first
		switch {
		case m.Live(now) && m.MP3 != nil:
			if s.Latest == nil {
				s.Latest = &site.NetworkEpisode{Title: m.Meta.Title, URL: show.EpisodeURL(m.Slug), Date: m.PubDate()}
			}
			s.Live++
		case m.State == pipeline.StateScheduled:
			s.Scheduled++
		}
	}
	return s
}

// noteNetwork records the show's summary after a rebuild and, when it
// changed (a new latest episode, a new title), asks for the network's pages.
// Nothing of any other show is read or written.
func (h *Handlers) noteNetwork(ctx context.Context, show *pipeline.Show, eps []*pipeline.Manifest, now time.Time) error {
	data, err := json.MarshalIndent(summary(show, eps, now), "", "  ")
	if err != nil {
		return err
	}
	changed, err := h.putIfChanged(ctx, h.Catalog(show.Name).Keys.SummaryKey(), data, s3.Put{ContentType: "application/json"})
	if err != nil || !changed {
		return err
	}
	return h.enqueue(ctx)(NewNetworkTask("show " + show.Name))
}

// NetworkRebuild handles network:rebuild: it renders /shows.opml from the
// summaries of every show and, if the install has no root show, the front
// page; each is uploaded only if its bytes changed.
func (h *Handlers) NetworkRebuild(ctx context.Context, t *asynq.Task) error {
	ctx, release, err := h.hold(ctx, networkLockKey)
	if err != nil {
		return err
	}
	defer release()
	names, err := catalog.Shows(ctx, h.Store)
	if err != nil {
		return err
	}
	var shows []site.NetworkShow
	for _, name := range names {
		data, err := h.Store.Get(ctx, catalog.Layout{Show: name}.SummaryKey())
		if errors.Is(err, pipeline.ErrNotFound) {
			continue // not yet rebuilt
		} else if err != nil {
			return err
		}
		var s site.NetworkShow
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("cannot read the summary of show %q: %w", name, err)
		}
		shows = append(shows, s)
	}
	title := "Podcasts"
	if len(shows) > 0 && shows[0].Name == "" {
		title = shows[0].Title
	}
	opml, err := site.OPML(title, shows)
	if err != nil {
		return err
	}
	public := func(ct string) s3.Put { return s3.Put{ContentType: ct, CacheControl: "public, max-age=60"} }
	if _, err := h.putIfChanged(ctx, catalog.OPMLKey, opml, public("text/x-opml; charset=utf-8")); err != nil {
		return err
	}
	if len(names) > 0 && names[0] == "" {
		return nil // the root show's home page is the front page
	}
	page, err := site.NetworkIndex(title, shows)
	if err != nil {
		return err
	}
	_, err = h.putIfChanged(ctx, catalog.NetworkIndexKey, page, public("text/html; charset=utf-8"))
	return err
}

// putIfChanged uploads data to key unless the stored object has its bytes,
// and reports whether it did.
func (h *Handlers) putIfChanged(ctx context.Context, key string, data []byte, put s3.Put) (bool, error) {
	sum := md5.Sum(data)
	if o, err := h.Store.Stat(ctx, key); err == nil && o.ETag == hex.EncodeToString(sum[:]) {
		return false, nil
	} else if err != nil && !errors.Is(err, pipeline.ErrNotFound) {
		return false, err
	}
	if err := h.fence(ctx); err != nil {
		return false, err
	}
	return true, h.Store.PutBytes(ctx, key, data, put)
}
