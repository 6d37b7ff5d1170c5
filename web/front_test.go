package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// frontStore is a bucket with the objects of a small show.
func frontStore(t *testing.T) *countingStore {
	t.Helper()
	st := &countingStore{Store: memstore.New()}
	ctx := context.Background()
	for _, o := range []struct {
		key, body, ct string
		status        int
	}{
		{"public/feed.xml", "<rss>" + strings.Repeat("<item>async Python</item>", 1000) + "</rss>", "application/rss+xml", 0},
		{"public/index.html", "<!doctype html><title>show</title>", "text/html; charset=utf-8", 0},
		{"public/episodes/one/index.html", "<!doctype html><title>one</title>", "text/html; charset=utf-8", 0},
		{"public/episodes/gone/index.html", "<!doctype html><title>withdrawn</title>", "text/html; charset=utf-8", 410},
		{"public/media/one.chapters.json", `{"version":"1.2.0","chapters":[]}`, "application/json+chapters", 0},
		{"public/media/one/one.mp3", strings.Repeat("\xff\xfb", 5000), "audio/mpeg", 0},
	} {
		if err := st.PutBytes(ctx, o.key, []byte(o.body), pipeline.Put{ContentType: o.ct, CacheControl: "public, max-age=60", Status: o.status}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// startFront serves st on a loopback port through NewServer, set by
// opts, with the feed and an episode's page kept.
func startFront(t *testing.T, st Store, opts ...func(*Server)) (*Server, string) {
	t.Helper()
	srv := NewServer(Config{Store: st, Log: slog.New(slog.DiscardHandler)})
	for _, o := range opts {
		o(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	for _, key := range []string{"public/feed.xml", "public/episodes/one/index.html"} {
		if _, _, _, err := srv.front.s.cache.get(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	return srv, ln.Addr().String()
}

// TestFrontAnswersAsNetHTTP: every request, the front's or net/http's,
// gets the same status, headers and body from the server as from the
// handler alone; the kept objects' answers touch no storage and go through
// no handoff.
func TestFrontAnswersAsNetHTTP(t *testing.T) {
	st := frontStore(t)
	plain := httptest.NewServer(New(Config{Store: st, Log: slog.New(slog.DiscardHandler)}))
	defer plain.Close()
	_, addr := startFront(t, st)
	files := testutil.ToFloat64(memFileBytes)
	// A connection per request: a handed-over connection stays net/http's.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(base, method, path string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// Load every object once, into both servers' memory.
	paths := []string{"/feed.xml", "/", "/episodes/one/", "/episodes/gone/", "/media/one.chapters.json", "/media/one/one.mp3", "/episodes/one"}
	for _, p := range paths {
		get(plain.URL, "GET", p)
		get("http://"+addr, "GET", p)
	}
	feed, _ := get(plain.URL, "GET", "/feed.xml")
	etag, lm := feed.Header.Get("ETag"), feed.Header.Get("Last-Modified")
	gzEtag := strings.TrimSuffix(etag, `"`) + `-gz"`
	type req struct {
		method, path string
		header       []string
		front        bool // answered by the front
	}
	cases := []req{
		{"GET", "/feed.xml", nil, true},
		{"HEAD", "/feed.xml", nil, true},
		{"GET", "/feed.xml?since=yesterday", nil, true},
		{"GET", "/feed.xml", []string{"Accept-Encoding", "gzip"}, true},
		{"GET", "/feed.xml", []string{"Accept-Encoding", "gzip, br"}, true},
		{"GET", "/feed.xml", []string{"Accept-Encoding", "br;q=0, gzip"}, true},
		{"GET", "/feed.xml", []string{"If-None-Match", etag}, true},
		{"GET", "/feed.xml", []string{"Accept-Encoding", "gzip", "If-None-Match", gzEtag}, true},
		{"GET", "/feed.xml", []string{"If-None-Match", `"other", W/` + etag}, true},
		{"GET", "/feed.xml", []string{"If-Modified-Since", lm}, true},
		{"GET", "/feed.xml", []string{"If-None-Match", `"other"`, "If-Modified-Since", lm}, true},
		{"GET", "/", nil, true},
		{"GET", "/episodes/one/", []string{"Accept-Encoding", "gzip"}, true},
		{"GET", "/media/one.chapters.json", nil, true},
		{"GET", "/feed.xml", []string{"Range", "bytes=0-9"}, false},
		{"GET", "/episodes/gone/", nil, false},       // withdrawn: 410
		{"GET", "/media/one/one.mp3", nil, false},    // episode audio, counted
		{"GET", "/episodes/one", nil, false},         // redirect to the page
		{"GET", "/nothing.xml", nil, false},          // not kept: 404 from net/http
		{"GET", "/episodes/../feed.xml", nil, false}, // not clean
		{"GET", "/%66eed.xml", nil, false},           // escaped
		{"POST", "/feed.xml", nil, false},            // 405
		{"GET", "/healthz", nil, false},              // a route of its own
		{"GET", "/admin/", nil, false},               // the desk (off here)
		{"GET", "/search?q=async", nil, false},       // search
		{"GET", "/feed.xml", []string{"Expect", "x"}, false},
	}
	for _, tc := range cases {
		want, wantBody := get(plain.URL, tc.method, tc.path, tc.header...)
		opens, stats := st.opens.Load(), st.stats.Load()
		before := testutil.ToFloat64(handoffs)
		got, gotBody := get("http://"+addr, tc.method, tc.path, tc.header...)
		name := tc.method + " " + tc.path + " " + strings.Join(tc.header, " ")
		if got.StatusCode != want.StatusCode || gotBody != wantBody {
			t.Errorf("%s: %d with %d bytes, want %d with %d bytes", name, got.StatusCode, len(gotBody), want.StatusCode, len(wantBody))
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Last-Modified", "Cache-Control", "Vary", "Access-Control-Allow-Origin", "Location"} {
			if got.Header.Get(h) != want.Header.Get(h) {
				t.Errorf("%s: %s %q, want %q", name, h, got.Header.Get(h), want.Header.Get(h))
			}
		}
		if got.Header.Get("Date") == "" {
			t.Errorf("%s: no Date", name)
		}
		if front := testutil.ToFloat64(handoffs) == before; front != tc.front {
			t.Errorf("%s: answered by the front %v, want %v", name, front, tc.front)
		}
		if tc.front && (st.opens.Load() != opens || st.stats.Load() != stats) {
			t.Errorf("%s: the front's answer touched the bucket", name)
		}
	}
	if testutil.ToFloat64(memFileBytes)-files < 25000 {
		t.Error("the feed (25 kB) was not sent from a memory file")
	}
}

// rawConn is a client connection that writes raw requests and reads
// answers one by one.
type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReader(c)}
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatal(err)
	}
}

// answer reads the next answer, to a request of method; nil when none
// comes within wait.
func (rc *rawConn) answer(method string, wait time.Duration) (*http.Response, string) {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(rc.r, &http.Request{Method: method})
	if err != nil {
		return nil, err.Error()
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		rc.t.Fatalf("reading an answer's body: %v", err)
	}
	return resp, string(b)
}

// TestFrontConnections: on one connection, pipelined requests are
// answered in order, by the front and then by net/http; a request with a
// body is net/http's, which reads the body as its body (never as another
// request); Connection: close, HTTP/1.0 and an oversized header are
// honoured.
func TestFrontConnections(t *testing.T) {
	st := frontStore(t)
	_, addr := startFront(t, st)
	warm := dialRaw(t, addr)
	warm.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\nGET /episodes/one/ HTTP/1.1\r\nHost: x\r\n\r\n")
	for range 2 {
		if resp, _ := warm.answer("GET", 5*time.Second); resp == nil || resp.StatusCode != 200 {
			t.Fatal("warming up: no 200")
		}
	}

	t.Run("pipelined", func(t *testing.T) {
		rc := dialRaw(t, addr)
		before := testutil.ToFloat64(handoffs)
		rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n" +
			"HEAD /episodes/one/ HTTP/1.1\r\nHost: x\r\n\r\n" +
			"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" +
			"GET /episodes/one/ HTTP/1.1\r\nHost: x\r\n\r\n")
		want := []struct {
			method, body string
		}{{"GET", "<rss>"}, {"HEAD", ""}, {"GET", `{"status":"ok"}`}, {"GET", "<!doctype html><title>one</title>"}}
		for i, w := range want {
			resp, body := rc.answer(w.method, 5*time.Second)
			if resp == nil || resp.StatusCode != 200 || !strings.HasPrefix(body, w.body) || (w.body == "" && body != "") {
				t.Errorf("answer %d: %v %q, want 200 %q", i+1, resp, body, w.body)
			}
		}
		if d := testutil.ToFloat64(handoffs) - before; d != 1 {
			t.Errorf("%v handoffs, want 1 (at /healthz)", d)
		}
	})

	t.Run("bodies are net/http's", func(t *testing.T) {
		for _, framing := range []string{
			"Content-Length: 40\r\n\r\nGET /episodes/one/ HTTP/1.1\r\nHost: x\r\n\r\n",
			"content-length : 40\r\n\r\nGET /episodes/one/ HTTP/1.1\r\nHost: x\r\n\r\n",
			"Transfer-Encoding: chunked\r\n\r\n28\r\nGET /episodes/one/ HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n",
		} {
			rc := dialRaw(t, addr)
			rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n" + framing)
			first, _ := rc.answer("GET", 5*time.Second)
			if first == nil {
				t.Fatalf("%q: no answer", framing)
			}
			// A 200 of the feed (or net/http's 400 for the malformed
			// header), then nothing: the body held no request.
			if first.StatusCode == 200 && first.Header.Get("Content-Type") != "application/rss+xml" {
				t.Errorf("%q: the first answer is not the feed", framing)
			}
			if second, err := rc.answer("GET", 300*time.Millisecond); second != nil {
				t.Errorf("%q: the body was answered as a request: %d", framing, second.StatusCode)
			} else if !strings.Contains(err, "timeout") && !strings.Contains(err, "EOF") {
				t.Errorf("%q: %s", framing, err)
			}
		}
	})

	t.Run("close", func(t *testing.T) {
		rc := dialRaw(t, addr)
		rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, _ := rc.answer("GET", 5*time.Second)
		if resp == nil || resp.StatusCode != 200 || !resp.Close {
			t.Fatalf("Connection: close: %v", resp)
		}
		if _, err := rc.answer("GET", 5*time.Second); !strings.Contains(err, "EOF") {
			t.Errorf("after Connection: close, the connection stays open (%s)", err)
		}
	})

	for _, tc := range []struct{ name, request string }{
		{"HTTP/1.0", "GET /feed.xml HTTP/1.0\r\n\r\n"},
		{"a header longer than the front's buffer", "GET /feed.xml HTTP/1.1\r\nHost: x\r\nCookie: " + strings.Repeat("a", 6000) + "\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRaw(t, addr)
			before := testutil.ToFloat64(handoffs)
			rc.send(tc.request)
			if resp, body := rc.answer("GET", 5*time.Second); resp == nil || resp.StatusCode != 200 || !strings.HasPrefix(body, "<rss>") {
				t.Errorf("no feed: %v", resp)
			}
			if testutil.ToFloat64(handoffs) != before+1 {
				t.Error("not left to net/http")
			}
		})
	}

	t.Run("bare line feeds", func(t *testing.T) {
		rc := dialRaw(t, addr)
		rc.send("GET /feed.xml HTTP/1.1\nHost: x\n\n")
		if resp, _ := rc.answer("GET", 5*time.Second); resp == nil || resp.StatusCode != 200 {
			t.Errorf("a header with bare line feeds: %v", resp)
		}
	})
}

// TestFrontTimeouts: a header begun and not finished, and a connection
// left idle, are closed after their timeouts.
func TestFrontTimeouts(t *testing.T) {
	st := frontStore(t)
	_, addr := startFront(t, st, func(s *Server) {
		s.front.header = 200 * time.Millisecond
		s.front.idle = 400 * time.Millisecond
	})

	slow := dialRaw(t, addr)
	slow.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n")
	start := time.Now()
	if _, err := slow.answer("GET", 5*time.Second); !strings.Contains(err, "EOF") || time.Since(start) > 3*time.Second {
		t.Errorf("an unfinished header: %s after %v, want EOF after 200ms", err, time.Since(start))
	}

	idle := dialRaw(t, addr)
	idle.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := idle.answer("GET", 5*time.Second); resp == nil {
		t.Fatal("no answer")
	}
	start = time.Now()
	if _, err := idle.answer("GET", 5*time.Second); !strings.Contains(err, "EOF") || time.Since(start) > 3*time.Second {
		t.Errorf("an idle connection: %s after %v, want EOF after 400ms", err, time.Since(start))
	}

}

// TestFrontShutdown: Shutdown closes the idle connections, the front's
// and net/http's, and returns at once.
func TestFrontShutdown(t *testing.T) {
	srv, addr := startFront(t, frontStore(t))
	waiting := dialRaw(t, addr)
	waiting.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	waiting.answer("GET", 5*time.Second)
	handed := dialRaw(t, addr)
	handed.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	handed.answer("GET", 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("shutdown took %v with two idle connections", time.Since(start))
	}
	for _, rc := range []*rawConn{waiting, handed} {
		if _, err := rc.answer("GET", 2*time.Second); !strings.Contains(err, "EOF") {
			t.Errorf("after shutdown, an idle connection: %s, want EOF", err)
		}
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("after shutdown, the server accepts connections")
	}
}

// TestFrontStale: a kept object past CacheFresh is checked with the bucket
// by the front, once, and a rebuild's new version is served; one no
// longer kept goes to net/http.
func TestFrontStale(t *testing.T) {
	st := frontStore(t)
	var now atomic.Pointer[time.Time]
	start := time.Now()
	now.Store(&start)
	_, addr := startFront(t, st, func(s *Server) {
		s.front.s.cache.now = func() time.Time { return *now.Load() }
	})
	rc := dialRaw(t, addr)
	rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	rc.answer("GET", 5*time.Second)
	st.PutBytes(context.Background(), "public/feed.xml", []byte("<rss>new</rss>"), pipeline.Put{ContentType: "application/rss+xml"})
	before := testutil.ToFloat64(handoffs)
	stats := st.stats.Load()
	later := start.Add(CacheFresh)
	now.Store(&later)
	rc = dialRaw(t, addr)
	rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.answer("GET", 5*time.Second); resp == nil || body != "<rss>new</rss>" {
		t.Errorf("after CacheFresh: %q, want the new feed", body)
	}
	if testutil.ToFloat64(handoffs) != before || st.stats.Load() != stats+1 {
		t.Errorf("a stale object: %v handoffs and %d checks with the bucket, want 0 and 1", testutil.ToFloat64(handoffs)-before, st.stats.Load()-stats)
	}
	rc = dialRaw(t, addr)
	before = testutil.ToFloat64(handoffs)
	rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.answer("GET", 5*time.Second); resp == nil || body != "<rss>new</rss>" || testutil.ToFloat64(handoffs) != before {
		t.Errorf("the new version, fresh, is not the front's: %q", body)
	}
	later = later.Add(CacheFresh)
	now.Store(&later)
	st.PutBytes(context.Background(), "public/feed.xml", []byte(strings.Repeat("x", cacheMaxSmall+1)), pipeline.Put{ContentType: "audio/mpeg"})
	rc = dialRaw(t, addr)
	before = testutil.ToFloat64(handoffs)
	rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.answer("GET", 5*time.Second); resp == nil || len(body) != cacheMaxSmall+1 || testutil.ToFloat64(handoffs) != before+1 {
		t.Errorf("an object grown too big to keep: %d bytes, %v handoffs", len(body), testutil.ToFloat64(handoffs)-before)
	}
}

func TestPublicKey(t *testing.T) {
	for target, want := range map[string]string{
		"/feed.xml":              "public/feed.xml",
		"/feed.xml?x=1":          "public/feed.xml",
		"/":                      "public/index.html",
		"/episodes/one/":         "public/episodes/one/index.html",
		"/other/feed.xml":        "public/other/feed.xml",
		"/other/":                "public/other/index.html",
		"/%66eed.xml":            "",
		"//feed.xml":             "",
		"/a/../feed.xml":         "",
		"/a/./feed.xml":          "",
		"/a/..":                  "",
		"http://x/feed.xml":      "",
		"*":                      "",
		"/admin/":                "",
		"/admin":                 "",
		"/healthz":               "",
		"/metrics":               "",
		"/pitch/":                "",
		"/other/pitch/":          "",
		"/search":                "",
		"/other/search?q=x":      "",
		"/a\\..\\..\\etc/passwd": "",
	} {
		got, ok := publicKey(nil, []byte(target))
		if ok != (want != "") || ok && string(got) != want {
			t.Errorf("%q: %q %v, want %q", target, got, ok, want)
		}
	}
}

// BenchmarkFront304 is the front's cost of a kept feed's 304, parse to
// write, without a network.
func BenchmarkFront304(b *testing.B) {
	st := memstore.New()
	st.PutBytes(context.Background(), "public/feed.xml", []byte("<rss>"+strings.Repeat("<item>x</item>", 3000)+"</rss>"), pipeline.Put{ContentType: "application/rss+xml"})
	srv := NewServer(Config{Store: st})
	e, _, _, _ := srv.front.s.cache.get(context.Background(), "public/feed.xml")
	block := []byte("GET /feed.xml HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Overcast/3.0\r\nAccept-Encoding: gzip\r\nIf-None-Match: " +
		`"` + e.info.ETag + `-gz"` + "\r\n\r\n")
	bw := bufio.NewWriter(io.Discard)
	var req request
	b.ReportAllocs()
	for b.Loop() {
		if !req.parse(block) {
			b.Fatal("not the front's")
		}
		e, ok := srv.front.kept(&req)
		if !ok {
			b.Fatal("not kept")
		}
		if err := srv.front.write(nil, bw, &req, e); err != nil {
			b.Fatal(err)
		}
	}
}

// panicStore panics on Stat while told to.
type panicStore struct {
	*countingStore
	panics atomic.Bool
}

func (p *panicStore) Stat(ctx context.Context, key string) (pipeline.Object, error) {
	if p.panics.Load() {
		panic("a bug")
	}
	return p.countingStore.Stat(ctx, key)
}

// TestFrontPanic: a panic while answering ends that connection, and the
// server goes on answering.
func TestFrontPanic(t *testing.T) {
	st := &panicStore{countingStore: frontStore(t)}
	var now atomic.Pointer[time.Time]
	start := time.Now()
	now.Store(&start)
	_, addr := startFront(t, st, func(s *Server) {
		s.front.s.cache.now = func() time.Time { return *now.Load() }
	})
	later := start.Add(CacheFresh)
	now.Store(&later)
	st.panics.Store(true)
	rc := dialRaw(t, addr)
	rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := rc.answer("GET", 5*time.Second); resp != nil || !strings.Contains(err, "EOF") {
		t.Errorf("a panic: %v %s, want the connection closed", resp, err)
	}
	st.panics.Store(false)
	rc = dialRaw(t, addr)
	rc.send("GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := rc.answer("GET", 5*time.Second); resp == nil || resp.StatusCode != 200 {
		t.Errorf("after a panic: %v, want the feed", resp)
	}
}

// TestFrontSendfileSlowReader: a body far bigger than the socket's
// buffers, sent from a memory file to a client that reads late and
// slowly, arrives whole, and the connection serves the next request.
func TestFrontSendfileSlowReader(t *testing.T) {
	st := frontStore(t)
	var big strings.Builder
	for i := 0; big.Len() < 12<<20; i++ { // beyond the socket buffers' 4 MB and 6 MB
		big.WriteString("<item><guid>" + strings.Repeat(string(rune('a'+i%26)), i%40) + "</guid></item>\n")
	}
	st.PutBytes(context.Background(), "public/big.xml", []byte(big.String()), pipeline.Put{ContentType: "application/rss+xml"})
	srv, addr := startFront(t, st)
	if _, _, _, err := srv.front.s.cache.get(context.Background(), "public/big.xml"); err != nil {
		t.Fatal(err)
	}
	before := testutil.ToFloat64(memFileBytes)
	rc := dialRaw(t, addr)
	rc.send("GET /big.xml HTTP/1.1\r\nHost: x\r\n\r\nGET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(300 * time.Millisecond) // the server fills the socket and waits
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.r, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if got.String() != big.String() {
		t.Errorf("got %d bytes, want %d, the same", got.Len(), big.Len())
	}
	if testutil.ToFloat64(memFileBytes)-before < float64(big.Len()) {
		t.Error("the big body was not sent from a memory file")
	}
	if resp, body := rc.answer("GET", 5*time.Second); resp == nil || !strings.HasPrefix(body, "<rss>") {
		t.Errorf("the next request: %v", resp)
	}
}
