package workers

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
)

// Client enqueues work; the watcher uses it to hand bundles to workers.
type Client struct {
	asynq     *asynq.Client
	inspector *asynq.Inspector
}

// NewClient connects to the queue's Redis.
func NewClient(redis asynq.RedisConnOpt) *Client {
	return &Client{asynq: asynq.NewClient(redis), inspector: asynq.NewInspector(redis)}
}

// Close closes the connections.
func (c *Client) Close() error {
	return errors.Join(c.asynq.Close(), c.inspector.Close())
}

// Asynq returns the underlying asynq client.
func (c *Client) Asynq() *asynq.Client { return c.asynq }

// EnqueueIngest makes sure a live ingest task exists for a bundle. A finished or
// archived task of the same bundle is replaced, so a bundle moved back from
// failed/ is tried again.
func (c *Client) EnqueueIngest(ctx context.Context, show, id, name string, files []pipeline.BundleFile) error {
	t, err := NewIngestTask(IngestPayload{Show: show, BundleID: id, Bundle: name, Files: files})
	if err != nil {
		return err
	}
	_, err = c.asynq.EnqueueContext(ctx, t)
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		if err != nil {
			return fmt.Errorf("cannot enqueue bundle %q: %w", name, redisErr(err))
		}
		return nil
	}
	info, err := c.inspector.GetTaskInfo(QueueDefault, IngestTaskID(id))
	if err != nil {
		return fmt.Errorf("cannot inspect ingest of bundle %q: %w", name, redisErr(err))
	}
	if info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted {
		return nil // still queued or running
	}
	if err := c.inspector.DeleteTask(QueueDefault, info.ID); err != nil {
		return fmt.Errorf("cannot replace old ingest of bundle %q: %w", name, err)
	}
	if _, err := c.asynq.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("cannot enqueue bundle %q: %w", name, err)
	}
	return nil
}

// EnsureIngest makes sure that a bundle still waiting for its outcome has
// an ingest task, live or finished. A task lost with a wiped Redis is sent
// again, and so is one an outage archived; either way the ingest resumes
// from what the catalog records, so nothing runs twice. It reports
// whether it sent the task again.
func (c *Client) EnsureIngest(ctx context.Context, show, id, name string, files []pipeline.BundleFile) (bool, error) {
	info, err := c.inspector.GetTaskInfo(QueueDefault, IngestTaskID(id))
	switch {
	case err == nil && info.State != asynq.TaskStateArchived:
		return false, nil // pending, active, retrying, or done: its stages carry on
	case err == nil:
		if err := c.inspector.DeleteTask(QueueDefault, info.ID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return false, fmt.Errorf("cannot replace archived ingest of bundle %q: %w", name, redisErr(err))
		}
	case !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound):
		return false, fmt.Errorf("cannot inspect ingest of bundle %q: %w", name, redisErr(err))
	}
	t, err := NewIngestTask(IngestPayload{Show: show, BundleID: id, Bundle: name, Files: files})
	if err != nil {
		return false, err
	}
	if _, err := c.asynq.EnqueueContext(ctx, t); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return false, nil
		}
		return false, fmt.Errorf("cannot enqueue bundle %q: %w", name, redisErr(err))
	}
	return true, nil
}

// EnqueueRebuild asks for a show's feed and pages to be rebuilt: those whose
// inputs changed, or with full every one.
func (c *Client) EnqueueRebuild(ctx context.Context, show string, full bool) error {
	t, err := newRebuildTask(RebuildPayload{Show: show, Reason: "requested", Full: full})
	if err != nil {
		return err
	}
	return enqueue(ctx, c.asynq, t)
}

// EnqueueEncode asks for an episode's original to be encoded (and then published).
func (c *Client) EnqueueEncode(ctx context.Context, show, slug, sha256 string) error {
	t, err := NewEncodeTask(show, slug, "", sha256)
	if err != nil {
		return err
	}
	return enqueue(ctx, c.asynq, t)
}
