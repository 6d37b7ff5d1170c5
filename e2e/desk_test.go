package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// RunInput runs `prodcast args...` with stdin and returns its output.
func RunInput(tb testing.TB, env []string, stdin string, args ...string) (string, error) {
	tb.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// DeskClient is a browser-like client of the desk: cookies, and the CSRF
// token of the last page it read.
type DeskClient struct {
	t    testing.TB
	base string
	c    *http.Client
	CSRF string
}

var csrfMeta = regexp.MustCompile(`name="csrf(?:-token|_token)" (?:content|value)="([^"]+)"`)

// NewDeskClient returns a client of the desk at base, not logged in.
func NewDeskClient(tb testing.TB, base string) *DeskClient {
	jar, _ := cookiejar.New(nil)
	return &DeskClient{t: tb, base: base, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Do sends a request; a url.Values body goes as a form.
func (d *DeskClient) Do(method, path string, body any, header ...string) (*http.Response, string) {
	d.t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case url.Values:
		r, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		r = strings.NewReader(string(b))
	}
	if !strings.HasPrefix(path, "http") {
		path = d.base + path
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		d.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := d.c.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfMeta.FindStringSubmatch(string(b)); m != nil {
		d.CSRF = m[1]
	}
	return resp, string(b)
}

func (d *DeskClient) cookie() string {
	u, _ := url.Parse(d.base)
	for _, c := range d.c.Jar.Cookies(u) {
		if c.Name == "prodcast_desk" {
			return c.Value
		}
	}
	return ""
}

// MustLogin logs in and checks that the session id changed.
func (d *DeskClient) MustLogin(user, password string) {
	d.t.Helper()
	d.Do("GET", "/admin/login", nil)
	before := d.cookie()
	resp, body := d.Do("POST", "/admin/login", url.Values{"username": {user}, "password": {password}, "csrf_token": {d.CSRF}})
	if resp.StatusCode != http.StatusSeeOther {
		d.t.Fatalf("login as %s: %s\n%s", user, resp.Status, body)
	}
	if after := d.cookie(); after == "" || after == before {
		d.t.Fatalf("the session id did not change at login")
	}
	d.Do("GET", "/admin/", nil)
}

func tusMetadata(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

// cutPatch starts a tus PATCH of body at offset, sends only the first
// half of it and drops the connection, as a network that fails would.
func cutPatch(t *testing.T, d *DeskClient, loc string, offset int, body []byte) {
	t.Helper()
	u, _ := url.Parse(loc)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %d\r\nContent-Type: application/offset+octet-stream\r\n"+
		"Content-Length: %d\r\nX-CSRF-Token: %s\r\nCookie: prodcast_desk=%s\r\n\r\n", u.Path, u.Host, offset, len(body), d.CSRF, d.cookie())
	conn.Write(body[:len(body)/2])
	time.Sleep(500 * time.Millisecond)
	conn.Close()
}

// TestDesk drives the desk of a `serve` process on real Redis and MinIO,
// with a watcher and a worker beside it: no route opens without a login, a
// recording uploaded over tus, cut halfway and resumed, is published (its
// name ../../etc/passwd.wav lands inside drop/), an upload over the limit
// is refused, notes edited in the desk and a guest's pitch full of markup
// come out inert in the desk, the pages and the feed, and the pitch
// reaches the show's webhook as pitch.received.
func TestDesk(t *testing.T) {
	hook := &recorder{fails: map[string]int{}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	env := MustShowEnv(t, "topics: [async, flask]\nnotify:\n  websub_hubs: ["+srv.URL+"/hub]\n  webhooks: [{url: "+srv.URL+"/hook, secret: s3cret}]\n")
	vars := append(env.Vars(), "PRODCAST_UPLOAD_MAX_SIZE=40MB")
	if out, err := RunInput(t, vars, "correct horse battery\n", "user", "add", "ana"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	Start(t, vars, "worker")
	Start(t, vars, "watch")
	Start(t, vars, "serve")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 0 })

	anon := NewDeskClient(t, env.URL(""))
	for _, p := range []string{"/admin/", "/admin/shows/_/", "/admin/shows/_/new", "/admin/shows/_/pitches/", "/admin/queues/", "/admin/stats"} {
		if resp, _ := anon.Do("GET", p, nil); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %s", p, resp.Status)
		}
	}
	if resp, _ := anon.Do("POST", "/admin/uploads/", nil, "Tus-Resumable", "1.0.0", "Upload-Length", "10"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tus without a session: %s", resp.Status)
	}

	d := NewDeskClient(t, env.URL(""))
	d.MustLogin("ana", "correct horse battery")
	if resp, _ := d.Do("POST", "/admin/shows/_/episodes/x/unpublish", url.Values{"csrf_token": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a forged CSRF token: %s", resp.Status)
	}

	// The queue dashboard's buttons pass the CSRF check with the token it
	// gets as the XSRF-TOKEN cookie (axios sends it back as a header).
	if resp, body := d.Do("GET", "/admin/queues/", nil); resp.StatusCode != 200 || !strings.Contains(body, "/admin/queues/static/") {
		t.Fatalf("/admin/queues/ after login: %s", resp.Status)
	}
	var xsrf string
	for _, c := range d.c.Jar.Cookies(&url.URL{Scheme: "http", Host: env.Listen, Path: "/admin/queues/"}) {
		if c.Name == "XSRF-TOKEN" {
			xsrf = c.Value
		}
	}
	if resp, _ := d.Do("POST", "/admin/queues/api/queues/default:pause", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("pausing a queue without a token: %s, want 403", resp.Status)
	}
	if resp, _ := d.Do("POST", "/admin/queues/api/queues/default:pause", nil, "X-XSRF-TOKEN", xsrf); resp.StatusCode >= 300 {
		t.Errorf("pausing a queue with the dashboard's token: %s", resp.Status)
	}
	if resp, _ := d.Do("POST", "/admin/queues/api/queues/default:resume", nil, "X-XSRF-TOKEN", xsrf); resp.StatusCode >= 300 {
		t.Errorf("resuming the queue: %s", resp.Status)
	}

	// A recording over tus: created, cut halfway, resumed from its offset.
	wav := filepath.Join(t.TempDir(), "talk.wav")
	MustSpeechWAV(t, wav, 300, 1) // long enough to watch its encode's progress
	audio, _ := os.ReadFile(wav)
	resp, _ := d.Do("POST", "/admin/uploads/", nil, "Tus-Resumable", "1.0.0", "X-CSRF-Token", d.CSRF,
		"Upload-Length", strconv.Itoa(len(audio)), "Upload-Metadata", tusMetadata("filename", "../../etc/passwd.wav", "show", "_"))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || loc == "" {
		t.Fatalf("tus create: %s", resp.Status)
	}
	cutPatch(t, d, loc, 0, audio)
	var offset int
	WaitFor(t, 10*time.Second, "the cut upload's offset", func() bool {
		resp, _ := d.Do("HEAD", loc, nil, "Tus-Resumable", "1.0.0")
		offset, _ = strconv.Atoi(resp.Header.Get("Upload-Offset"))
		return resp.StatusCode == http.StatusOK && offset > 0
	})
	if offset >= len(audio) {
		t.Fatalf("offset %d after a cut at half of %d", offset, len(audio))
	}
	if entries := Entries(filepath.Join(env.Data, "drop")); len(entries) != 0 {
		t.Fatalf("drop/ holds %v before the upload is whole", entries)
	}
	resp, _ = d.Do("PATCH", loc, audio[offset:], "Tus-Resumable", "1.0.0", "X-CSRF-Token", d.CSRF,
		"Upload-Offset", strconv.Itoa(offset), "Content-Type", "application/offset+octet-stream")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("resume at %d: %s", offset, resp.Status)
	}
	// The desk follows the encode: progress.json has the percent done.
	var seen []float64
	WaitFor(t, 120*time.Second, "the uploaded episode in the feed", func() bool {
		var eps map[string]struct {
			State   string
			Percent float64
		}
		if _, body := d.Do("GET", "/admin/shows/_/progress.json", nil); json.Unmarshal([]byte(body), &eps) == nil {
			if p := eps["passwd"]; p.Percent > 0 && p.Percent < 100 {
				seen = append(seen, p.Percent)
			}
		}
		return FeedItems(env.URL("/feed.xml")) == 1
	})
	if len(seen) == 0 {
		t.Errorf("progress.json never showed the encode under way")
	}
	WaitFor(t, 30*time.Second, "passwd.wav in done/: the name lands inside drop/", func() bool {
		return strings.Join(Entries(filepath.Join(env.Data, "done")), ",") == "passwd.wav"
	})
	t.Logf("cut at %d of %d bytes, resumed and published; encode progress seen: %.0f%%", offset, len(audio), seen)

	resp, _ = d.Do("POST", "/admin/uploads/", nil, "Tus-Resumable", "1.0.0", "X-CSRF-Token", d.CSRF,
		"Upload-Length", strconv.Itoa(60<<20), "Upload-Metadata", tusMetadata("filename", "big.wav", "show", "_"))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("60 MB over a 40 MB limit: %s, want 413", resp.Status)
	}

	// Notes edited in the desk, full of markup, reach the page and the
	// feed as text.
	const xssTitle = `<script>alert("title")</script> & "quotes"`
	d.Do("GET", "/admin/shows/_/episodes/passwd/edit", nil)
	notes := url.Values{"csrf_token": {d.CSRF}, "action": {"save"},
		"title": {xssTitle}, "guests": {`<img src=x onerror=alert(1)> | <b>SRE</b> | javascript:alert(2)`}, "tag": {"async"},
		"notes": {"Hello <script>alert('notes')</script> <iframe src=x></iframe> [x](javascript:alert(3))\n\n**bold**"}}
	resp, body := d.Do("POST", "/admin/shows/_/episodes/passwd/edit", notes)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "is not an http(s) address") {
		t.Errorf("a javascript: guest link: %s, want the form again saying why", resp.Status)
	}
	notes.Set("guests", `<img src=x onerror=alert(1)> | <b>SRE</b> | https://example.com/"><script>alert(4)</script>`)
	resp, body = d.Do("POST", "/admin/shows/_/episodes/passwd/edit", notes)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save notes: %s\n%s", resp.Status, body)
	}
	WaitFor(t, 60*time.Second, "the edited title in the feed", func() bool {
		f, err := parseFeedURL(env.URL("/feed.xml"))
		return err == nil && len(f.Items) == 1 && f.Items[0].Title == xssTitle
	})
	_, page := Get(t, env.URL("/episodes/passwd/"))
	_, feed := Get(t, env.URL("/feed.xml"))
	d.Do("GET", "/admin/shows/_/", nil)
	_, deskPage := d.Do("GET", "/admin/shows/_/", nil)
	for name, b := range map[string]string{"page": string(page), "feed": string(feed), "desk": deskPage} {
		for _, bad := range []string{"<script>alert", "<img src=x", "<iframe", `href="javascript:`, "onerror=alert(1)>"} {
			if strings.Contains(b, bad) {
				t.Errorf("the %s interprets markup typed in the desk: %q", name, bad)
			}
		}
	}
	if !strings.Contains(string(page), "<strong>bold</strong>") || !strings.Contains(string(page), "&lt;script&gt;alert(&#34;title&#34;)") {
		t.Errorf("the page lost the Markdown or the title's text")
	}

	// A guest's pitch, full of markup: stored, announced, shown inert.
	guest := NewDeskClient(t, env.URL(""))
	resp, body = guest.Do("GET", "/pitch/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `value="flask"`) {
		t.Fatalf("/pitch/: %s, without the show's topics", resp.Status)
	}
	if _, index := Get(t, env.URL("/")); !strings.Contains(string(index), `href="/pitch/">Be a guest</a>`) {
		t.Errorf("the blog does not link the pitch form")
	}
	resp, body = guest.Do("POST", "/pitch/", url.Values{"name": {`<script>alert("name")</script>Ana`}, "email": {"ana@example.com"},
		"role": {`"><img src=x onerror=alert(1)>`}, "company": {"<b>Acme</b>"}, "topic": {"flask"},
		"story": {"Flask on VMs. <iframe src=x></iframe>"}, "links": {"https://example.com/talk"}, "consent": {"yes"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "Thank you") {
		t.Fatalf("pitch: %s\n%s", resp.Status, body)
	}
	WaitFor(t, 30*time.Second, "the pitch.received webhook", func() bool {
		for _, r := range hook.at("/hook") {
			if strings.Contains(string(r.Body), `"pitch.received"`) {
				return true
			}
		}
		return false
	})
	var got []string
	for _, r := range hook.at("/hook") {
		var ev struct {
			Event string `json:"event"`
			URL   string `json:"url"`
		}
		json.Unmarshal(r.Body, &ev)
		got = append(got, ev.Event)
		if ev.Event == "pitch.received" && !strings.HasPrefix(ev.URL, env.URL("/admin/shows/_/pitches/")) {
			t.Errorf("pitch.received names %q, not the pitch in the desk", ev.URL)
		}
	}
	_, inbox := d.Do("GET", "/admin/shows/_/pitches/", nil)
	id := regexp.MustCompile(`/admin/shows/_/pitches/([0-9TZ-]+[0-9a-f]{8})"`).FindStringSubmatch(inbox)
	if id == nil {
		t.Fatalf("the pitch is not in the desk's inbox:\n%s", inbox)
	}
	_, one := d.Do("GET", "/admin/shows/_/pitches/"+id[1], nil)
	for name, b := range map[string]string{"inbox": inbox, "pitch": one} {
		for _, bad := range []string{"<script>alert", "<img src=x", "<iframe", "<b>Acme"} {
			if strings.Contains(b, bad) {
				t.Errorf("the desk's %s interprets what the guest typed: %q", name, bad)
			}
		}
	}
	if !strings.Contains(one, "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;Ana") {
		t.Errorf("the pitch page does not show the name as typed")
	}
}

// TestDeskInChromium is a producer's first visit, in headless Chromium on
// `prodcast up`: log in, upload a WAV through the page with its notes, see
// the episode go live; then a guest sends a pitch, and the producer finds
// it in the desk. The pages are photographed at 1280 and 390 px.
func TestDeskInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is missing: install it (Debian: apt-get install chromium); the desk test needs a real browser")
	}
	data := filepath.Join(t.TempDir(), "prodcast-data")
	listen := FreeAddr(t)
	base := "http://" + listen
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT="}
	Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(base+"/feed.xml") == 0 })
	if out, err := RunInput(t, env, "correct horse battery\n", "user", "add", "ana", "--data", data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	wav := filepath.Join(t.TempDir(), "interview.wav")
	MustSpeechWAV(t, wav, 30, 2)

	ctx, problems := MustBrowser(t, browser)
	shots := map[string][]byte{}
	photo := func(ctx context.Context, name string) {
		t.Helper()
		for _, w := range []int64{1280, 390} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900)); err != nil {
				t.Fatalf("viewport %d: %v", w, err)
			}
			img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s at %d px: %v", name, w, err)
			}
			shots[fmt.Sprintf("%s-%d.png", name, w)] = img
		}
		chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900))
	}
	run := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("chromium: %s: %v (problems: %v)", what, err, problems())
		}
	}
	text := func(ctx context.Context, sel string) string {
		s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		return s
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	run(ctx, "open the desk", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(css(`input[name=username]`)))
	photo(ctx, "desk-login")
	run(ctx, "log in", chromedp.SendKeys(css(`input[name=username]`), "ana"), chromedp.SendKeys(css(`input[name=password]`), "correct horse battery"),
		chromedp.Submit(css(`input[name=password]`)), chromedp.WaitVisible(css(`a.button`)))
	run(ctx, "open the upload page", chromedp.Navigate(base+"/admin/shows/_/new"), chromedp.WaitVisible(css(`#recording`)))
	run(ctx, "fill the notes", chromedp.SetUploadFiles(css(`#recording`), []string{wav}),
		chromedp.SendKeys(css(`input[name=title]`), "Flask without Kubernetes"),
		chromedp.SendKeys(css(`textarea[name=guests]`), "Sam | SRE | https://example.com/sam"),
		chromedp.Click(css(`input[name=tag][value=flask]`)),
		chromedp.SendKeys(css(`textarea[name=notes]`), "We talk about **Flask** on plain VMs."))
	photo(ctx, "desk-upload")
	run(ctx, "upload", chromedp.Click(css(`#upload`)))
	deadline := time.Now().Add(60 * time.Second)
	for {
		where, _ := chromedp.Run(ctx, chromedp.Location())
		if strings.HasSuffix(where, "/admin/shows/_/") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload did not finish in a minute; the page says %q (problems: %v)", text(ctx, "#upload-status"), problems())
		}
		time.Sleep(200 * time.Millisecond)
	}
	WaitFor(t, 90*time.Second, "the uploaded episode in the feed", func() bool { return FeedItems(base+"/feed.xml") == 1 })
	WaitFor(t, 30*time.Second, "the desk to show the episode published", func() bool {
		run(ctx, "reload the episodes", chromedp.Navigate(base+"/admin/shows/_/"))
		return text(ctx, `tr[data-slug="flask-without-kubernetes"] .state`) == "published"
	})
	photo(ctx, "desk-episodes")
	resp, page := Get(t, base+"/episodes/flask-without-kubernetes/")
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<strong>Flask</strong>") || !strings.Contains(string(page), "Sam") {
		t.Errorf("the episode page lacks the notes typed in the desk: %s", resp.Status)
	}

	// The guest, in a tab of their own, finds the form from the blog.
	gctx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	run(gctx, "fill the pitch form", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/episodes/flask-without-kubernetes/"),
		chromedp.Click(css(`a[href="/pitch/"]`)), chromedp.WaitVisible(css(`input[name=name]`)),
		chromedp.SendKeys(css(`input[name=name]`), "Robin Guest"), chromedp.SendKeys(css(`input[name=email]`), "robin@example.com"),
		chromedp.SendKeys(css(`input[name=role]`), "Platform lead"), chromedp.SendKeys(css(`input[name=company]`), "Acme"),
		chromedp.Click(css(`input[name=topic][value=flask]`)),
		chromedp.SendKeys(css(`textarea[name=story]`), "We moved 40 Flask services off Kubernetes. One thing went badly wrong."),
		chromedp.Click(css(`input[name=consent]`)))
	photo(gctx, "pitch-form")
	run(gctx, "send the pitch", chromedp.Submit(css(`input[name=name]`)), chromedp.WaitVisible(css(`p[role=status]`)))
	if h1 := text(gctx, "h1"); h1 != "Thank you!" {
		t.Fatalf("the pitch was answered with %q", h1)
	}
	run(ctx, "open the inbox", chromedp.Navigate(base+"/admin/shows/_/pitches/"), chromedp.WaitVisible(css(`main table`)))
	if inbox := text(ctx, "main"); !strings.Contains(inbox, "Robin Guest") || !strings.Contains(inbox, "Platform lead, Acme") {
		t.Fatalf("the pitch is not in the desk's inbox:\n%s", inbox)
	}
	run(ctx, "open the pitch", chromedp.Click(`//a[text()="Robin Guest"]`), chromedp.WaitVisible(css(`pre.story`)))
	photo(ctx, "desk-pitch")
	run(ctx, "start an episode draft", chromedp.Click(`//a[text()="Start an episode draft"]`), chromedp.WaitVisible(css(`textarea[name=guests]`)))
	if guests, _ := chromedp.Run(ctx, chromedp.Value(css(`textarea[name=guests]`))); guests != "Robin Guest | Platform lead, Acme" {
		t.Errorf("the draft's guests are %q", guests)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the desk logged problems:\n%s", strings.Join(p, "\n"))
	}
	out := artifacts(t)
	for name, img := range shots {
		if len(img) < 1000 {
			t.Errorf("%s: screenshot of %d bytes", name, len(img))
		}
		if err := os.WriteFile(filepath.Join(out, name), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d screenshots in %s", len(shots), out)
}
