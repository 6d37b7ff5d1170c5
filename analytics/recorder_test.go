package analytics

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// syncBuffer is a log the recorder's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func appHit(i int) Hit {
	return Hit{Episode: "ep", IP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
		UA: "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", Bytes: 200_000, Size: 1_000_000, Duration: 600,
		At: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
}

// TestRecorderStops: a stopping serve counts the hits it queued; with
// Redis gone it stops at the first that fails and drops the rest, rather
// than waiting on Redis for each (16,384 of them took serve most of an
// hour to stop), and a Redis that keeps failing is logged once, not once
// a hit.
func TestRecorderStops(t *testing.T) {
	stop := func(t *testing.T, r *Recorder) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("the recorder did not stop within a minute")
		}
	}
	t.Run("OK", func(t *testing.T) {
		mr := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		defer rdb.Close()
		var log syncBuffer
		r := NewRecorder(NewCounter(rdb), 100, slog.New(slog.NewTextHandler(&log, nil)))
		counted := 0
		r.Counted = func(Hit, Client) { counted++ }
		for i := range 100 {
			r.Add(appHit(i))
		}
		stop(t, r)
		if counted != 100 || r.dropped.Load() != 0 {
			t.Errorf("stopping with 100 hits queued: %d counted, %d dropped; want all counted\n%s", counted, r.dropped.Load(), log.String())
		}
	})
	t.Run("ErrRedisGone", func(t *testing.T) {
		mr := miniredis.RunT(t)
		addr := mr.Addr()
		mr.Close()
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		defer rdb.Close()
		var log syncBuffer
		r := NewRecorder(NewCounter(rdb), 1000, slog.New(slog.NewTextHandler(&log, nil)))
		for i := range 1000 {
			r.Add(appHit(i))
		}
		stop(t, r)
		if r.dropped.Load() != 1000 || !strings.Contains(log.String(), "dropped=1000") {
			t.Errorf("stopping with Redis gone: %d dropped; want the 1,000 queued, logged\n%s", r.dropped.Load(), log.String())
		}
	})
	t.Run("ErrRedisDown", func(t *testing.T) {
		mr := miniredis.RunT(t)
		addr := mr.Addr()
		mr.Close()
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer rdb.Close()
		var log syncBuffer
		r := NewRecorder(NewCounter(rdb), 100, slog.New(slog.NewTextHandler(&log, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		for i := range 20 {
			r.Add(appHit(i))
		}
		for i := 0; len(r.queue) > 0 && i < 600; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		<-done
		if n := strings.Count(log.String(), "cannot count downloads"); n != 1 {
			t.Errorf("20 hits with Redis down logged %d warnings, want one:\n%s", n, log.String())
		}
	})
}
