package desk

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// limiters are both Limiters: in memory, and in the Redis that `make test`
// starts (each test under a key prefix of its own).
func limiters(t *testing.T) map[string]Limiter {
	addr := os.Getenv("PRODCAST_TEST_REDIS_ADDR")
	if addr == "" {
		t.Fatal("PRODCAST_TEST_REDIS_ADDR is not set: run `make test`, which starts redis-server")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	b := make([]byte, 8)
	rand.Read(b)
	return map[string]Limiter{
		"Memory": &MemoryLimiter{},
		"Redis":  RedisLimiter{Client: rdb, Prefix: "test:" + hex.EncodeToString(b) + ":"},
	}
}

// TestLimiterRace: of many events at once for one key, exactly n are
// allowed; Release gives one slot back, Reset all.
func TestLimiterRace(t *testing.T) {
	for name, l := range limiters(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if ok, _, err := l.Allow(ctx, "k", 10, time.Minute); err != nil {
						t.Error(err)
					} else if ok {
						allowed.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := allowed.Load(); n != 10 {
				t.Errorf("50 events at once against a limit of 10: %d allowed", n)
			}
			if n, _ := l.Count(ctx, "k"); n != 50 {
				t.Errorf("counted %d, want 50", n)
			}
			l.Release(ctx, "k")
			if n, _ := l.Count(ctx, "k"); n != 49 {
				t.Errorf("after Release: %d, want 49", n)
			}
			l.Release(ctx, "none") // nothing to give back: no error, no negative count
			if n, _ := l.Count(ctx, "none"); n != 0 {
				t.Errorf("Release of an unknown key left %d", n)
			}
			l.Reset(ctx, "k")
			if ok, _, _ := l.Allow(ctx, "k", 10, time.Minute); !ok {
				t.Error("after Reset the key is still limited")
			}
		})
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::1":      "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
	} {
		if got := LimitKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("LimitKey(%s) = %s, want %s", in, got, want)
		}
	}
}
