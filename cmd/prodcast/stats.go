package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/analytics"
	"github.com/prodcast/prodcast/pipeline"
)

// episodeStats is one episode's numbers, as `prodcast stats --json` prints
// them.
type episodeStats struct {
	Show      string           `json:"show"`
	Slug      string           `json:"slug"`
	Title     string           `json:"title"`
	Downloads int64            `json:"downloads"`
	First7    int64            `json:"first_7_days"`
	First30   int64            `json:"first_30_days"`
	ByApp     map[string]int64 `json:"by_app"`
	ByDevice  map[string]int64 `json:"by_device"`
	ByDay     map[string]int64 `json:"by_day"`
}

// runStats prints a show's listener numbers, per episode; `stats ingest`
// counts access logs.
func (m *Main) runStats(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "ingest" {
		return m.runIngestLogs(ctx, args[1:])
	}
	if len(args) > 0 {
		return fmt.Errorf("unknown stats subcommand %q: prodcast stats [--show NAME] [--json], or prodcast stats ingest --format s3|combined FILE...", args[0])
	}
	cat, svc, err := m.showCatalog(ctx, true)
	if err != nil {
		return err
	}
	rdb := svc.redis.MakeRedisClient().(redis.UniversalClient)
	defer rdb.Close()
	now := time.Now().UTC()
	from := now.Add(-time.Duration(max(m.days, 1)-1) * 24 * time.Hour)
	days, err := analytics.Days(ctx, analytics.NewCounter(rdb), svc.store, cat.ShowName(), from, now)
	if err != nil {
		return err
	}
	eps, err := cat.Manifests(ctx)
	if err != nil {
		return err
	}
	byslug := map[string]*episodeStats{}
	var order []*episodeStats
	for _, e := range eps {
		if e.State == pipeline.StateDeleted || (m.episode != "" && e.Slug != m.episode) {
			continue
		}
		s := &episodeStats{Show: cat.ShowName(), Slug: e.Slug, Title: e.Meta.Title, ByApp: map[string]int64{},
			ByDevice: map[string]int64{}, ByDay: map[string]int64{}}
		byslug[e.Slug] = s
		order = append(order, s)
	}
	pub := map[string]time.Time{}
	for _, e := range eps {
		pub[e.Slug] = e.PubDate()
	}
	for d, counts := range days {
		t, _ := time.Parse("2006-01-02", d)
		for _, c := range counts {
			s := byslug[c.Episode]
			if s == nil {
				continue
			}
			s.Downloads += c.N
			s.ByApp[c.App] += c.N
			s.ByDevice[c.Category] += c.N
			s.ByDay[d] += c.N
			if age := t.Sub(pub[c.Episode].UTC().Truncate(24 * time.Hour)); age < 7*24*time.Hour {
				s.First7 += c.N
			}
			if age := t.Sub(pub[c.Episode].UTC().Truncate(24 * time.Hour)); age < 30*24*time.Hour {
				s.First30 += c.N
			}
		}
	}
	if m.jsonOut {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"episodes": order})
	}
	fmt.Fprintf(m.Stdout, "Downloads of %s, the last %d days (IAB: a listener receiving a minute of audio, once in 24 hours; bots left out)\n\n",
		showLabel(cat.ShowName()), max(m.days, 1))
	tw := tabwriter.NewWriter(m.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "slug\tdownloads\tfirst 7 days\tfirst 30 days\tby day\ttop apps")
	for _, s := range order {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", s.Slug, s.Downloads, s.First7, s.First30,
			sparkline(s.ByDay, from, now), top(s.ByApp, 3))
	}
	return tw.Flush()
}

// sparkline draws downloads per day, from the oldest day to today.
func sparkline(byDay map[string]int64, from, to time.Time) string {
	bars := []rune("▁▂▃▄▅▆▇█")
	var vals []int64
	var peak int64
	for t := from; !t.After(to); t = t.Add(24 * time.Hour) {
		v := byDay[t.Format("2006-01-02")]
		vals = append(vals, v)
		peak = max(peak, v)
	}
	if len(vals) > 30 {
		vals = vals[len(vals)-30:]
	}
	var b strings.Builder
	for _, v := range vals {
		if peak == 0 || v == 0 {
			b.WriteRune(' ')
			continue
		}
		b.WriteRune(bars[min(len(bars)-1, int(v*int64(len(bars)-1)/peak))])
	}
	return "|" + b.String() + "|"
}

func top(m map[string]int64, n int) string {
	var parts []string
	for _, r := range analytics.Rank(m)[:min(n, len(m))] {
		parts = append(parts, fmt.Sprintf("%s %d", r.Name, r.N))
	}
	return strings.Join(parts, ", ")
}

// runIngestLogs counts downloads from access logs of a CDN or of the
// bucket, with serve's rules; a file ingested before counts nothing.
func (m *Main) runIngestLogs(ctx context.Context, files []string) error {
	parse := map[string]func(string) (analytics.LogHit, bool){"s3": analytics.ParseS3, "combined": analytics.ParseCombined}[m.logFormat]
	if parse == nil {
		return fmt.Errorf("--format %q: use --format s3 (S3 server access logs) or --format combined (nginx, Apache)", m.logFormat)
	}
	if len(files) == 0 {
		return errors.New("usage: prodcast stats ingest [--show NAME] --format s3|combined FILE...")
	}
	if err := m.resolveServices(); err != nil {
		return err
	}
	svc, err := m.connect(ctx, true, true)
	if err != nil {
		return err
	}
	rdb := svc.redis.MakeRedisClient().(redis.UniversalClient)
	defer rdb.Close()
	g := &analytics.Ingester{Counter: analytics.NewCounter(rdb), Store: svc.store, Show: "*"}
	if m.Config.Show != "" {
		if g.Show, err = m.pickShow(ctx, svc.store); err != nil {
			return err
		}
	}
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			return fmt.Errorf("cannot read the log: %w", err)
		}
		n, seen, err := g.Ingest(ctx, r, parse)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if seen {
			fmt.Fprintf(m.Stdout, "%s: ingested before; nothing counted again\n", f)
			continue
		}
		fmt.Fprintf(m.Stdout, "%s: %d downloads counted\n", f, n)
	}
	return nil
}
