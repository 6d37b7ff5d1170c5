package workers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// mustLocker is a RedisLocker on an in-memory Redis whose clock the test
// moves; the real redis-server runs the same lock in the e2e tests.
func mustLocker(tb testing.TB) (RedisLocker, *miniredis.Miniredis) {
	tb.Helper()
	mr := miniredis.RunT(tb)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	tb.Cleanup(func() { rc.Close() })
	return RedisLocker{Client: rc}, mr
}

func TestLease(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		l, mr := mustLocker(t)
		lease, err := l.Lock(ctx, "k", 300*time.Millisecond)
		if err != nil || lease == nil {
			t.Fatalf("Lock: %v %v", lease, err)
		}
		if other, _ := l.Lock(ctx, "k", time.Second); other != nil {
			t.Fatal("a second holder got a held lock")
		}
		// Renewed past its TTL while held.
		time.Sleep(700 * time.Millisecond)
		if err := lease.Check(ctx); err != nil {
			t.Fatalf("Check after renewals: %v", err)
		}
		lease.Release()
		if mr.Exists("k") {
			t.Error("Release left the key")
		}
		if next, _ := l.Lock(ctx, "k", time.Second); next == nil {
			t.Error("the lock cannot be taken after Release")
		}
	})
	t.Run("ErrLeaseLost", func(t *testing.T) {
		l, mr := mustLocker(t)
		lease, _ := l.Lock(ctx, "k", time.Minute)
		// Another holder took over after our lease expired (a frozen
		// process): our writes must be fenced off, and our context ends.
		mr.Set("k", "other:1:token")
		if err := lease.Check(ctx); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("Check: %v, want ErrLeaseLost", err)
		}
		select {
		case <-lease.Context().Done():
		case <-time.After(time.Second):
			t.Fatal("the lease's context was not cancelled")
		}
		lease.Release()
		if v, _ := mr.Get("k"); v != "other:1:token" {
			t.Error("Release removed another holder's lock")
		}
	})
	t.Run("ErrLeaseLost/Expired", func(t *testing.T) {
		l, mr := mustLocker(t)
		lease, _ := l.Lock(ctx, "k", time.Minute)
		mr.FastForward(2 * time.Minute)
		if err := lease.Check(ctx); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("Check: %v, want ErrLeaseLost", err)
		}
	})
}

func TestParseHolder(t *testing.T) {
	h := Holder{Host: "web-1.example:2", PID: 42, Token: "abc"}
	got, ok := ParseHolder(h.String())
	if !ok || got != h {
		t.Fatalf("ParseHolder(%q) = %+v, %v", h.String(), got, ok)
	}
	for _, bad := range []string{"", "x", "a:b:c", "host:12"} {
		if _, ok := ParseHolder(bad); ok {
			t.Errorf("ParseHolder(%q) took it", bad)
		}
	}
}
