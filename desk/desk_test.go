package desk

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
	"github.com/prodcast/prodcast/workers"
)

const testPassword = "correct horse battery"

// fakeQueue records what the desk asks of the workers.
type fakeQueue struct {
	mu        sync.Mutex
	lifecycle []string
	pitches   []workers.PitchEvent
	digests   map[string]bool // show and window end, as asynq's TaskID dedupes them
}

func (q *fakeQueue) EnqueuePitchDigest(ctx context.Context, show string, since, until time.Time, inboxURL string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.digests == nil {
		q.digests = map[string]bool{}
	}
	q.digests[show+" "+until.Truncate(time.Second).String()] = true
	return nil
}

func (q *fakeQueue) EnqueueLifecycle(ctx context.Context, typ, show, slug string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.lifecycle = append(q.lifecycle, typ+" "+show+"/"+slug)
	return nil
}

func (q *fakeQueue) EnqueuePitch(ctx context.Context, show string, p workers.PitchEvent) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pitches = append(q.pitches, p)
	return nil
}

// harness is a desk on an in-memory bucket, with a root show that has one
// published episode, and an account.
type harness struct {
	t      *testing.T
	desk   *Desk
	store  *memstore.Store
	queue  *fakeQueue
	data   string
	srv    *httptest.Server
	client *http.Client
	csrf   string
}

const showYAML = "title: Python in Production\ndescription: d\nauthor: a\nowner: {name: o, email: o@example.com}\ncategory: Technology\ntopics: [async, flask]\n"

func mustHarness(t *testing.T, tweak ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, store: memstore.New(), queue: &fakeQueue{}, data: t.TempDir()}
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(h.data, "show.yaml"), []byte(showYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(h.store)
	if err := cat.PutShow(ctx, []byte(showYAML)); err != nil {
		t.Fatal(err)
	}
	m := &pipeline.Manifest{Slug: "falcon-on-vms", State: pipeline.StatePublished, GUID: "g-1",
		Meta: pipeline.Meta{Title: "Falcon on VMs", Tags: []string{"falcon"}}, NotesMD: "Notes.", PublishedAt: time.Now()}
	if err := cat.PutManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := (Users{Path: filepath.Join(h.data, UsersFile)}).Add("ana", testPassword); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Data: h.data, Store: h.store, Queue: h.queue, BaseURL: "http://podcast.test", UploadMaxSize: 1 << 20,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ClientIP: testClientIP}
	for _, f := range tweak {
		f(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.desk = d
	mux := http.NewServeMux()
	mux.Handle("/admin/", d.Admin(map[string]http.Handler{"GET /admin/stats": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "charts")
	})}))
	mux.Handle("/pitch/", d.Pitch())
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	h.client = newClient()
	return h
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// do sends a request and returns the status and body.
func (h *harness) do(method, path string, form url.Values, header ...string) (int, string, http.Header) {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		h.csrf = m[1]
	}
	return resp.StatusCode, string(b), resp.Header
}

func (h *harness) sessionCookie() string {
	u, _ := url.Parse(h.srv.URL)
	for _, c := range h.client.Jar.Cookies(u) {
		if c.Name == "prodcast_desk" {
			return c.Value
		}
	}
	return ""
}

// mustLogin logs in as ana.
func (h *harness) mustLogin() {
	h.t.Helper()
	h.do("GET", "/admin/login", nil)
	code, _, hdr := h.do("POST", "/admin/login", url.Values{"username": {"ana"}, "password": {testPassword}, "csrf_token": {h.csrf}})
	if code != http.StatusSeeOther || hdr.Get("Location") != "/admin/" {
		h.t.Fatalf("login: %d to %q, want 303 to /admin/", code, hdr.Get("Location"))
	}
	h.do("GET", "/admin/", nil) // picks up the new CSRF token
}

// TestEveryRouteNeedsALogin tries each route of the desk without a
// session: a page redirects to the login form, the rest answers 401.
func TestEveryRouteNeedsALogin(t *testing.T) {
	h := mustHarness(t)
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/"}, {"GET", "/admin/shows/_/"}, {"GET", "/admin/shows/_/progress.json"},
		{"GET", "/admin/shows/_/failed/"}, {"POST", "/admin/shows/_/failed/x/retry"},
		{"GET", "/admin/shows/_/pitches/"}, {"GET", "/admin/shows/_/pitches/20260101T000000Z-00000000"},
		{"POST", "/admin/shows/_/pitches/20260101T000000Z-00000000/status"}, {"POST", "/admin/shows/_/pitches/20260101T000000Z-00000000/delete"},
		{"GET", "/admin/shows/_/new"}, {"POST", "/admin/shows/_/new"}, {"POST", "/admin/shows/_/drafts"},
		{"GET", "/admin/shows/_/episodes/falcon-on-vms/edit"}, {"POST", "/admin/shows/_/episodes/falcon-on-vms/edit"},
		{"POST", "/admin/shows/_/episodes/falcon-on-vms/unpublish"}, {"POST", "/admin/shows/_/episodes/falcon-on-vms/republish"},
		{"POST", "/admin/uploads/"}, {"HEAD", "/admin/uploads/abc"}, {"PATCH", "/admin/uploads/abc"}, {"DELETE", "/admin/uploads/abc"},
		{"GET", "/admin/queues/"}, {"GET", "/admin/stats"}, {"POST", "/admin/logout"}, {"GET", "/admin/nowhere"},
	} {
		code, body, hdr := h.do(r.method, r.path, url.Values{})
		switch {
		case code == http.StatusUnauthorized:
		case code == http.StatusSeeOther && strings.HasPrefix(hdr.Get("Location"), "/admin/login?next="):
		default:
			t.Errorf("%s %s without a session: %d %q, want 401 or a redirect to the login form", r.method, r.path, code, body)
		}
		if strings.Contains(body, "charts") || strings.Contains(body, "Falcon on VMs") {
			t.Errorf("%s %s leaked a private page", r.method, r.path)
		}
	}
	if len(h.queue.lifecycle) > 0 {
		t.Errorf("queued without a session: %v", h.queue.lifecycle)
	}
}

func TestLogin(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := mustHarness(t)
		h.do("GET", "/admin/login", nil)
		before := h.sessionCookie()
		if before != "" {
			t.Fatal("an anonymous visit to the login form stored a session")
		}
		req, _ := http.NewRequest("POST", h.srv.URL+"/admin/login", strings.NewReader(url.Values{"username": {"ana"},
			"password": {testPassword}, "csrf_token": {h.csrf}, "next": {"/admin/shows/_/"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/shows/_/" {
			t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		var c *http.Cookie
		for _, x := range resp.Cookies() {
			if x.Name == "prodcast_desk" {
				c = x
			}
		}
		if c == nil || c.Value == "" {
			t.Fatalf("no session started at login: %v", c)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, and not Secure under http", c)
		}
		if code, body, _ := h.do("GET", "/admin/shows/_/", nil); code != 200 || !strings.Contains(body, "Falcon on VMs") {
			t.Errorf("after login the episodes page answers %d", code)
		}
	})
	t.Run("SecureUnderHTTPS", func(t *testing.T) {
		h := mustHarness(t, func(c *Config) { c.BaseURL = "https://podcast.test" })
		req, _ := http.NewRequest("GET", h.srv.URL+"/admin/login", nil)
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(resp.Cookies()) == 0 || !resp.Cookies()[0].Secure {
			t.Errorf("under an https base URL the cookie must be Secure: %v", resp.Cookies())
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Error("under an https base URL the desk sends no HSTS")
		}
	})
	t.Run("SecureUnderShowHTTPS", func(t *testing.T) {
		// PRODCAST_BASE_URL is http, but a show.yaml's base_url is https.
		h := mustHarness(t, func(c *Config) { c.HTTPS = true })
		resp, err := h.client.Get(h.srv.URL + "/admin/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(resp.Cookies()) == 0 || !resp.Cookies()[0].Secure || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("an https public URL: cookies %v, HSTS %q; want Secure cookies and HSTS", resp.Cookies(), resp.Header.Get("Strict-Transport-Security"))
		}
		plain := mustHarness(t)
		resp, err = plain.client.Get(plain.srv.URL + "/admin/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS under an http public URL")
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		h := mustHarness(t)
		h.do("GET", "/admin/login", nil)
		code, body, _ := h.do("POST", "/admin/login", url.Values{"username": {"ana"}, "password": {"wrong password"}, "csrf_token": {h.csrf}})
		if code != http.StatusUnauthorized || !strings.Contains(body, "do not match") {
			t.Errorf("wrong password: %d", code)
		}
		if code, _, _ := h.do("GET", "/admin/", nil); code != http.StatusSeeOther {
			t.Errorf("a failed login opened the desk: %d", code)
		}
	})
	t.Run("ErrTooManyFailures", func(t *testing.T) {
		h := mustHarness(t)
		h.do("GET", "/admin/login", nil)
		for i := 0; i < loginTries; i++ {
			h.do("POST", "/admin/login", url.Values{"username": {"ana"}, "password": {"guess"}, "csrf_token": {h.csrf}})
		}
		code, body, hdr := h.do("POST", "/admin/login", url.Values{"username": {"ana"}, "password": {testPassword}, "csrf_token": {h.csrf}})
		if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed logins") {
			t.Errorf("after %d failures the right password gave %d, want 429 with Retry-After", loginTries, code)
		}
	})
	t.Run("ErrNoCSRF", func(t *testing.T) {
		h := mustHarness(t)
		h.do("GET", "/admin/login", nil)
		code, _, _ := h.do("POST", "/admin/login", url.Values{"username": {"ana"}, "password": {testPassword}})
		if code != http.StatusForbidden {
			t.Errorf("a login without its CSRF token: %d, want 403", code)
		}
	})
	t.Run("LegacyPassword", func(t *testing.T) {
		h := mustHarness(t, func(c *Config) { c.LegacyPassword = "old dashboard password" })
		h.do("GET", "/admin/login", nil)
		code, _, _ := h.do("POST", "/admin/login", url.Values{"username": {"admin"}, "password": {"old dashboard password"}, "csrf_token": {h.csrf}})
		if code != http.StatusSeeOther {
			t.Errorf("PRODCAST_ADMIN_PASSWORD login: %d, want 303", code)
		}
	})
	t.Run("NextStaysInTheDesk", func(t *testing.T) {
		for next, want := range map[string]string{"/admin/shows/_/": "/admin/shows/_/", "https://evil.test/": "", "//evil.test/admin/": "", "/admin/login": "", "/\\evil.test": ""} {
			if got := safeNext(next); got != want {
				t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
			}
		}
	})
}

// TestCSRF sends a state-changing request without a token, with a wrong
// one, and with the right one in the form and in the header.
func TestCSRF(t *testing.T) {
	h := mustHarness(t)
	h.mustLogin()
	path := "/admin/shows/_/episodes/falcon-on-vms/unpublish"
	if code, _, _ := h.do("POST", path, url.Values{}); code != http.StatusForbidden {
		t.Errorf("no token: %d, want 403", code)
	}
	if code, _, _ := h.do("POST", path, url.Values{"csrf_token": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("wrong token: %d, want 403", code)
	}
	if code, _, _ := h.do("POST", path, url.Values{}, "X-CSRF-Token", "forged"); code != http.StatusForbidden {
		t.Errorf("wrong header token: %d, want 403", code)
	}
	if len(h.queue.lifecycle) != 0 {
		t.Fatalf("a refused request queued work: %v", h.queue.lifecycle)
	}
	if code, _, _ := h.do("POST", path, url.Values{"csrf_token": {h.csrf}}); code != http.StatusSeeOther {
		t.Errorf("right token: %d, want 303", code)
	}
	if code, _, _ := h.do("POST", "/admin/shows/_/episodes/falcon-on-vms/republish", url.Values{}, "X-CSRF-Token", h.csrf); code != http.StatusSeeOther {
		t.Errorf("right header token: %d, want 303", code)
	}
	// The queue dashboard's script sends the token as X-XSRF-TOKEN; only
	// under /admin/queues/.
	if code, _, _ := h.do("POST", "/admin/queues/api/queues/default:pause", nil); code != http.StatusForbidden {
		t.Errorf("dashboard without a token: %d, want 403", code)
	}
	if code, _, _ := h.do("POST", "/admin/queues/api/queues/default:pause", nil, "X-XSRF-TOKEN", h.csrf); code == http.StatusForbidden {
		t.Errorf("dashboard with its token: refused")
	}
	if code, _, _ := h.do("POST", path, url.Values{}, "X-XSRF-TOKEN", h.csrf); code != http.StatusForbidden {
		t.Errorf("X-XSRF-TOKEN outside the dashboard: %d, want 403", code)
	}
	want := []string{workers.TypeEpisodeUnpublish + " /falcon-on-vms", workers.TypeEpisodeRepublish + " /falcon-on-vms"}
	if strings.Join(h.queue.lifecycle, ",") != strings.Join(want, ",") {
		t.Errorf("queued %v, want %v", h.queue.lifecycle, want)
	}
	if code, body, _ := h.do("GET", "/admin/shows/_/", nil); code != 200 || !strings.Contains(body, "republish of &#34;Falcon on VMs&#34; queued") {
		t.Errorf("the episodes page does not say what was queued: %d", code)
	}
}

// TestEditNotes saves notes edited in the desk as a notes-only bundle in
// drop/, which the watcher reads back as the same text.
func TestEditNotes(t *testing.T) {
	h := mustHarness(t)
	h.mustLogin()
	code, body, _ := h.do("GET", "/admin/shows/_/episodes/falcon-on-vms/edit", nil)
	if code != 200 || !strings.Contains(body, `value="Falcon on VMs"`) || !strings.Contains(body, `value="async"`) {
		t.Fatalf("edit form: %d", code)
	}
	xss := `<script>alert(1)</script>"'&`
	form := url.Values{"csrf_token": {h.csrf}, "title": {xss}, "guests": {"Sam <img src=x onerror=alert(1)> | SRE | https://example.com/sam"},
		"tag": {"async"}, "more_tags": {"docker, <b>x</b>"}, "publish_at": {"2027-01-02T09:00"}, "notes": {"Hi <script>alert(2)</script>\n\n**bold**"}}
	form.Set("action", "preview")
	code, body, _ = h.do("POST", "/admin/shows/_/episodes/falcon-on-vms/edit", form)
	if code != 200 || strings.Contains(body, "<script>alert") || !strings.Contains(body, "<strong>bold</strong>") {
		t.Fatalf("preview: %d, a script got through or the Markdown was not rendered:\n%s", code, body)
	}
	form.Set("action", "save")
	if code, _, _ = h.do("POST", "/admin/shows/_/episodes/falcon-on-vms/edit", form); code != http.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	md, err := os.ReadFile(filepath.Join(h.data, "drop", "falcon-on-vms", "episode.md"))
	if err != nil {
		t.Fatalf("no notes-only bundle in drop/: %v", err)
	}
	meta, notes, err := bundle.ParseNotes(md)
	if err != nil {
		t.Fatalf("the watcher cannot read the notes: %v\n%s", err, md)
	}
	if meta.Title != xss || meta.Slug != "falcon-on-vms" || meta.Guests[0].Role != "SRE" || meta.PublishAt.Format(time.RFC3339) != "2027-01-02T09:00:00Z" ||
		strings.Join(meta.Tags, ",") != "async,docker,b-x-b" || !strings.Contains(notes, "**bold**") {
		t.Errorf("the notes changed on the way: %+v %q", meta, notes)
	}
	entries, _ := os.ReadDir(filepath.Join(h.data, "drop", "falcon-on-vms"))
	if len(entries) != 1 {
		t.Errorf("a notes-only bundle holds episode.md alone, got %d files", len(entries))
	}
	form.Set("publish_at", "next tuesday")
	if code, body, _ = h.do("POST", "/admin/shows/_/episodes/falcon-on-vms/edit", form); code != 200 || !strings.Contains(body, "is not a time such as") {
		t.Errorf("a bad publish time: %d, want the form again with the reason", code)
	}
}

// TestRetry moves a failed bundle back into drop/ and refuses names that
// lead elsewhere.
func TestRetry(t *testing.T) {
	h := mustHarness(t)
	h.mustLogin()
	bad := filepath.Join(h.data, "failed", "interview")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "episode.md"), []byte("---\ntitle: x\n---\n"), 0o644)
	os.WriteFile(filepath.Join(bad, "talk.wav"), []byte("RIFF"), 0o644)
	os.WriteFile(filepath.Join(bad, bundle.ErrorFile), []byte("What is wrong:\n  <b>silent</b>"), 0o644)
	code, body, _ := h.do("GET", "/admin/shows/_/failed/", nil)
	if code != 200 || !strings.Contains(body, "&lt;b&gt;silent&lt;/b&gt;") {
		t.Fatalf("failed page: %d, ERROR.txt not shown escaped", code)
	}
	for _, name := range []string{"..%2F..%2Fetc", ".hidden", "nope"} {
		if code, _, _ := h.do("POST", "/admin/shows/_/failed/"+name+"/retry", url.Values{"csrf_token": {h.csrf}}); code != http.StatusNotFound {
			t.Errorf("retry %q: %d, want 404", name, code)
		}
	}
	if code, _, _ := h.do("POST", "/admin/shows/_/failed/interview/retry", url.Values{"csrf_token": {h.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("retry: %d", code)
	}
	got := entries(t, filepath.Join(h.data, "drop", "interview"))
	if got != "episode.md,talk.wav" {
		t.Errorf("drop/interview holds %s, want the bundle without ERROR.txt", got)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("failed/interview is still there")
	}
}

func entries(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}
