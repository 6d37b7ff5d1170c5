package workers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/internal/fetch"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// The task types that tell the world.
const (
	// TypeFeedNotify is sent after a rebuild that changed a show's feed;
	// requests are grouped per show, so ten episodes published together
	// give one notification. It sends one TypeNotifyPing per target.
	TypeFeedNotify = "feed:notify"
	// TypeNotifyPing tells one target (a WebSub hub, a pubnotify URL,
	// podping) that a feed changed, with its own retries.
	TypeNotifyPing = "notify:ping"
	// TypeWebhook delivers one episode event to one webhook.
	TypeWebhook = "webhook:deliver"
	// TypeBundleRefused reports a bundle the watcher refused at the door,
	// for the show's webhooks.
	TypeBundleRefused = "bundle:refused"
	// TypePitchReceived announces a guest's pitch to the show's webhooks.
	TypePitchReceived = "pitch:received"
)

// PitchEvent is what a webhook is told of a pitch: enough to triage it,
// with the desk's address for the rest (the guest's email stays there).
type PitchEvent struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Role    string   `json:"role,omitempty"`
	Company string   `json:"company,omitempty"`
	Topics  []string `json:"topics,omitempty"`
	DeskURL string   `json:"desk_url"`
}

// PitchPayload is a pitch to announce.
type PitchPayload struct {
	Show  string     `json:"show,omitempty"`
	Pitch PitchEvent `json:"pitch"`
	// Since, when set, makes this a digest: the pitches received from
	// then on, with the inbox's address.
	Since    time.Time `json:"since,omitzero"`
	InboxURL string    `json:"inbox_url,omitempty"`
}

// EnqueuePitch announces a pitch to the show's webhooks.
func (c *Client) EnqueuePitch(ctx context.Context, show string, p PitchEvent) error {
	t, err := newTask(TypePitchReceived, PitchPayload{Show: show, Pitch: p}, asynq.Queue(QueueSite), asynq.MaxRetry(notifyTries))
	if err != nil {
		return err
	}
	return enqueue(ctx, c.asynq, t)
}

// EnqueuePitchDigest announces, at until, the pitches a show received from since
// on, in one pitch.received event: the pitches that came after the one
// announced at once, so that a flood of pitches sends one webhook a
// window, not one a pitch. Asking again for the same window does nothing.
func (c *Client) EnqueuePitchDigest(ctx context.Context, show string, since, until time.Time, inboxURL string) error {
	t, err := newTask(TypePitchReceived, PitchPayload{Show: show, Since: since, InboxURL: inboxURL},
		asynq.Queue(QueueSite), asynq.MaxRetry(notifyTries), asynq.ProcessAt(until),
		asynq.TaskID(fmt.Sprintf("pitch-digest:%s:%d", show, until.Unix())), asynq.Retention(time.Hour))
	if err != nil {
		return err
	}
	return enqueue(ctx, c.asynq, t)
}

// AnnouncePitch handles pitch:received: a pitch.received event, for one
// pitch or for the pitches of a digest's window.
func (h *Handlers) AnnouncePitch(ctx context.Context, t *asynq.Task) error {
	var p PitchPayload
	if err := decode(t, &p); err != nil {
		return err
	}
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	if p.Since.IsZero() {
		return h.send(ctx, show, Event{Event: "pitch.received", Show: show.Name, Title: p.Pitch.Name,
			URL: p.Pitch.DeskURL, At: h.now(), Pitch: &p.Pitch})
	}
	cat := h.Catalog(p.Show)
	objs, err := h.Store.List(ctx, cat.Keys.PitchesPrefix())
	if err != nil {
		return err
	}
	from := cat.Keys.PitchKey(p.Since.UTC().Format("20060102T150405Z"))
	n := 0
	for _, o := range objs {
		if o.Key >= strings.TrimSuffix(from, ".json") {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	title := fmt.Sprintf("%d more pitches", n)
	if n == 1 {
		title = "1 more pitch"
	}
	return h.send(ctx, show, Event{Event: "pitch.received", Show: show.Name, Title: title, URL: p.InboxURL, At: h.now()})
}

// RefusedPayload is a bundle the watcher refused.
type RefusedPayload struct {
	Show    string `json:"show,omitempty"`
	Bundle  string `json:"bundle"`
	Problem string `json:"problem"`
	Fix     string `json:"fix,omitempty"`
}

// EnqueueRefused reports a bundle the watcher refused, for the show's webhooks.
func (c *Client) EnqueueRefused(ctx context.Context, show, name, problem, fix string) error {
	t, err := newTask(TypeBundleRefused, RefusedPayload{Show: show, Bundle: name, Problem: problem, Fix: fix},
		asynq.Queue(QueueSite), asynq.MaxRetry(notifyTries))
	if err != nil {
		return err
	}
	return enqueue(ctx, c.asynq, t)
}

// BundleRefused handles bundle:refused: a bundle.failed event.
func (h *Handlers) BundleRefused(ctx context.Context, t *asynq.Task) error {
	var p RefusedPayload
	if err := decode(t, &p); err != nil {
		return err
	}
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	return h.emit(ctx, show, "bundle.failed", &pipeline.Manifest{Meta: pipeline.Meta{Title: p.Bundle}}, p.Problem+"\nHow to fix it: "+p.Fix)
}

// notifyTries is how often a target is tried before it is given up on
// (about an hour with the backoff); a target never holds up a publish.
const notifyTries = 10

// NotifyPayload names a show whose feed changed.
type NotifyPayload struct {
	Show string `json:"show,omitempty"`
}

// PingPayload is one notification of one target.
type PingPayload struct {
	Show string `json:"show,omitempty"`
	Kind string `json:"kind"` // websub, pubnotify, podping
	URL  string `json:"url"`
}

// WebhookPayload is one event for one webhook. The secret is not in it: it
// is read from show.yaml when the event is delivered.
type WebhookPayload struct {
	Show string          `json:"show,omitempty"`
	URL  string          `json:"url"`
	Body json.RawMessage `json:"body"`
}

// Event is the JSON body a webhook receives.
type Event struct {
	Event string    `json:"event"` // episode.published, episode.updated, episode.unpublished, episode.deleted, bundle.failed, pitch.received
	Show  string    `json:"show"`
	Slug  string    `json:"slug"`
	GUID  string    `json:"guid"`
	Title string    `json:"title"`
	URL   string    `json:"url"`
	At    time.Time `json:"at"`
	Error string    `json:"error,omitempty"` // bundle.failed: what ERROR.txt says
	// Pitch is the pitch of a pitch.received event.
	Pitch *PitchEvent `json:"pitch,omitempty"`
}

func notifyGroup(show string) string { return "notify:" + show }

// NewNotifyTask returns a request to tell a show's targets that its feed
// changed.
func NewNotifyTask(show string) (*asynq.Task, error) {
	return newTask(TypeFeedNotify, NotifyPayload{Show: show}, asynq.Queue(QueueSite), asynq.Group(notifyGroup(show)),
		asynq.MaxRetry(maxRetry))
}

// notifyClient calls the targets the operator configured (webhooks,
// WebSub hubs, pubnotify, Podping): each call has a timeout and reads at
// most 1 MiB, and a target's redirect may not lead to a private address.
var notifyClient = fetch.New(fetch.Options{Timeout: 10 * time.Second, MaxBytes: 1 << 20})

// FeedNotify handles feed:notify: one ping task per target of the show.
func (h *Handlers) FeedNotify(ctx context.Context, t *asynq.Task) error {
	var p NotifyPayload
	if err := decode(t, &p); err != nil {
		return err
	}
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	targets := show.Targets()
	var pings []PingPayload
	for _, u := range targets.WebSubHubs {
		pings = append(pings, PingPayload{Show: p.Show, Kind: "websub", URL: u})
	}
	for _, u := range targets.PubnotifyURLs {
		pings = append(pings, PingPayload{Show: p.Show, Kind: "pubnotify", URL: u})
	}
	if targets.PodpingToken != "" {
		pings = append(pings, PingPayload{Show: p.Show, Kind: "podping", URL: pipeline.PodpingURL})
	}
	for _, ping := range pings {
		if err := h.enqueue(ctx)(newTask(TypeNotifyPing, ping, asynq.Queue(QueueSite), asynq.MaxRetry(notifyTries))); err != nil {
			return err
		}
	}
	return nil
}

// Ping handles notify:ping.
func (h *Handlers) Ping(ctx context.Context, t *asynq.Task) error {
	var p PingPayload
	if err := decode(t, &p); err != nil {
		return err
	}
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	feed := show.FeedURL()
	var req *http.Request
	switch p.Kind {
	case "websub":
		form := url.Values{"hub.mode": {"publish"}, "hub.url": {feed}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, p.URL, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case "pubnotify", "podping":
		u, perr := url.Parse(p.URL)
		if perr != nil {
			return fmt.Errorf("bad %s URL %q: %v: %w", p.Kind, p.URL, perr, asynq.SkipRetry)
		}
		q := u.Query()
		q.Set("url", feed)
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil && p.Kind == "podping" {
			req.Header.Set("Authorization", show.Targets().PodpingToken)
		}
	default:
		return fmt.Errorf("unknown notify kind %q: %w", p.Kind, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("cannot make the %s request: %v: %w", p.Kind, err, asynq.SkipRetry)
	}
	return h.call(ctx, p.Show, p.Kind, p.URL, req)
}

// Webhook handles webhook:deliver: the event's body, signed with the
// webhook's secret (X-Prodcast-Signature: sha256=<hex HMAC-SHA256>).
func (h *Handlers) Webhook(ctx context.Context, t *asynq.Task) error {
	var p WebhookPayload
	if err := decode(t, &p); err != nil {
		return err
	}
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	secret := ""
	for _, w := range show.Targets().Webhooks {
		if w.URL == p.URL {
			secret = w.Secret
		}
	}
	if secret == "" {
		h.Log.Warn("webhook no longer in show.yaml; event dropped", "show", p.Show, "url", p.URL)
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return fmt.Errorf("cannot make the webhook request: %v: %w", err, asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Prodcast-Signature", Sign(secret, p.Body))
	return h.call(ctx, p.Show, "webhook", p.URL, req)
}

// Sign is the X-Prodcast-Signature of a webhook body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// NotifyResult is the last notification of one target, for `prodcast status`.
type NotifyResult struct {
	Kind      string    `json:"kind"`
	URL       string    `json:"url"`
	At        time.Time `json:"at"`
	Answer    string    `json:"answer"` // the HTTP status, or the error
	OK        bool      `json:"ok"`
	Tries     int       `json:"tries"`
	NextRetry time.Time `json:"next_retry,omitempty"`
}

// NotifyKey is where the last notification of a target is kept.
func NotifyKey(private, kind, target string) string {
	sum := sha256.Sum256([]byte(kind + " " + target))
	return private + "notify/" + kind + "-" + hex.EncodeToString(sum[:6]) + ".json"
}

// call sends req and records the answer; a failure is retried with
// backoff, and never touches the show's episodes.
func (h *Handlers) call(ctx context.Context, show, kind, target string, req *http.Request) error {
	req.Header.Set("User-Agent", "prodcast (+https://github.com/prodcast/prodcast)")
	res := NotifyResult{Kind: kind, URL: target, At: h.now()}
	n, _ := asynq.GetRetryCount(ctx)
	res.Tries = n + 1
	resp, err := notifyClient.Do(req, fetch.Configured)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		res.Answer = resp.Status
		res.OK = resp.StatusCode < 300
		if !res.OK {
			err = fmt.Errorf("%s %s answered %s", kind, target, resp.Status)
		}
	} else {
		res.Answer = err.Error()
	}
	if maxN, _ := asynq.GetMaxRetry(ctx); err != nil && n < maxN {
		res.NextRetry = h.now().Add(retryDelay(n+1, err, nil))
	}
	data, _ := json.MarshalIndent(res, "", "  ")
	key := NotifyKey(h.Catalog(show).Keys.Private(), kind, target)
	if perr := h.Store.PutBytes(ctx, key, data, s3.Put{ContentType: "application/json"}); perr != nil && !errors.Is(perr, context.Canceled) {
		h.Log.Warn("cannot record a notification", "show", show, "err", perr)
	}
	if err != nil {
		h.Log.Warn("notification failed; retrying", "show", show, "kind", kind, "url", target, "err", err, "try", res.Tries)
		return err
	}
	h.Log.Info("notified", "show", show, "kind", kind, "url", target, "answer", res.Answer)
	return nil
}

// emit sends an episode event to each webhook of the show.
func (h *Handlers) emit(ctx context.Context, show *pipeline.Show, event string, m *pipeline.Manifest, problem string) error {
	return h.send(ctx, show, Event{Event: event, Show: show.Name, Slug: m.Slug, GUID: m.GUID, Title: m.Meta.Title,
		URL: show.EpisodeURL(m.Slug), At: h.now(), Error: problem})
}

// send delivers an event to each webhook of the show, as one task each.
func (h *Handlers) send(ctx context.Context, show *pipeline.Show, ev Event) error {
	hooks := show.Targets().Webhooks
	if len(hooks) == 0 {
		return nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	for _, w := range hooks {
		t, err := newTask(TypeWebhook, WebhookPayload{Show: show.Name, URL: w.URL, Body: body}, asynq.Queue(QueueSite), asynq.MaxRetry(notifyTries))
		if err := h.enqueue(ctx)(t, err); err != nil {
			return err
		}
	}
	return nil
}
