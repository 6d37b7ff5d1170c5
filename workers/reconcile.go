package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// OutageKey is the Redis key under which workers record since when S3 has
// not answered; `prodcast status` shows it. It expires by itself if no
// worker renews it.
const OutageKey = "prodcast:outage:s3"

// Reconciler brings the queue back in line with the record. The catalog
// in S3 is the truth; Redis only holds the work in flight, and may lose it
// (wiped, failed over, embedded and killed), or give up on it (tasks
// archived by an older release). Task IDs make every step safe to repeat,
// on every worker, at any time.
type Reconciler struct {
	Handlers  *Handlers
	Inspector *asynq.Inspector
	Redis     redis.UniversalClient // for OutageKey; may be nil
	Every     time.Duration         // how often to reconcile; default 30s
	Probe     time.Duration         // how often to check that S3 answers; default 5s
	Log       *slog.Logger
}

// Run reconciles at once, then every r.Every, until ctx is done.
func (r *Reconciler) Run(ctx context.Context) {
	if r.Every <= 0 {
		r.Every = 30 * time.Second
	}
	if r.Probe <= 0 {
		r.Probe = 5 * time.Second
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	first := true
	reconcile := time.NewTimer(0)
	probe := time.NewTicker(r.Probe)
	defer reconcile.Stop()
	defer probe.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-probe.C:
			r.probe(ctx)
			r.discover(ctx)
			r.Handlers.Faults.Recheck(ctx)
		case <-reconcile.C:
			if err := r.Once(ctx, first); err != nil {
				r.Log.Warn("cannot reconcile the catalog with the queue; trying again soon", "err", err)
				reconcile.Reset(min(r.Every, 5*time.Second))
				continue
			}
			first = false
			reconcile.Reset(r.Every)
		}
	}
}

// Once revives the tasks an outage archived and re-enqueues the unfinished
// work the manifests record. At start it also asks for a rebuild, so a
// feed lost with its bucket's public prefix comes back.
func (r *Reconciler) Once(ctx context.Context, start bool) error {
	if r.Inspector != nil {
		r.revive()
	}
	shows, err := catalog.Shows(ctx, r.Handlers.Store)
	if err != nil {
		return err
	}
	var errs []error
	for _, show := range shows {
		r.Handlers.serveShow(show)
		if err := r.show(ctx, show, start); err != nil {
			errs = append(errs, fmt.Errorf("show %q: %w", show, err))
		}
	}
	if start && len(shows) > 0 {
		errs = append(errs, r.Handlers.enqueue(ctx)(NewNetworkTask("start")))
	}
	return errors.Join(errs...)
}

// show reconciles one show: a broken one does not stop the others.
func (r *Reconciler) show(ctx context.Context, show string, start bool) error {
	h := r.Handlers
	eps, err := h.Catalog(show).Manifests(ctx)
	if err != nil {
		return err
	}
	send := h.enqueue(ctx)
	rebuild := start
	for _, m := range eps {
		switch {
		case m.NeedsEncode():
			err = send(NewEncodeTask(show, m.Slug, m.BundleID, m.Original.SHA256))
		case m.State == pipeline.StateEncoded:
			err = send(NewPublishTask(show, m.Slug, m.BundleID, time.Time{}))
		case m.State == pipeline.StateScheduled && m.Meta.PublishAt != nil:
			err = send(NewPublishTask(show, m.Slug, "", *m.Meta.PublishAt))
		case m.State == pipeline.StatePublished && m.Pending != "":
			rebuild = true // published, but its bundle not yet reported
		}
		if err != nil {
			return err
		}
	}
	if !rebuild {
		return nil
	}
	reason := "start"
	if !start {
		reason = "reconcile"
	}
	return send(NewRebuildTask(show, reason))
}

// revive puts back in the queue every task that was archived for any other
// reason than a payload that can never work (asynq.SkipRetry).
func (r *Reconciler) revive() {
	for _, q := range Queues(r.Inspector) {
		tasks, err := r.Inspector.ListArchivedTasks(q, asynq.PageSize(1000))
		if err != nil {
			if !errors.Is(err, asynq.ErrQueueNotFound) {
				r.Log.Warn("cannot list archived tasks", "queue", q, "err", err)
			}
			continue
		}
		for _, t := range tasks {
			if strings.Contains(t.LastErr, asynq.SkipRetry.Error()) || t.Type == TypeNotifyPing || t.Type == TypeWebhook {
				continue // a payload that cannot work; a target given up on after its tries
			}
			if err := r.Inspector.RunTask(q, t.ID); err != nil {
				continue // another worker revived it first
			}
			r.Log.Info("task archived after an outage put back in the queue", "type", t.Type, "task_id", t.ID, "last_err", t.LastErr)
		}
	}
}

// discover serves the encode queue of every show the bucket has, soon
// after a show appears: a new show's encodes, and the pieces of its long
// recordings, are then shared by every worker within seconds, not at the
// next reconcile.
func (r *Reconciler) discover(ctx context.Context) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	shows, err := catalog.Shows(dctx, r.Handlers.Store)
	if err != nil {
		return // the reconcile reports it
	}
	for _, show := range shows {
		r.Handlers.serveShow(show)
	}
}

// probe records since when S3 has not answered, for `prodcast status`.
func (r *Reconciler) probe(ctx context.Context) {
	if r.Redis == nil {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := r.Handlers.Store.Ping(pctx)
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		if n, _ := r.Redis.Del(pctx, OutageKey).Result(); n > 0 {
			r.Log.Info("S3 answers again")
		}
		return
	}
	const ttl = 2 * time.Minute
	set, rerr := r.Redis.SetNX(pctx, OutageKey, time.Now().UTC().Format(time.RFC3339), ttl).Result()
	if rerr != nil {
		return
	}
	if set {
		r.Log.Warn("S3 does not answer; the work waits for it and resumes by itself", "err", err)
	} else {
		r.Redis.Expire(pctx, OutageKey, ttl)
	}
}

// OutageSince reads when S3 stopped answering, as the workers recorded it;
// zero if it answers.
func OutageSince(ctx context.Context, rdb redis.UniversalClient) (time.Time, error) {
	v, err := rdb.Get(ctx, OutageKey).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot read %s: %w", OutageKey, err)
	}
	return time.Parse(time.RFC3339, v)
}
