package workers_test

import (
	"context"
	"log"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline/memstore"
	"github.com/prodcast/prodcast/workers"
)

// A worker on Redis, and the client that queues a rebuild of the root
// show's feed and pages for it.
func Example() {
	ctx := context.Background()
	redis := asynq.RedisClientOpt{Addr: "127.0.0.1:6379"}
	h := &workers.Handlers{Store: memstore.New(), Client: asynq.NewClient(redis), BaseURL: "https://podcast.example.com", Log: slog.Default()}
	go func() {
		if err := workers.Run(ctx, redis, h, workers.ServerConfig{Concurrency: 2}); err != nil {
			log.Fatal(err)
		}
	}()
	q := workers.NewClient(redis)
	defer q.Close()
	if err := q.EnqueueRebuild(ctx, "", false); err != nil {
		log.Fatal(err)
	}
}
