package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/workers"
)

type homePage struct {
	page
	Rows []homeRow
}

type homeRow struct {
	Show             showLink
	Title            string
	Episodes, Failed int
	NewPitches       int
	Problem          string
}

// home lists the shows, with what waits for the producer in each.
func (d *Desk) home(w http.ResponseWriter, r *http.Request) {
	p := &homePage{page: d.page(r, "The desk")}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	for _, s := range p.Shows {
		name := s.Token
		if name == rootToken {
			name = ""
		}
		row := homeRow{Show: s}
		cat := catalog.ForShow(d.cfg.Store, name)
		if show, err := d.showInfo(ctx, name); err == nil {
			row.Title = show.Title
		}
		if eps, err := cat.Manifests(ctx); err == nil {
			for _, m := range eps {
				if m.State != pipeline.StateDeleted {
					row.Episodes++
				}
			}
		} else {
			row.Problem = err.Error()
		}
		row.Failed = len(d.failedBundles(name))
		if pitches, err := cat.Pitches(ctx); err == nil {
			for _, pt := range pitches {
				if pt.Status == pipeline.PitchNew {
					row.NewPitches++
				}
			}
		}
		p.Rows = append(p.Rows, row)
	}
	d.render(w, r, http.StatusOK, "home", p)
}

type episodesPage struct {
	page
	Rows    []episodeRow
	Actions bool // whether unpublish and republish can be queued
	Busy    bool // whether anything is on its way, for the progress script
}

type episodeRow struct {
	Slug, Title, State string
	PublishAt          time.Time
	Loudness           string
	Progress           *progressJSON
	CanUnpublish       bool
	CanRepublish       bool
	URL                string
}

// progressJSON is one episode's line of progress.json.
type progressJSON struct {
	State   string  `json:"state"`
	Percent float64 `json:"percent"` // of the encode, 0-100; -1 while not encoding
	Left    string  `json:"left,omitempty"`
}

// episodes lists a show's episodes: state, publish time, loudness, and
// the encode's progress.
func (d *Desk) episodes(w http.ResponseWriter, r *http.Request) {
	show, ok := d.showOf(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	cat := catalog.ForShow(d.cfg.Store, show)
	eps, err := cat.Manifests(ctx)
	if err != nil {
		d.fail(w, r, http.StatusBadGateway, "Cannot read the episodes: "+err.Error())
		return
	}
	info, _ := d.showInfo(ctx, show)
	prog := d.encodeProgress(show)
	p := &episodesPage{page: d.page(r, "Episodes"), Actions: d.cfg.Queue != nil}
	p.Show = linkFor(show)
	for _, m := range eps {
		if m.State == pipeline.StateDeleted {
			continue
		}
		row := episodeRow{Slug: m.Slug, Title: m.Meta.Title, State: string(m.State), PublishAt: m.PubDate(),
			CanUnpublish: m.State == pipeline.StatePublished || m.State == pipeline.StateScheduled,
			CanRepublish: m.State == pipeline.StateUnpublished}
		if m.Loudness != nil {
			row.Loudness = fmt.Sprintf("%.1f LUFS (target %.0f), %.1f dBTP", m.Loudness.After.Integrated, m.Loudness.Target, m.Loudness.After.TruePeak)
		}
		if pr, ok := prog[m.Slug]; ok {
			row.Progress = &pr
		}
		if m.State == pipeline.StateIngested || m.State == pipeline.StateEncoded || row.Progress != nil {
			p.Busy = true
		}
		if m.State == pipeline.StatePublished && info != nil {
			row.URL = info.EpisodePath(m.Slug)
		}
		p.Rows = append(p.Rows, row)
	}
	slices.SortStableFunc(p.Rows, func(a, b episodeRow) int { return b.PublishAt.Compare(a.PublishAt) })
	d.render(w, r, http.StatusOK, "episodes", p)
}

// progress answers the show's episodes' states and encode progress, for
// the page's script to follow without reloading.
func (d *Desk) progress(w http.ResponseWriter, r *http.Request) {
	show, ok := d.showOf(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	eps, err := catalog.ForShow(d.cfg.Store, show).Manifests(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	prog := d.encodeProgress(show)
	out := map[string]progressJSON{}
	for _, m := range eps {
		if m.State == pipeline.StateDeleted {
			continue
		}
		pr, ok := prog[m.Slug]
		if !ok {
			pr = progressJSON{Percent: -1}
		}
		pr.State = string(m.State)
		out[m.Slug] = pr
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// encodeProgress reads the running encodes of a show from the queue: the
// workers store their progress as the task's result.
func (d *Desk) encodeProgress(show string) map[string]progressJSON {
	out := map[string]progressJSON{}
	if d.insp == nil {
		return out
	}
	for _, q := range []string{workers.EncodeQueue(show), workers.QueueDefault} {
		tasks, err := d.insp.ListActiveTasks(q)
		if err != nil {
			continue
		}
		// An encode in pieces runs as several tasks: their progress adds up.
		type sum struct {
			done, total float64
			start       time.Time
		}
		sums := map[string]*sum{}
		for _, t := range tasks {
			var pl workers.EpisodePayload
			var pr workers.Progress
			if (t.Type != workers.TypeEpisodeEncode && t.Type != workers.TypeEpisodePiece) ||
				json.Unmarshal(t.Payload, &pl) != nil || pl.Show != show {
				continue
			}
			s := sums[pl.Slug]
			if s == nil {
				s = &sum{}
				sums[pl.Slug] = s
			}
			if json.Unmarshal(t.Result, &pr) == nil && pr.Total > 0 {
				s.done, s.total = s.done+pr.Done, s.total+pr.Total
				if s.start.IsZero() || pr.Start.Before(s.start) {
					s.start = pr.Start
				}
			}
		}
		for slug, s := range sums {
			row := progressJSON{Percent: 0}
			if s.total > 0 {
				row.Percent = min(100, 100*s.done/s.total)
				if s.done > 0 && !s.start.IsZero() {
					el := d.cfg.Now().Sub(s.start)
					row.Left = time.Duration(float64(el) * (s.total - s.done) / s.done).Round(time.Second).String()
				}
			}
			out[slug] = row
		}
	}
	return out
}

// lifecycle queues an unpublish or a republish.
func (d *Desk) lifecycle(w http.ResponseWriter, r *http.Request) {
	show, m, ok := d.episodeOf(w, r)
	if !ok {
		return
	}
	typ, known := map[string]string{"unpublish": workers.TypeEpisodeUnpublish, "republish": workers.TypeEpisodeRepublish}[r.PathValue("action")]
	if !known {
		d.fail(w, r, http.StatusNotFound, "The desk can unpublish or republish an episode; delete it with `prodcast delete --yes SLUG`.")
		return
	}
	if d.cfg.Queue == nil {
		d.fail(w, r, http.StatusServiceUnavailable, "This server has no Redis (PRODCAST_REDIS_URL), so it cannot queue work for the workers.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if err := d.cfg.Queue.EnqueueLifecycle(ctx, typ, show, m.Slug); err != nil {
		d.fail(w, r, http.StatusServiceUnavailable, "Cannot queue it: "+err.Error())
		return
	}
	d.cfg.Log.Info("queued from the desk", "action", r.PathValue("action"), "show", show, "episode", m.Slug,
		"user", d.sessions.GetString(ctx, sessUser))
	d.note(r, "%s of %q queued: the feed and pages follow within a minute.", r.PathValue("action"), m.Meta.Title)
	http.Redirect(w, r, "/admin/shows/"+linkFor(show).Token+"/", http.StatusSeeOther)
}

type failedPage struct {
	page
	Bundles []failedBundle
	NoData  bool
}

type failedBundle struct {
	Name, Error string
	At          time.Time
}

// failedBundles lists failed/ of a show, newest first.
func (d *Desk) failedBundles(show string) []failedBundle {
	dir := filepath.Join(d.showDir(show), "failed")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []failedBundle
	for _, e := range entries {
		if !e.IsDir() || bundle.Ignored(e.Name()) {
			continue
		}
		fb := failedBundle{Name: e.Name()}
		if fi, err := e.Info(); err == nil {
			fb.At = fi.ModTime()
		}
		if b, err := readLimited(filepath.Join(dir, e.Name(), bundle.ErrorFile), 64<<10); err == nil {
			fb.Error = string(b)
		}
		out = append(out, fb)
	}
	slices.SortFunc(out, func(a, b failedBundle) int { return b.At.Compare(a.At) })
	return out
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, max)
	n, err := f.Read(b)
	if err != nil && n == 0 {
		return nil, err
	}
	return b[:n], nil
}

func (d *Desk) failed(w http.ResponseWriter, r *http.Request) {
	show, ok := d.showOf(w, r)
	if !ok {
		return
	}
	p := &failedPage{page: d.page(r, "Failed bundles"), Bundles: d.failedBundles(show)}
	p.Show = linkFor(show)
	if _, err := os.Stat(d.showDir(show)); err != nil {
		p.NoData = true
	}
	d.render(w, r, http.StatusOK, "failed", p)
}

// retry moves a failed bundle back into drop/, without its ERROR.txt
// (which the watcher would ignore anyway); a lone recording goes back
// alone. The name comes from the request, so it is opened through an
// os.Root of the show's folder and can name nothing outside failed/.
func (d *Desk) retry(w http.ResponseWriter, r *http.Request) {
	show, ok := d.showOf(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	dst, err := retryBundle(d.showDir(show), name)
	if errors.Is(err, os.ErrNotExist) {
		d.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no failed bundle %q (moved meanwhile?).", name))
		return
	}
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, "Cannot move it back to drop/: "+err.Error())
		return
	}
	d.cfg.Log.Info("bundle retried from the desk", "show", show, "bundle", name, "to", dst)
	d.note(r, "%s is back in drop/ as %s: the watcher takes it within a minute.", name, filepath.Base(dst))
	http.Redirect(w, r, "/admin/shows/"+linkFor(show).Token+"/failed/", http.StatusSeeOther)
}
