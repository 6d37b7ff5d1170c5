package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/memstore"
	"github.com/prodcast/prodcast/web"
)

func mustServer(tb testing.TB) (*httptest.Server, *memstore.Store) {
	tb.Helper()
	st := memstore.New()
	ctx := context.Background()
	put := func(key, body, ct string) {
		if err := st.PutBytes(ctx, key, []byte(body), pipeline.Put{ContentType: ct}); err != nil {
			tb.Fatal(err)
		}
	}
	put("public/feed.xml", "<rss>root</rss>", "application/rss+xml; charset=utf-8")
	put("public/episodes/intro/index.html", "<p>root intro</p>", "text/html; charset=utf-8")
	put("public/alpha/feed.xml", "<rss>alpha</rss>", "application/rss+xml; charset=utf-8")
	put("public/alpha/episodes/intro/index.html", "<p>alpha intro</p>", "text/html; charset=utf-8")
	put("public/alpha/media/intro/abc.mp3", strings.Repeat("A", 1000), "audio/mpeg")
	put("private/show.yaml", "secret", "application/yaml")
	srv := httptest.NewServer(web.New(web.Config{Store: st, Log: slog.New(slog.DiscardHandler)}))
	tb.Cleanup(srv.Close)
	return srv, st
}

func get(tb testing.TB, url string, header ...string) (*http.Response, string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestPublic(t *testing.T) {
	srv, st := mustServer(t)
	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/feed.xml", "<rss>root</rss>", 200},
		{"/alpha/feed.xml", "<rss>alpha</rss>", 200},
		{"/episodes/intro/", "<p>root intro</p>", 200},
		{"/alpha/episodes/intro/", "<p>alpha intro</p>", 200},
		{"/episodes/nope/", "", 404},
		{"/../private/show.yaml", "", 404},
		{"/%2e%2e/private/show.yaml", "", 404},
		{"/alpha/../../private/show.yaml", "", 404},
	} {
		resp, body := get(t, srv.URL+tc.path)
		if resp.StatusCode == http.StatusTemporaryRedirect { // the mux cleans ".." away: follow it
			resp, body = get(t, srv.URL+resp.Header.Get("Location"))
		}
		if resp.StatusCode != tc.code || (tc.want != "" && body != tc.want) || strings.Contains(body, "secret") {
			t.Errorf("GET %s: %s %q, want %d %q", tc.path, resp.Status, body, tc.code, tc.want)
		}
	}
	t.Run("OK/Redirect", func(t *testing.T) {
		resp, _ := get(t, srv.URL+"/alpha/episodes/intro")
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/alpha/episodes/intro/" {
			t.Errorf("%s to %q", resp.Status, resp.Header.Get("Location"))
		}
	})
	t.Run("OK/Range", func(t *testing.T) {
		resp, body := get(t, srv.URL+"/alpha/media/intro/abc.mp3", "Range", "bytes=10-19")
		if resp.StatusCode != http.StatusPartialContent || len(body) != 10 || resp.Header.Get("Content-Range") != "bytes 10-19/1000" {
			t.Errorf("Range: %s, %d bytes, %q", resp.Status, len(body), resp.Header.Get("Content-Range"))
		}
		etag := resp.Header.Get("ETag")
		if resp, _ := get(t, srv.URL+"/alpha/media/intro/abc.mp3", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %s", resp.Status)
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/feed.xml", "text/plain", nil)
		if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %v %v", resp, err)
		}
	})
	t.Run("ErrAdminOff", func(t *testing.T) {
		if resp, _ := get(t, srv.URL+"/admin/"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/admin/ without a password: %s", resp.Status)
		}
	})
	t.Run("ErrOutage", func(t *testing.T) {
		// A bucket that does not answer is a 503 with Retry-After, never
		// a 404: a feed reader must not take the episode for gone.
		st.SetFail(errors.New("connection refused"))
		defer st.SetFail(nil)
		for range 3 {
			if resp, _ := get(t, srv.URL+"/alpha/never-read-before.xml"); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("during an outage: %s, want 503 with Retry-After", resp.Status)
			}
		}
		if resp, _ := get(t, srv.URL+"/healthz"); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("healthz during an outage: %s, want 503", resp.Status)
		}
	})
}
