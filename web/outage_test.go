package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// stalled is a bucket that, while down, answers nothing: each call waits
// until its context ends, as a stopped S3 behind a load balancer does.
// memstore's SetFail fails at once, which is the easy case.
type stalled struct {
	*memstore.Store
	down  atomic.Bool
	calls atomic.Int64 // while down
}

func (s *stalled) wait(ctx context.Context) error {
	if !s.down.Load() {
		return nil
	}
	s.calls.Add(1)
	<-ctx.Done()
	return pipeline.Unavailable("S3", ctx.Err())
}

func (s *stalled) Stat(ctx context.Context, key string) (pipeline.Object, error) {
	if err := s.wait(ctx); err != nil {
		return pipeline.Object{}, err
	}
	return s.Store.Stat(ctx, key)
}

func (s *stalled) OpenObject(ctx context.Context, key string) (pipeline.Reader, pipeline.Object, error) {
	if err := s.wait(ctx); err != nil {
		return nil, pipeline.Object{}, err
	}
	return s.Store.OpenObject(ctx, key)
}

func (s *stalled) Ping(ctx context.Context) error {
	if s.down.Load() {
		return pipeline.Unavailable("S3", context.DeadlineExceeded)
	}
	return nil
}

// TestServeThroughOutage: with the bucket stalled, what serve keeps is
// answered at once without asking it again and again, what it does not
// keep gets 503 with Retry-After at once, and once the bucket answers its
// ping again, serve reads it again.
func TestServeThroughOutage(t *testing.T) {
	st := &stalled{Store: memstore.New()}
	ctx := context.Background()
	for key, body := range map[string]string{"public/feed.xml": "<rss/>", "public/episodes/one/index.html": "<p>one</p>"} {
		if err := st.PutBytes(ctx, key, []byte(body), pipeline.Put{ContentType: "text/html"}); err != nil {
			t.Fatal(err)
		}
	}
	s, h := newServer(Config{Store: st, Log: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(h)
	defer func() {
		srv.Close()
		s.stop()
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(50 * time.Millisecond)
	}()
	for _, p := range []string{"/feed.xml", "/episodes/one/"} {
		if resp, _ := get(t, srv.URL+p); resp.StatusCode != 200 {
			t.Fatalf("%s: %s", p, resp.Status)
		}
	}
	s.cache.now = func() time.Time { return time.Now().Add(time.Hour) } // everything kept is stale
	st.down.Store(true)
	var wg sync.WaitGroup
	var slowest atomic.Int64
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := []string{"/feed.xml", "/episodes/one/"}[i%2]
			start := time.Now()
			resp, body := get(t, srv.URL+p)
			if d := time.Since(start); int64(d) > slowest.Load() {
				slowest.Store(int64(d))
			}
			if resp.StatusCode != 200 || body == "" {
				t.Errorf("%s during the outage: %s", p, resp.Status)
			}
		}()
	}
	wg.Wait()
	if n := st.calls.Load(); n > 2 {
		t.Errorf("40 requests for kept objects asked the stalled bucket %d times; want it asked once, then not while down", n)
	}
	if d := time.Duration(slowest.Load()); d > time.Second {
		t.Errorf("the slowest answer of a kept object took %s during the outage", d)
	}
	before := st.calls.Load()
	start := time.Now()
	resp, _ := get(t, srv.URL+"/episodes/never-read/")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || time.Since(start) > time.Second {
		t.Errorf("an object never read, during the outage: %s after %s; want 503 with Retry-After at once", resp.Status, time.Since(start))
	}
	if st.calls.Load() != before {
		t.Error("an object never read asked the stalled bucket")
	}
	st.down.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := get(t, srv.URL+"/episodes/never-read/")
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the bucket came back serve still answers %s", resp.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(tb testing.TB, url string) (*http.Response, string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestProbeEndsAtShutdown: the bucket's probe, started by an outage, ends
// with the server even while the bucket is still down.
func TestProbeEndsAtShutdown(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	st := &stalled{Store: memstore.New()}
	st.down.Store(true)
	s, h := newServer(Config{Store: st, Log: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(h)
	if resp, _ := get(t, srv.URL+"/feed.xml"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a miss while the bucket is stalled: %s", resp.Status)
	}
	if !s.outage.down() {
		t.Fatal("no outage started")
	}
	srv.Close()
	http.DefaultClient.CloseIdleConnections()
	s.stop()
}
