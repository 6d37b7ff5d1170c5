package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/workers"
)

// episodeJSON is one line of `prodcast episodes --json`.
type episodeJSON struct {
	Slug      string     `json:"slug"`
	State     string     `json:"state"`
	GUID      string     `json:"guid"`
	Title     string     `json:"title"`
	PublishAt *time.Time `json:"publish_at"`
	Duration  float64    `json:"duration_seconds"`
}

// runEpisodes lists a show's episodes; tombstones of deleted ones are left
// out.
func (m *Main) runEpisodes(ctx context.Context, args []string) error {
	cat, _, err := m.showCatalog(ctx, false)
	if err != nil {
		return err
	}
	eps, err := cat.Manifests(ctx)
	if err != nil {
		return err
	}
	out := []episodeJSON{}
	for _, e := range eps {
		if e.State == pipeline.StateDeleted {
			continue
		}
		j := episodeJSON{Slug: e.Slug, State: string(e.State), GUID: e.GUID, Title: e.Meta.Title}
		if d := e.PubDate(); !d.IsZero() {
			j.PublishAt = &d
		}
		if e.MP3 != nil {
			j.Duration = e.MP3.Duration
		}
		out = append(out, j)
	}
	if m.jsonOut {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(m.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "slug\tstate\tguid\tpublish time\tduration\ttitle")
	for _, e := range out {
		at := "-"
		if e.PublishAt != nil {
			at = e.PublishAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Slug, e.State, e.GUID, at, (time.Duration(e.Duration) * time.Second).String(), e.Title)
	}
	return tw.Flush()
}

// runLifecycle queues the unpublish, republish or delete of an episode.
func (m *Main) runLifecycle(typ string) func(*Main, context.Context, []string) error {
	return func(m *Main, ctx context.Context, args []string) error {
		verb := map[string]string{workers.TypeEpisodeUnpublish: "unpublish", workers.TypeEpisodeRepublish: "republish",
			workers.TypeEpisodeDelete: "delete"}[typ]
		if len(args) != 1 {
			return fmt.Errorf("usage: prodcast %s [--show NAME] SLUG", verb)
		}
		if typ == workers.TypeEpisodeDelete && !m.yes {
			return errors.New("delete removes the episode's media and its original recording for good: add --yes to go ahead (unpublish only withdraws it)")
		}
		cat, svc, err := m.showCatalog(ctx, true)
		if err != nil {
			return err
		}
		ep, err := cat.Manifest(ctx, args[0])
		if errors.Is(err, pipeline.ErrNotFound) || (err == nil && ep.State == pipeline.StateDeleted) {
			return fmt.Errorf("%s has no episode %q: see `prodcast episodes`", showLabel(cat.ShowName()), args[0])
		}
		if err != nil {
			return err
		}
		q := workers.NewClient(svc.redis)
		defer q.Close()
		if err := q.EnqueueLifecycle(ctx, typ, cat.ShowName(), ep.Slug); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s of %q (%s) queued; the feed and pages follow within a minute (see prodcast episodes)\n",
			verb, ep.Slug, showLabel(cat.ShowName()))
		return nil
	}
}

// showCatalog connects to the services and returns the catalog of --show.
func (m *Main) showCatalog(ctx context.Context, needRedis bool) (*catalog.Catalog, *services, error) {
	if err := m.resolveServices(); err != nil {
		return nil, nil, err
	}
	svc, err := m.connect(ctx, needRedis, true)
	if err != nil {
		return nil, nil, err
	}
	show, err := m.pickShow(ctx, svc.store)
	if err != nil {
		return nil, nil, err
	}
	return catalog.ForShow(svc.store, show), svc, nil
}

// runGC sweeps a show's unreferenced media: --dry-run lists it, else a
// site:gc task removes it.
func (m *Main) runGC(ctx context.Context, args []string) error {
	cat, svc, err := m.showCatalog(ctx, !m.dryRun)
	if err != nil {
		return err
	}
	garbage, err := workers.Garbage(ctx, svc.store, cat.ShowName(), time.Now(), workers.GCGrace)
	if err != nil {
		return err
	}
	var bytes int64
	for _, o := range garbage {
		bytes += o.Size
		fmt.Fprintf(m.Stdout, "%s  %d bytes  %s\n", o.Key, o.Size, o.LastModified.Format(time.RFC3339))
	}
	if m.dryRun {
		fmt.Fprintf(m.Stdout, "%d objects, %d bytes, would be removed from %s (unreferenced for %s or more)\n",
			len(garbage), bytes, showLabel(cat.ShowName()), workers.GCGrace)
		return nil
	}
	q := workers.NewClient(svc.redis)
	defer q.Close()
	t, err := workers.NewGCTask(workers.GCPayload{Show: cat.ShowName()})
	if err != nil {
		return err
	}
	if _, err := q.Asynq().EnqueueContext(ctx, t); err != nil {
		return fmt.Errorf("cannot queue the sweep: %w", err)
	}
	fmt.Fprintf(m.Stdout, "sweep of %s queued: %d objects, %d bytes, unreferenced for %s or more\n",
		showLabel(cat.ShowName()), len(garbage), bytes, workers.GCGrace)
	return nil
}
