package workers

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"go.uber.org/goleak"

	"github.com/prodcast/prodcast/pipeline/memstore"
)

// TestRunLeavesNothing: a worker stopped by its context leaves no
// goroutine behind (asynq's servers, the lanes, the reconciler, the
// scheduler). The Redis is miniredis, in this process, so that its own
// goroutines are known before the check; the e2e tests stop real workers
// on real Redis.
func TestRunLeavesNothing(t *testing.T) {
	mr := miniredis.RunT(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	redis := asynq.RedisClientOpt{Addr: mr.Addr()}
	client := asynq.NewClient(redis)
	defer client.Close()
	h := &Handlers{Store: memstore.New(), Client: client, TempDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, redis, h, ServerConfig{Concurrency: 1, ShutdownTimeout: time.Second, ReconcileEvery: 100 * time.Millisecond})
	}()
	time.Sleep(time.Second)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop within 30 s of its context")
	}
}
