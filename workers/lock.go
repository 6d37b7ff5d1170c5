package workers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrLeaseLost says that a lock expired or was taken over while its holder
// still worked: the holder must stop writing.
var ErrLeaseLost = errors.New("the lock was lost")

// Locker hands out leases: exclusive locks that live only while their
// holder renews them, so a lock dies with its holder.
type Locker interface {
	// Lock takes key for ttl and renews it until the lease is released.
	// It returns a nil Lease if someone else holds the key.
	Lock(ctx context.Context, key string, ttl time.Duration) (Lease, error)
}

// Lease is a held lock.
type Lease interface {
	// Context is cancelled when the lease is lost or released.
	Context() context.Context
	// Check fences a write: it returns ErrLeaseLost unless the lease is
	// still this holder's, so a holder that was paused past its TTL cannot
	// overwrite what a newer holder wrote.
	Check(ctx context.Context) error
	// Release gives the lock up.
	Release()
}

// Holder says who holds a lock: the value stored under its key.
type Holder struct {
	Host  string
	PID   int
	Token string
}

func (h Holder) String() string { return h.Host + ":" + strconv.Itoa(h.PID) + ":" + h.Token }

// ParseHolder reads a lock's value.
func ParseHolder(v string) (Holder, bool) {
	i := strings.LastIndexByte(v, ':')
	j := strings.LastIndexByte(v[:max(i, 0)], ':')
	if i < 0 || j < 0 {
		return Holder{}, false
	}
	pid, err := strconv.Atoi(v[j+1 : i])
	if err != nil {
		return Holder{}, false
	}
	return Holder{Host: v[:j], PID: pid, Token: v[i+1:]}, true
}

func newHolder() Holder {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	return Holder{Host: host, PID: os.Getpid(), Token: hex.EncodeToString(b)}
}

// RedisLocker is a Locker on the same Redis as the queue.
type RedisLocker struct {
	Client redis.UniversalClient
}

var _ Locker = RedisLocker{}

var (
	unlockScript = redis.NewScript(`
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0`)
	renewScript = redis.NewScript(`
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) end
return 0`)
)

// Lock implements Locker with SET NX PX, a value naming the holder, and a
// goroutine that renews the TTL every third of it.
func (l RedisLocker) Lock(ctx context.Context, key string, ttl time.Duration) (Lease, error) {
	h := newHolder()
	ok, err := l.Client.SetNX(ctx, key, h.String(), ttl).Result()
	if err != nil {
		return nil, fmt.Errorf("cannot take lock %q: %w", key, redisErr(err))
	}
	if !ok {
		return nil, nil
	}
	lctx, cancel := context.WithCancelCause(ctx)
	lease := &redisLease{l: l, key: key, value: h.String(), ttl: ttl, ctx: lctx, cancel: cancel, done: make(chan struct{})}
	go lease.renew()
	return lease, nil
}

type redisLease struct {
	l          RedisLocker
	key, value string
	ttl        time.Duration
	ctx        context.Context
	cancel     context.CancelCauseFunc
	done       chan struct{}
	once       sync.Once
}

func (s *redisLease) Context() context.Context { return s.ctx }

// renew extends the TTL while the lease is held. If the key holds another
// value, or Redis has not confirmed the lease for a whole TTL, the lease
// is lost and its context cancelled.
func (s *redisLease) renew() {
	tick := time.NewTicker(s.ttl / 3)
	defer tick.Stop()
	confirmed := time.Now()
	for {
		select {
		case <-s.done:
			return
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), s.ttl/3)
		n, err := renewScript.Run(rctx, s.l.Client, []string{s.key}, s.value, s.ttl.Milliseconds()).Int()
		cancel()
		switch {
		case err == nil && n == 1:
			confirmed = time.Now()
		case err == nil:
			s.cancel(ErrLeaseLost)
			return
		case time.Since(confirmed) >= s.ttl:
			s.cancel(fmt.Errorf("%w: Redis did not answer for %s: %v", ErrLeaseLost, s.ttl, err))
			return
		}
	}
}

func (s *redisLease) Check(ctx context.Context) error {
	if err := context.Cause(s.ctx); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrLeaseLost, err)
	}
	v, err := s.l.Client.Get(ctx, s.key).Result()
	if errors.Is(err, redis.Nil) || (err == nil && v != s.value) {
		s.cancel(ErrLeaseLost)
		return ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("cannot check lock %q: %w", s.key, redisErr(err))
	}
	return nil
}

func (s *redisLease) Release() {
	s.once.Do(func() {
		close(s.done)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
		defer cancel()
		_ = unlockScript.Run(rctx, s.l.Client, []string{s.key}, s.value).Err()
		s.cancel(context.Canceled)
	})
}
