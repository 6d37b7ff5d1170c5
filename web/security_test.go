package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// TestSecurityHeaders: every public answer, whether the front sends it
// from memory (200 and 304), net/http streams it (media, ranges) or it is
// an error, carries the policy, nosniff and the referrer policy; HSTS
// whenever the public URL is https, never otherwise; the embed player
// alone may be framed by other sites.
func TestSecurityHeaders(t *testing.T) {
	// Every goroutine a server starts ends at its Shutdown.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	defer http.DefaultClient.CloseIdleConnections()
	st := memstore.New()
	ctx := context.Background()
	for key, ct := range map[string]string{
		"public/feed.xml":                            "application/rss+xml; charset=utf-8",
		"public/episodes/one/index.html":             "text/html; charset=utf-8",
		"public/episodes/one/embed/index.html":       "text/html; charset=utf-8",
		"public/media/one/0123456789abcdef.mp3":      "audio/mpeg",
		"public/episodes/one/transcript.vtt":         "text/vtt",
		"public/alpha/episodes/two/embed/index.html": "text/html; charset=utf-8",
	} {
		if err := st.PutBytes(ctx, key, []byte(strings.Repeat("x", 3000)), pipeline.Put{ContentType: ct}); err != nil {
			t.Fatal(err)
		}
	}
	for _, https := range []bool{false, true} {
		srv := NewServer(Config{Store: st, Log: slog.New(slog.DiscardHandler), HTTPS: https})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		base := "http://" + ln.Addr().String()
		var wg sync.WaitGroup
		for _, tc := range []struct {
			path, header string
			code         int
		}{
			{"/feed.xml", "", 200},
			{"/feed.xml", "If-None-Match: *", 304},
			{"/episodes/one/", "", 200},
			{"/episodes/one/embed/", "", 200},
			{"/alpha/episodes/two/embed/", "", 200},
			{"/media/one/0123456789abcdef.mp3", "Range: bytes=0-99", 206},
			{"/episodes/one/transcript.vtt", "", 200},
			{"/nothing-here/", "", 404},
			{"/healthz", "", 200},
		} {
			for range 3 { // the first from the bucket, then kept
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("GET", base+tc.path, nil)
					if k, v, ok := strings.Cut(tc.header, ": "); ok {
						req.Header.Set(k, v)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					h := resp.Header
					if resp.StatusCode != tc.code {
						t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.code)
					}
					csp := h.Get("Content-Security-Policy")
					wantFrame := "frame-ancestors 'self'"
					if strings.Contains(tc.path, "/embed/") {
						wantFrame = "frame-ancestors *"
					}
					if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "object-src 'none'") || !strings.Contains(csp, wantFrame) {
						t.Errorf("%s %s: Content-Security-Policy %q; want script-src 'self', object-src 'none', %s", tc.path, tc.header, csp, wantFrame)
					}
					if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
						t.Errorf("%s %s: nosniff %q, Referrer-Policy %q", tc.path, tc.header, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
					}
					if got := h.Get("Strict-Transport-Security"); (got != "") != https {
						t.Errorf("%s with an https public URL %v: Strict-Transport-Security %q", tc.path, https, got)
					}
				}()
			}
			wg.Wait()
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		srv.Shutdown(sctx)
		cancel()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}
}
