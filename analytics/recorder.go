package analytics

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Recorder records hits off the request path: serve hands each hit over
// and answers at once; one goroutine counts them in Redis. If Redis falls
// behind by more than the queue holds, hits are dropped and counted as
// dropped, rather than slowing the media down.
type Recorder struct {
	Counter *Counter
	// Counted is called for each hit that made a download.
	Counted func(Hit, Client)
	Log     *slog.Logger

	queue   chan Hit
	dropped atomic.Int64
}

// NewRecorder returns a recorder with a queue of n hits.
func NewRecorder(c *Counter, n int, log *slog.Logger) *Recorder {
	return &Recorder{Counter: c, Log: log, queue: make(chan Hit, n)}
}

// Add queues a hit; it never blocks.
func (r *Recorder) Add(h Hit) {
	select {
	case r.queue <- h:
	default:
		if r.dropped.Add(1)%1000 == 1 {
			r.Log.Warn("listener counting falls behind; hits dropped", "dropped", r.dropped.Load())
		}
	}
}

// Run counts the queued hits until ctx is done, then the ones left.
func (r *Recorder) Run(ctx context.Context) {
	record := func(ctx context.Context, h Hit) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		counted, client, err := r.Counter.Record(rctx, h)
		if err != nil {
			r.Log.Warn("cannot count a download", "episode", h.Episode, "err", err)
			return
		}
		if counted && r.Counted != nil {
			r.Counted(h, client)
		}
	}
	for {
		select {
		case h := <-r.queue:
			record(ctx, h)
		case <-ctx.Done():
			drain := context.WithoutCancel(ctx)
			for {
				select {
				case h := <-r.queue:
					record(drain, h)
				default:
					return
				}
			}
		}
	}
}
