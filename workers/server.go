package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
)

// ServerConfig tunes a worker.
type ServerConfig struct {
	Concurrency     int           // tasks run at once; default 2
	ShutdownTimeout time.Duration // how long running tasks get to finish on stop
	GroupGrace      time.Duration // how long rebuild requests are gathered; default 1s
	ReconcileEvery  time.Duration // how often the queue is checked against the catalog; default 30s
}

// NewMux routes each task type to its handler.
func NewMux(h *Handlers) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(h.watchMachine)
	mux.HandleFunc(TypeBundleIngest, h.Ingest)
	mux.HandleFunc(TypeEpisodeEncode, h.Encode)
	mux.HandleFunc(TypeEpisodePiece, h.Piece)
	mux.HandleFunc(TypeEpisodeJoin, h.Join)
	mux.HandleFunc(TypeEpisodeMeasure, h.Measure)
	mux.HandleFunc(TypeEpisodePublish, h.Publish)
	mux.HandleFunc(TypeSiteRebuild, h.Rebuild)
	mux.HandleFunc(TypeNetworkRebuild, h.NetworkRebuild)
	mux.HandleFunc(TypeEpisodeUnpublish, h.Unpublish)
	mux.HandleFunc(TypeEpisodeRepublish, h.Republish)
	mux.HandleFunc(TypeEpisodeDelete, h.Delete)
	mux.HandleFunc(TypeFeedNotify, h.FeedNotify)
	mux.HandleFunc(TypeNotifyPing, h.Ping)
	mux.HandleFunc(TypeWebhook, h.Webhook)
	mux.HandleFunc(TypeSiteGC, h.GC)
	mux.HandleFunc(TypeBundleRefused, h.BundleRefused)
	mux.HandleFunc(TypePitchReceived, h.AnnouncePitch)
	return mux
}

// Run runs a worker until ctx is done: it sweeps the temporary folders of
// encodes that were killed, reconciles the catalog with the queue (at once
// and every ReconcileEvery), and processes tasks. Running tasks get ShutdownTimeout to finish;
// the rest stay in Redis for the next worker.
func Run(ctx context.Context, redis asynq.RedisConnOpt, h *Handlers, cfg ServerConfig) error {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.GroupGrace < time.Second {
		cfg.GroupGrace = time.Second
	}
	base := asynq.Config{
		Concurrency: cfg.Concurrency,
		// Stages follow each other: look for the next task soon, not after
		// asynq's default second. Ten polls a second are nothing to Redis.
		TaskCheckInterval: 100 * time.Millisecond,
		Queues:            map[string]int{QueueDefault: 3, QueueSite: 2},
		RetryDelayFunc:    retryDelay,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		GroupGracePeriod:  cfg.GroupGrace,
		GroupMaxDelay:     5 * cfg.GroupGrace,
		GroupMaxSize:      1000,
		GroupAggregator:   asynq.GroupAggregatorFunc(aggregate),
		Logger:            slogAdapter{h.Log.With("component", "asynq")},
		LogLevel:          asynq.WarnLevel,
		IsFailure:         func(err error) bool { return err != errBusy },
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			if err == errBusy || errors.Is(err, asynq.SkipRetry) {
				return // busy is routine; refused input is logged by its handler
			}
			id, _ := asynq.GetTaskID(ctx)
			h.Log.Warn("task failed", "type", t.Type(), "task_id", id, "err", err)
		}),
	}
	srv := asynq.NewServer(redis, base)
	SweepTemp(h.TempDir, h.Log)
	insp := asynq.NewInspector(redis)
	defer insp.Close()
	rdb, _ := redis.MakeRedisClient().(goredis.UniversalClient)
	if rdb != nil {
		defer rdb.Close()
	}
	var running sync.WaitGroup
	count := func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			running.Add(1)
			defer running.Done()
			return next.ProcessTask(ctx, t)
		})
	}
	h.slots = make(slots, cfg.Concurrency)
	h.insp = insp
	h.lanes = &lanes{redis: redis, h: h, cfg: cfg, base: base, mw: count, servers: map[string]*asynq.Server{}}
	defer h.lanes.shutdown()
	rec := &Reconciler{Handlers: h, Inspector: insp, Redis: rdb, Every: cfg.ReconcileEvery, Log: h.Log}
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan struct{})
	go func() { rec.Run(recCtx); close(recDone) }()
	defer func() { stopRec(); <-recDone }()
	sched := asynq.NewScheduler(redis, &asynq.SchedulerOpts{Location: time.UTC, Logger: base.Logger, LogLevel: asynq.WarnLevel})
	if gc, err := NewGCTask(GCPayload{All: true}); err == nil {
		if _, err := sched.Register("@daily", gc, asynq.Unique(23*time.Hour)); err != nil {
			h.Log.Warn("cannot schedule the daily sweep", "err", err)
		}
	}
	if err := sched.Start(); err != nil {
		h.Log.Warn("cannot start the scheduler; the daily sweep will not run", "err", err)
	} else {
		defer sched.Shutdown()
	}
	mux := NewMux(h)
	mux.Use(count)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("cannot start worker: %w", err)
	}
	h.Log.Info("worker running", "concurrency", cfg.Concurrency)
	<-ctx.Done()
	// Running tasks get ShutdownTimeout; then asynq puts them back in the
	// queue and cancels them, which kills their ffmpeg. Wait for that, so
	// no encode outlives the worker and temporary files are removed.
	var stopping sync.WaitGroup
	stopping.Go(srv.Shutdown)
	stopping.Go(h.lanes.shutdown)
	stopping.Wait()
	done := make(chan struct{})
	go func() { running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.Log.Warn("tasks still running 10s after shutdown")
	}
	return nil
}

// aggregate turns a group of rebuild requests (of one show) into one
// rebuild, a full one if any of them asked for it.
func aggregate(group string, tasks []*asynq.Task) *asynq.Task {
	p := RebuildPayload{Reason: fmt.Sprintf("%d requests", len(tasks))}
	if group == networkGroup {
		data, _ := json.Marshal(p)
		return asynq.NewTask(TypeNetworkRebuild, data, asynq.MaxRetry(maxRetry))
	}
	if show, ok := strings.CutPrefix(group, "notify:"); ok {
		data, _ := json.Marshal(NotifyPayload{Show: show})
		return asynq.NewTask(TypeFeedNotify, data, asynq.MaxRetry(maxRetry))
	}
	for _, t := range tasks {
		var one RebuildPayload
		if json.Unmarshal(t.Payload(), &one) == nil {
			p.Show = one.Show
			p.Full = p.Full || one.Full
		}
	}
	data, _ := json.Marshal(p)
	return asynq.NewTask(TypeSiteRebuild, data, asynq.MaxRetry(maxRetry))
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
