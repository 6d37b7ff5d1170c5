package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// Ingest makes sure a live ingest task exists for a bundle. A finished or
// archived task of the same bundle is replaced, so a bundle moved back from
// failed/ is tried again.
func (c *Client) Ingest(ctx context.Context, id, name string, files []pipeline.BundleFile) error {
	t, err := NewIngestTask(IngestPayload{BundleID: id, Bundle: name, Files: files})
	if err != nil {
		return err
	}
	_, err = c.asynq.EnqueueContext(ctx, t)
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		if err != nil {
			return fmt.Errorf("cannot enqueue bundle %q: %w", name, err)
		}
		return nil
	}
	info, err := c.inspector.GetTaskInfo(QueueDefault, "ingest:"+id)
	if err != nil {
		return fmt.Errorf("cannot inspect ingest of bundle %q: %w", name, err)
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

// Rebuild asks for the feed and the pages to be rebuilt: those whose inputs
// changed, or with full every one.
func (c *Client) Rebuild(ctx context.Context, full bool) error {
	t, err := newRebuildTask(RebuildPayload{Reason: "requested", Full: full})
	if err != nil {
		return err
	}
	return enqueue(ctx, c.asynq, t)
}

// Reconcile re-enqueues the unfinished work the catalog records, so that a
// wiped or lost Redis loses nothing. Task IDs make it safe to run at every
// start, on every worker.
func Reconcile(ctx context.Context, h *Handlers) error {
	eps, err := h.Catalog.Manifests(ctx)
	if err != nil {
		return err
	}
	send := h.enqueue(ctx)
	for _, m := range eps {
		switch {
		case m.NeedsEncode():
			err = send(NewEncodeTask(m.Slug, m.BundleID, m.Original.SHA256))
		case m.State == pipeline.StateEncoded:
			err = send(NewPublishTask(m.Slug, m.BundleID, time.Time{}))
		case m.State == pipeline.StateScheduled && m.Meta.PublishAt != nil:
			err = send(NewPublishTask(m.Slug, "", *m.Meta.PublishAt))
		}
		if err != nil {
			return err
		}
	}
	return send(NewRebuildTask("start"))
}

// Encode asks for an episode's original to be encoded (and then published).
func (c *Client) Encode(ctx context.Context, slug, sha256 string) error {
	t, err := NewEncodeTask(slug, "", sha256)
	if err != nil {
		return err
	}
	return enqueue(ctx, c.asynq, t)
}
