package desk

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter counts events per key in fixed windows: the failed logins of an
// address, the pitches of an address.
type Limiter interface {
	// Allow counts one event for key and reports whether it is within n per
	// window; when it is not, retry says how long until the window ends.
	Allow(ctx context.Context, key string, n int, window time.Duration) (ok bool, retry time.Duration, err error)
	// Count reports the events counted for key in the current window.
	Count(ctx context.Context, key string) (int, error)
	// Release gives back one event counted for key by Allow: the slot of
	// an attempt that did not count against the limit after all.
	Release(ctx context.Context, key string) error
	// Reset forgets key.
	Reset(ctx context.Context, key string) error
}

// LimitKey is what the limits count an address under: an IPv4 address
// itself, an IPv6 address by its /64, the smallest block one subscriber
// is given.
func LimitKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// RedisLimiter keeps the counts in Redis, so that every serve process
// shares them.
type RedisLimiter struct {
	Client redis.UniversalClient
	Prefix string // e.g. "prodcast:limit:"
}

var allowScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
`)

// Allow implements Limiter.
func (l RedisLimiter) Allow(ctx context.Context, key string, n int, window time.Duration) (bool, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	res, err := allowScript.Run(ctx, l.Client, []string{l.Prefix + key}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	return res[0] <= int64(n), time.Duration(res[1]) * time.Millisecond, nil
}

var releaseScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return n
`)

// Release implements Limiter.
func (l RedisLimiter) Release(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return releaseScript.Run(ctx, l.Client, []string{l.Prefix + key}).Err()
}

// Count implements Limiter.
func (l RedisLimiter) Count(ctx context.Context, key string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	n, err := l.Client.Get(ctx, l.Prefix+key).Int()
	if err == redis.Nil {
		return 0, nil
	}
	return n, err
}

// Reset implements Limiter.
func (l RedisLimiter) Reset(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return l.Client.Del(ctx, l.Prefix+key).Err()
}

// MemoryLimiter keeps the counts in this process: for a serve without
// Redis, and for tests.
type MemoryLimiter struct {
	Now func() time.Time

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	n   int
	end time.Time
}

func (l *MemoryLimiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(ctx context.Context, key string, n int, d time.Duration) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.windows == nil {
		l.windows = map[string]*window{}
	}
	if len(l.windows) > 100000 { // forget the ended windows
		for k, w := range l.windows {
			if !now.Before(w.end) {
				delete(l.windows, k)
			}
		}
	}
	w := l.windows[key]
	if w == nil || !now.Before(w.end) {
		w = &window{end: now.Add(d)}
		l.windows[key] = w
	}
	w.n++
	return w.n <= n, w.end.Sub(now), nil
}

// Count implements Limiter.
func (l *MemoryLimiter) Count(ctx context.Context, key string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.windows[key]; w != nil && l.now().Before(w.end) {
		return w.n, nil
	}
	return 0, nil
}

// Release implements Limiter.
func (l *MemoryLimiter) Release(ctx context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.windows[key]; w != nil && w.n > 0 {
		w.n--
	}
	return nil
}

// Reset implements Limiter.
func (l *MemoryLimiter) Reset(ctx context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, key)
	return nil
}
