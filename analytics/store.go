package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// StatsKey is where a show's counts of a day are kept in the bucket:
// private/stats/<day>.json (root show) or private/<show>/stats/<day>.json.
func StatsKey(show, d string) string {
	return catalog.Layout{Show: show}.Private() + "stats/" + d + ".json"
}

// Flush writes the counts Redis holds for a day into the bucket, so that
// losing Redis loses at most what was counted since the last flush.
func (c *Counter) Flush(ctx context.Context, st catalog.Store, d string) error {
	shows, err := c.ShowsWithCounts(ctx, d)
	if err != nil {
		return err
	}
	for _, show := range shows {
		counts, err := c.Day(ctx, show, d)
		if err != nil {
			return err
		}
		data, err := json.Marshal(counts)
		if err != nil {
			return err
		}
		if err := st.PutBytes(ctx, StatsKey(show, d), data, pipeline.Put{ContentType: "application/json"}); err != nil {
			return err
		}
	}
	return nil
}

// FlushEvery flushes today and yesterday every interval until ctx is done,
// and once more when it is.
func (c *Counter) FlushEvery(ctx context.Context, st catalog.Store, interval time.Duration, log *slog.Logger) {
	flush := func(ctx context.Context) {
		now := time.Now()
		for _, d := range []string{day(now.Add(-24 * time.Hour)), day(now)} {
			if err := c.Flush(ctx, st, d); err != nil {
				log.Warn("cannot write the day's listener counts to the bucket; trying again", "day", d, "err", err)
			}
		}
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			flush(fctx)
			cancel()
			return
		case <-tick.C:
			flush(ctx)
		}
	}
}

// Days reads a show's counts of the days from..to (inclusive, UTC): from
// Redis where it has them (the days still being counted), else from the
// bucket. c may be nil: the bucket alone.
func Days(ctx context.Context, c *Counter, st catalog.Store, show string, from, to time.Time) (map[string][]Count, error) {
	out := map[string][]Count{}
	for t := from.UTC().Truncate(24 * time.Hour); !t.After(to); t = t.Add(24 * time.Hour) {
		d := day(t)
		if c != nil {
			counts, err := c.Day(ctx, show, d)
			if err != nil {
				return nil, err
			}
			if len(counts) > 0 {
				out[d] = counts
				continue
			}
		}
		data, err := st.Get(ctx, StatsKey(show, d))
		if errors.Is(err, pipeline.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var counts []Count
		if err := json.Unmarshal(data, &counts); err != nil {
			return nil, err
		}
		out[d] = counts
	}
	return out, nil
}
