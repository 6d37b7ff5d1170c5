package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
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
	Show     string                `json:"show,omitempty"` // "" for the root show
	BundleID string                `json:"bundle_id"`
	Bundle   string                `json:"bundle"`
	Files    []pipeline.BundleFile `json:"files"`
}

// EpisodePayload names an episode and the bundle that last changed it.
type EpisodePayload struct {
	Show     string `json:"show,omitempty"` // "" for the root show
	Slug     string `json:"slug"`
	BundleID string `json:"bundle_id"`
}

func (p EpisodePayload) episode() EpisodePayload { return p }

// episodeOf is every episode task's prologue: it decodes the task's
// payload into p (an *EpisodePayload, or a payload that embeds one) and
// reads the manifest of the episode it names, from its show's catalog.
func (h *Handlers) episodeOf(ctx context.Context, t *asynq.Task, p interface{ episode() EpisodePayload }) (*catalog.Catalog, *pipeline.Manifest, error) {
	if err := decode(t, p); err != nil {
		return nil, nil, err
	}
	e := p.episode()
	cat := h.Catalog(e.Show)
	m, err := cat.Manifest(ctx, e.Slug)
	return cat, m, err
}

// maxRetry is as good as "for as long as it takes": an outage of storage or
// Redis is waited out, never given up on (at most 30 s between tries, so
// about a month). Bad input does not retry at all: its handler reports it.
const maxRetry = 100_000

// ingestRetention keeps a finished ingest task in Redis as "completed", so
// the watcher can tell a bundle whose ingest finished (its later stages are
// in the catalog's hands) from one whose task was lost with a wiped Redis.
const ingestRetention = 24 * time.Hour

// IngestTaskID is the ID of a bundle's ingest task.
func IngestTaskID(bundleID string) string { return "ingest:" + bundleID }

// NewIngestTask returns the task that ingests a bundle; its ID is the
// bundle's content hash, so a bundle is never ingested twice at once.
func NewIngestTask(p IngestPayload) (*asynq.Task, error) {
	return newTask(TypeBundleIngest, p, asynq.TaskID(IngestTaskID(p.BundleID)), asynq.MaxRetry(maxRetry),
		asynq.Retention(ingestRetention))
}

// episodeID names an episode in task IDs: its slug, after its show's name
// for a show under shows/ (the root show's IDs are those of a single-show
// install).
func episodeID(show, slug string) string {
	if show == "" {
		return slug
	}
	return show + "/" + slug
}

// NewEncodeTask returns the task that encodes an episode's original; its ID
// names the original's hash, so the same audio is encoded once.
func NewEncodeTask(show, slug, bundleID, sha256 string) (*asynq.Task, error) {
	return newTask(TypeEpisodeEncode, EpisodePayload{Show: show, Slug: slug, BundleID: bundleID},
		asynq.TaskID("encode:"+episodeID(show, slug)+":"+short(sha256)), asynq.Queue(EncodeQueue(show)),
		asynq.MaxRetry(maxRetry), asynq.Timeout(3*time.Hour))
}

// NewPublishTask returns the task that publishes an episode, at a time if
// at is not zero.
func NewPublishTask(show, slug, bundleID string, at time.Time) (*asynq.Task, error) {
	id := episodeID(show, slug)
	opts := []asynq.Option{asynq.TaskID("publish:" + id + ":" + short(bundleID)), asynq.MaxRetry(maxRetry)}
	if !at.IsZero() {
		opts = []asynq.Option{asynq.TaskID(fmt.Sprintf("publish:%s:%d", id, at.Unix())), asynq.ProcessAt(at), asynq.MaxRetry(maxRetry)}
	}
	return newTask(TypeEpisodePublish, EpisodePayload{Show: show, Slug: slug, BundleID: bundleID}, opts...)
}

// RebuildPayload says which show's feed and pages are rebuilt, and why.
type RebuildPayload struct {
	Show   string `json:"show,omitempty"` // "" for the root show
	Reason string `json:"reason"`
	// Full renders every page again, rather than only those whose inputs
	// changed since the worker's last rebuild.
	Full bool `json:"full,omitempty"`
}

// NewRebuildTask returns a request to rebuild a show's feed and pages.
// Requests are grouped by show and aggregated into one rebuild.
func NewRebuildTask(show, reason string) (*asynq.Task, error) {
	return newRebuildTask(RebuildPayload{Show: show, Reason: reason})
}

func newRebuildTask(p RebuildPayload) (*asynq.Task, error) {
	return newTask(TypeSiteRebuild, p, asynq.Queue(QueueSite), asynq.Group(rebuildGroup(p.Show)), asynq.MaxRetry(maxRetry))
}

// rebuildGroup is the asynq group that gathers a show's rebuild requests.
func rebuildGroup(show string) string {
	if show == "" {
		return siteGroup
	}
	return siteGroup + ":" + show
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

// retryDelay backs off exponentially, but retries a busy rebuild soon. An
// outage is retried at least every 30 s, so that work resumes within a
// minute of the service coming back; other errors back off to 5 minutes.
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	if errors.Is(err, errBusy) {
		return time.Second
	}
	ceiling := 5 * time.Minute
	if pipeline.IsUnavailable(err) {
		ceiling = 30 * time.Second
	}
	d := time.Duration(1<<min(n, 9)) * time.Second
	// A little jitter, so the workers of a fleet do not retry in step.
	d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	return min(d, ceiling)
}

// Enqueuer sends tasks: an *asynq.Client.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

var _ Enqueuer = (*asynq.Client)(nil)

// enqueue sends a task; a task with the same ID already queued is success.
func enqueue(ctx context.Context, c Enqueuer, t *asynq.Task) error {
	if _, err := c.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("cannot enqueue %s: %w", t.Type(), redisErr(err))
	}
	return nil
}

// redisErr marks an error of a Redis that did not answer as an outage.
// asynq wraps the client's errors in its own, so the text is checked too.
func redisErr(err error) error {
	if err == nil || pipeline.IsUnavailable(err) {
		return err
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF) {
		return pipeline.Unavailable("Redis", err)
	}
	for _, s := range []string{"connection refused", "i/o timeout", "connection reset", "EOF", "LOADING", "broken pipe", "no route to host"} {
		if strings.Contains(err.Error(), s) {
			return pipeline.Unavailable("Redis", err)
		}
	}
	return err
}
