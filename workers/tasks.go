package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
)

// The task types, one per stage.
const (
	TypeBundleIngest   = "bundle:ingest"
	TypeEpisodeEncode  = "episode:encode"
	TypeEpisodePublish = "episode:publish"
	TypeSiteRebuild    = "site:rebuild"
)

// Queue names.
const (
	QueueDefault = "default"
	QueueSite    = "site"
	siteGroup    = "site"
)

// IngestPayload names a bundle the watcher uploaded.
type IngestPayload struct {
	BundleID string                `json:"bundle_id"`
	Bundle   string                `json:"bundle"`
	Files    []pipeline.BundleFile `json:"files"`
}

// EpisodePayload names an episode and the bundle that last changed it.
type EpisodePayload struct {
	Slug     string `json:"slug"`
	BundleID string `json:"bundle_id"`
}

// NewIngestTask returns the task that ingests a bundle; its ID is the
// bundle's content hash, so a bundle is never ingested twice at once.
func NewIngestTask(p IngestPayload) (*asynq.Task, error) {
	return newTask(TypeBundleIngest, p, asynq.TaskID("ingest:"+p.BundleID), asynq.MaxRetry(10))
}

// NewEncodeTask returns the task that encodes an episode's original; its ID
// names the original's hash, so the same audio is encoded once.
func NewEncodeTask(slug, bundleID, sha256 string) (*asynq.Task, error) {
	return newTask(TypeEpisodeEncode, EpisodePayload{Slug: slug, BundleID: bundleID},
		asynq.TaskID("encode:"+slug+":"+short(sha256)), asynq.MaxRetry(5), asynq.Timeout(3*time.Hour))
}

// NewPublishTask returns the task that publishes an episode, at a time if
// at is not zero.
func NewPublishTask(slug, bundleID string, at time.Time) (*asynq.Task, error) {
	opts := []asynq.Option{asynq.TaskID("publish:" + slug + ":" + short(bundleID)), asynq.MaxRetry(10)}
	if !at.IsZero() {
		opts = []asynq.Option{asynq.TaskID(fmt.Sprintf("publish:%s:%d", slug, at.Unix())), asynq.ProcessAt(at), asynq.MaxRetry(10)}
	}
	return newTask(TypeEpisodePublish, EpisodePayload{Slug: slug, BundleID: bundleID}, opts...)
}

// RebuildPayload says why the feed and pages are rebuilt.
type RebuildPayload struct {
	Reason string `json:"reason"`
	// Full renders every page again, rather than only those whose inputs
	// changed since the worker's last rebuild.
	Full bool `json:"full,omitempty"`
}

// NewRebuildTask returns a request to rebuild the feed and pages. Requests
// are grouped and aggregated into one rebuild.
func NewRebuildTask(reason string) (*asynq.Task, error) {
	return newRebuildTask(RebuildPayload{Reason: reason})
}

func newRebuildTask(p RebuildPayload) (*asynq.Task, error) {
	return newTask(TypeSiteRebuild, p, asynq.Queue(QueueSite), asynq.Group(siteGroup), asynq.MaxRetry(20))
}

func newTask(typ string, payload any, opts ...asynq.Option) (*asynq.Task, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("cannot encode %s payload: %w", typ, err)
	}
	return asynq.NewTask(typ, data, opts...), nil
}

func decode(t *asynq.Task, v any) error {
	if err := json.Unmarshal(t.Payload(), v); err != nil {
		return fmt.Errorf("bad %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return nil
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}

// errBusy asks for a quick retry: another worker holds the rebuild lock.
var errBusy = errors.New("another rebuild is running")

// retryDelay backs off exponentially, but retries a busy rebuild soon.
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	if errors.Is(err, errBusy) {
		return time.Second
	}
	d := time.Duration(1<<min(n, 8)) * time.Second
	return min(d, 10*time.Minute)
}

// enqueue sends a task; a task with the same ID already queued is success.
func enqueue(ctx context.Context, c *asynq.Client, t *asynq.Task) error {
	if _, err := c.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("cannot enqueue %s: %w", t.Type(), err)
	}
	return nil
}
