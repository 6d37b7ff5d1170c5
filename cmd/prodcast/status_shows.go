package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"text/tabwriter"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/site"
	"github.com/prodcast/prodcast/pipeline/watch"
	"github.com/prodcast/prodcast/workers"
)

// statusShow is one show as `prodcast status` sees it: its folder, its
// record, and what is wrong with it.
type statusShow struct {
	name     string
	dir      string // its folder in the data folder
	cat      *catalog.Catalog
	title    string
	eps      []*pipeline.Manifest // read unless summaries are used
	summary  *site.NetworkShow    // as its last rebuild left it
	problems []string
}

func (s *statusShow) label(shows int) string {
	if shows <= 1 {
		return ""
	}
	if s.name == "" {
		return " of the root show"
	}
	return " of " + s.name
}

// loadShows finds the shows: those in the bucket and those in the data
// folder, each checked for a name or a show.yaml that cannot be used.
func (v *statusView) loadShows(ctx context.Context, m *Main) error {
	names := map[string]bool{}
	if v.store != nil {
		inBucket, err := catalog.Shows(ctx, v.store)
		if err != nil {
			return err
		}
		for _, n := range inBucket {
			names[n] = true
		}
	}
	if _, err := os.Stat(filepath.Join(v.cfg.Data, "show.yaml")); err == nil {
		names[""] = true
	}
	bad := map[string]string{}
	folders, _ := os.ReadDir(filepath.Join(v.cfg.Data, "shows"))
	for _, f := range folders {
		if !f.IsDir() || bundle.Ignored(f.Name()) {
			continue
		}
		if err := catalog.CheckShowName(f.Name()); err != nil {
			bad[f.Name()] = err.Error()
			continue
		}
		if _, err := os.Stat(filepath.Join(v.cfg.Data, "shows", f.Name(), "show.yaml")); err == nil {
			names[f.Name()] = true
		}
	}
	if len(names) == 0 {
		names[""] = true
	}
	if want := m.Config.Show; want != "" {
		if !names[want] {
			return fmt.Errorf("there is no show %q (known: %s)", want, showList(sortedKeys(names)))
		}
		names = map[string]bool{want: true}
	}
	// On a network, the line of each show comes from the summary its
	// last rebuild wrote, not from reading every manifest of every show;
	// --show reads the one show's record.
	v.summaries = len(names) > 1
	for _, n := range sortedKeys(names) {
		sh := &statusShow{name: n, dir: showDir(v.cfg.Data, n)}
		v.check(ctx, sh)
		v.shows = append(v.shows, sh)
	}
	if m.Config.Show == "" {
		for name, problem := range bad {
			v.shows = append(v.shows, &statusShow{name: name, dir: filepath.Join(v.cfg.Data, "shows", name), problems: []string{problem}})
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// showDir is a show's folder in the data folder.
func showDir(data, show string) string {
	if show == "" {
		return data
	}
	return filepath.Join(data, "shows", show)
}

// check reads a show's show.yaml and record, noting what is wrong.
func (v *statusView) check(ctx context.Context, sh *statusShow) {
	if data, err := os.ReadFile(filepath.Join(sh.dir, "show.yaml")); err == nil {
		if s, err := bundle.ParseShow(data, "http://placeholder.invalid"); err != nil {
			sh.problems = append(sh.problems, fmt.Sprintf("its show.yaml is not valid (%v); the last good one is used until it is fixed", err))
		} else {
			sh.title = s.Title
		}
	} else if sh.name != "" {
		sh.problems = append(sh.problems, "its show.yaml is gone: its drops are not taken; what it published stays")
	}
	if v.store == nil {
		return
	}
	sh.cat = catalog.ForShow(v.store, sh.name)
	if v.summaries {
		if data, err := v.store.Get(ctx, sh.cat.Keys.SummaryKey()); err == nil {
			var sum site.NetworkShow
			if json.Unmarshal(data, &sum) == nil {
				sh.summary = &sum
			}
		}
	} else {
		eps, err := sh.cat.Manifests(ctx)
		if err != nil {
			sh.problems = append(sh.problems, fmt.Sprintf("cannot read its catalog: %v", err))
			return
		}
		sh.eps = eps
	}
	if data, err := v.store.Get(ctx, sh.cat.Keys.FeedProblemsKey()); err == nil && len(data) > 2 {
		sh.problems = append(sh.problems, "its last feed was refused; the last good feed is still served (see FAILURES)")
	}
}

// printShows prints one line per show.
func (v *statusView) printShows() {
	fmt.Fprintln(v.w, "SHOWS")
	tw := tabwriter.NewWriter(v.w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  show\tepisodes\tpublished\tscheduled\tin processing\tfailed\ttitle")
	for _, sh := range v.shows {
		counts := map[pipeline.State]int{}
		total := len(sh.eps)
		for _, e := range sh.eps {
			counts[e.State]++
		}
		if s := sh.summary; s != nil {
			total, counts[pipeline.StatePublished], counts[pipeline.StateScheduled] = s.Episodes, s.Live, s.Scheduled
		}
		failed, _ := filepath.Glob(filepath.Join(sh.dir, "failed", "*", bundle.ErrorFile))
		name := sh.name
		if name == "" {
			name = "(root)"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%s\n", name, total, counts[pipeline.StatePublished],
			counts[pipeline.StateScheduled], len(watch.InFlight(sh.dir)), len(failed), sh.title)
		for _, p := range sh.problems {
			fmt.Fprintf(tw, "    ! %s\n", p)
		}
	}
	tw.Flush()
	if v.summaries {
		fmt.Fprintln(v.w, "  (counts as of each show's last rebuild; `prodcast status --show NAME` lists a show's episodes)")
	}
	fmt.Fprintln(v.w)
}

// showNames lists the names of the shows the view covers.
func (v *statusView) showNames() []string {
	var out []string
	for _, sh := range v.shows {
		if !slices.Contains(out, sh.name) {
			out = append(out, sh.name)
		}
	}
	return out
}

// printNotifications shows, per show and target, the last notification:
// when, the answer, and the next retry if it failed.
func (v *statusView) printNotifications(ctx context.Context) {
	if v.store == nil {
		return
	}
	var lines []string
	for _, sh := range v.shows {
		if sh.cat == nil {
			continue
		}
		objs, err := v.store.List(ctx, sh.cat.Keys.Private()+"notify/")
		if err != nil {
			continue
		}
		for _, o := range objs {
			data, err := v.store.Get(ctx, o.Key)
			if err != nil {
				continue
			}
			var r workers.NotifyResult
			if json.Unmarshal(data, &r) != nil {
				continue
			}
			line := fmt.Sprintf("%s %s %s: %s at %s", showLabel(sh.name), r.Kind, r.URL, r.Answer, r.At.Local().Format("2006-01-02 15:04:05"))
			switch {
			case !r.OK && !r.NextRetry.IsZero():
				line += fmt.Sprintf(" (try %d; next at %s)", r.Tries, r.NextRetry.Local().Format("15:04:05"))
			case !r.OK:
				line += fmt.Sprintf(" (given up after %d tries; the next feed change tries again)", r.Tries)
			}
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(v.w, "\nNOTIFICATIONS (the last of each target)")
	for _, l := range lines {
		fmt.Fprintf(v.w, "  %s\n", l)
	}
}
