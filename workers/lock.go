package workers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Locker hands out short-lived exclusive locks.
type Locker interface {
	// Lock takes key for ttl. ok is false if someone else holds it.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// RedisLocker is a Locker on the same Redis as the queue.
type RedisLocker struct {
	Client redis.UniversalClient
}

var _ Locker = RedisLocker{}

var unlockScript = redis.NewScript(`
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0`)

// Lock implements Locker with SET NX PX and a random token.
func (l RedisLocker) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	ok, err := l.Client.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("cannot take lock %q: %w", key, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		_ = unlockScript.Run(context.WithoutCancel(ctx), l.Client, []string{key}, token).Err()
	}, true, nil
}
