package workers

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/hibiken/asynq"
)

// EncodeQueue is the queue of a show's encodes. Each show has its own, so a
// backlog of long recordings in one show does not starve the others.
func EncodeQueue(show string) string {
	if show == "" {
		return "encode"
	}
	return "encode:" + show
}

// lanes runs one asynq server per show on that show's encode queue, all
// sharing the worker's encode slots through one first-come, first-served
// semaphore. A show with a backlog holds the slots while no other show
// waits; when another show's encode arrives, it waits for the first slot
// that frees up, ahead of the backlog's next encode (which is fetched only
// once a slot of its own server frees). Servers are added as shows appear,
// with no restart.
type lanes struct {
	redis asynq.RedisConnOpt
	h     *Handlers
	cfg   ServerConfig
	base  asynq.Config
	mw    func(asynq.Handler) asynq.Handler

	mu      sync.Mutex
	servers map[string]*asynq.Server
	stopped bool
}

// ensure starts the server of a show's encode queue if this worker has none.
func (l *lanes) ensure(show string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	if _, ok := l.servers[show]; ok {
		return
	}
	cfg := l.base
	cfg.Queues = map[string]int{EncodeQueue(show): 1}
	cfg.Concurrency = l.cfg.Concurrency
	// An idle lane looks for work every 0.05 to 0.15 s (asynq sleeps half
	// to one and a half intervals), as the main queues do: a recording's
	// stages follow each other on it (the encode after the ingest, the
	// pieces after the plan, the join after the pieces), each waiting for
	// that look. Twenty shows are two hundred polls a second per worker,
	// which Redis does not notice.
	cfg.TaskCheckInterval = 100 * time.Millisecond
	cfg.GroupAggregator = nil
	srv := asynq.NewServer(l.redis, cfg)
	mux := asynq.NewServeMux()
	mux.Use(l.mw, l.h.watchMachine)
	mux.HandleFunc(TypeEpisodeEncode, l.h.Encode)
	mux.HandleFunc(TypeEpisodePiece, l.h.Piece)
	mux.HandleFunc(TypeEpisodeJoin, l.h.Join)
	mux.HandleFunc(TypeEpisodeMeasure, l.h.Measure)
	if err := srv.Start(mux); err != nil {
		l.h.Log.Error("cannot start the encode lane of a show; its encodes wait for the next worker", "show", show, "err", err)
		return
	}
	l.servers[show] = srv
}

// shutdown stops every lane, each giving its running encodes the shutdown
// timeout, at once.
func (l *lanes) shutdown() {
	l.mu.Lock()
	l.stopped = true
	servers := l.servers
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(srv.Shutdown)
	}
	wg.Wait()
}

// slots is the worker's encode slots: a buffered channel is a semaphore
// whose waiters are served in the order they came.
type slots chan struct{}

// take waits for a slot; it gives up when ctx is done.
func (s slots) take(ctx context.Context) (release func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), context.Cause(ctx))
	}
}

// Queues lists every queue the workers use that Redis knows of: default,
// site, and each show's encode queue.
func Queues(insp *asynq.Inspector) []string {
	qs, err := insp.Queues()
	if err != nil || len(qs) == 0 {
		return []string{QueueDefault, QueueSite}
	}
	sort.Strings(qs)
	return qs
}
