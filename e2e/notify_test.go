package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prodcast/prodcast/workers"
)

// recorder is a local HTTP server that records what it receives: the hubs,
// Podcast Index and webhook receivers are outside this network, so this is
// the one place a fake stands in. fails makes the first requests answer 500.
type recorder struct {
	mu    sync.Mutex
	reqs  []recorded
	fails map[string]int // by path: how many requests answer 500 first
}

type recorded struct {
	Method, Path, Query, ContentType, Signature string
	Form                                        url.Values
	Body                                        []byte
	At                                          time.Time
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r2 := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
		Signature: r.Header.Get("X-Prodcast-Signature"), Body: body, At: time.Now()}
	r2.Form, _ = url.ParseQuery(string(body))
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r2)
	fail := rec.fails[r.URL.Path] > 0
	if fail {
		rec.fails[r.URL.Path]--
	}
	rec.mu.Unlock()
	if fail {
		http.Error(w, "hub down", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rec *recorder) at(path string) []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []recorded
	for _, r := range rec.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// TestNotify publishes into a show whose notify: block names a WebSub hub
// (that answers 500 three times), a pubnotify URL and a webhook, all local
// recorders: the feed names the hub, each target gets its request in the
// form it expects, the webhook's signature verifies, and the failing hub
// is retried without holding the episode back.
func TestNotify(t *testing.T) {
	rec := &recorder{fails: map[string]int{"/hub": 3}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	env := MustShowEnv(t, "notify:\n  websub_hubs: ["+srv.URL+"/hub]\n  pubnotify_urls: ["+srv.URL+"/pubnotify]\n"+
		"  webhooks: [{url: "+srv.URL+"/hook, secret: s3cret}]\n")
	StartRoles(t, env)
	feedURL := env.URL("/feed.xml")
	// The first, empty feed is a change too: wait for its notification.
	WaitFor(t, 60*time.Second, "the first feed's pubnotify", func() bool { return len(rec.at("/pubnotify")) == 1 })
	for _, dir := range MustBacklog(t, 3, "notify") {
		MoveIn(t, env.Data, dir)
	}
	WaitFor(t, 90*time.Second, "three items in the feed", func() bool { return FeedItems(feedURL) == 3 })
	published := time.Now()
	_, feed := Get(t, feedURL)
	if !strings.Contains(string(feed), `<atom:link rel="hub" href="`+srv.URL+`/hub"></atom:link>`) {
		t.Errorf("the feed does not name its hub")
	}
	WaitFor(t, 90*time.Second, "the hub to get its notification after three 500s", func() bool {
		hub := rec.at("/hub")
		return len(hub) >= 4
	})
	time.Sleep(3 * time.Second) // the last rebuilds' pings
	hub := rec.at("/hub")
	for _, r := range hub {
		if r.Method != http.MethodPost || r.ContentType != "application/x-www-form-urlencoded" ||
			r.Form.Get("hub.mode") != "publish" || r.Form.Get("hub.url") != feedURL {
			t.Errorf("WebSub request %s %s %v", r.Method, r.ContentType, r.Form)
		}
	}
	if hub[0].At.After(published.Add(30 * time.Second)) {
		t.Errorf("the first hub request came %s after the items were in the feed", hub[0].At.Sub(published))
	}
	pn := rec.at("/pubnotify")
	if len(pn) < 2 || pn[0].Method != http.MethodGet || pn[0].Query != "url="+url.QueryEscape(feedURL) {
		t.Errorf("pubnotify requests: %+v", pn)
	}
	// Three bundles dropped together: their rebuilds are grouped, and so
	// are the notifications of the feed changes they make.
	if len(pn)-1 > 2 {
		t.Errorf("three bundles dropped together gave %d pubnotify pings; notifications are not debounced", len(pn)-1)
	}
	WaitFor(t, 30*time.Second, "three webhook events", func() bool { return len(rec.at("/hook")) >= 3 })
	for _, r := range rec.at("/hook")[:3] {
		if r.Signature != workers.Sign("s3cret", r.Body) {
			t.Errorf("webhook signature %q does not verify", r.Signature)
		}
		var ev map[string]any
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatalf("webhook body: %v\n%s", err, r.Body)
		}
		for _, k := range []string{"event", "show", "slug", "guid", "title", "url", "at"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("webhook body lacks %q: %s", k, r.Body)
			}
		}
		if ev["event"] != "episode.published" || !strings.HasPrefix(ev["url"].(string), env.URL("/episodes/")) {
			t.Errorf("webhook event: %s", r.Body)
		}
	}
	// Refusals, by the watcher at the door and by a worker, are events too.
	must(t, os.MkdirAll(filepath.Join(env.Data, "drop", "empty-folder"), 0o755))
	bad := filepath.Join(t.TempDir(), "no-title")
	MustWrite(t, filepath.Join(bad, "episode.md"), "---\nslug: x\n---\n")
	MustSpeechWAV(t, filepath.Join(bad, "a.wav"), 2, 1)
	MoveIn(t, env.Data, bad)
	WaitFor(t, 60*time.Second, "two bundle.failed events", func() bool {
		n := 0
		for _, r := range rec.at("/hook") {
			if strings.Contains(string(r.Body), `"event":"bundle.failed"`) {
				n++
			}
		}
		return n == 2
	})
	for _, r := range rec.at("/hook") {
		if strings.Contains(string(r.Body), `"event":"bundle.failed"`) &&
			!strings.Contains(string(r.Body), "is empty") && !strings.Contains(string(r.Body), `has no \"title\"`) {
			t.Errorf("a bundle.failed event does not carry the ERROR.txt text: %s", r.Body)
		}
	}

	out, err := Run(t, env.Vars(), "status")
	if err != nil || !strings.Contains(out, "NOTIFICATIONS") || !strings.Contains(out, "websub "+srv.URL+"/hub: 204 No Content") {
		t.Errorf("status does not show the last notifications: %v\n%s", err, out)
	}
}
