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

	failed   int       // hits not counted since the last warning
	lastWarn time.Time // of a failure to count
}

// NewRecorder returns a recorder with a queue of n hits.
func NewRecorder(c *Counter, n int, log *slog.Logger) *Recorder {
	return &Recorder{Counter: c, Log: log, queue: make(chan Hit, n)}
}

// drainFor is how long a stopping recorder goes on counting the hits left
// in its queue; it stops at the first that fails (Redis gone), as each
// would wait on Redis in turn.
const drainFor = 5 * time.Second

// warnEvery is how often a Redis that keeps failing is logged.
const warnEvery = 30 * time.Second

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

// Run counts the queued hits until ctx is done, then the ones left, for
// at most drainFor.
func (r *Recorder) Run(ctx context.Context) {
	for {
		if ctx.Err() != nil {
			r.drain(ctx)
			return
		}
		select {
		case h := <-r.queue:
			// Not cut short by the stop: a hit taken is counted (within
			// record's timeout), and the drain counts the rest.
			r.record(context.WithoutCancel(ctx), h)
		case <-ctx.Done():
		}
	}
}

// drain counts the hits left in the queue, until one fails or drainFor is
// over; the rest are dropped, and logged.
func (r *Recorder) drain(ctx context.Context) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainFor)
	defer cancel()
	for {
		select {
		case h := <-r.queue:
			if dctx.Err() != nil || !r.record(dctx, h) {
				left := len(r.queue) + 1 // with h
				r.dropped.Add(int64(left))
				r.Log.Warn("stopped before counting every hit; the rest are dropped", "dropped", left)
				return
			}
		default:
			return
		}
	}
}

// record counts one hit, and reports whether Redis took it. A Redis that
// keeps failing is logged once every warnEvery, with the hits lost.
func (r *Recorder) record(ctx context.Context, h Hit) bool {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	counted, client, err := r.Counter.Record(rctx, h)
	if err != nil {
		r.failed++
		if now := time.Now(); now.Sub(r.lastWarn) >= warnEvery {
			r.Log.Warn("cannot count downloads", "episode", h.Episode, "hits_not_counted", r.failed, "err", err)
			r.failed, r.lastWarn = 0, now
		}
		return false
	}
	if counted && r.Counted != nil {
		r.Counted(h, client)
	}
	return true
}
