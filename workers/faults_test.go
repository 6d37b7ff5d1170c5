package workers

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/site"
)

// TestPublishOrder guards issue 9: the feed goes up last, after every page
// and file it names, so that no reader follows it to a 404.
func TestPublishOrder(t *testing.T) {
	files := map[string]site.File{}
	for _, p := range []string{"feed.xml", "sitemap.xml", "atom.xml", "index.html", "page/2/index.html", "tags/flask/index.html",
		"about/index.html", "episodes/a/index.html", "episodes/a/chapters.json", "episodes/a/transcript.vtt", "robots.txt", "style.css"} {
		files[p] = site.File{}
	}
	want := []string{
		"episodes/a/chapters.json", "episodes/a/index.html", "episodes/a/transcript.vtt",
		"about/index.html", "robots.txt", "style.css", "tags/flask/index.html",
		"index.html", "page/2/index.html",
		"atom.xml", "sitemap.xml",
		"feed.xml",
	}
	if diff := cmp.Diff(want, PublishOrder(files)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestRetryDelay(t *testing.T) {
	outage := fmt.Errorf("cannot upload %q: %w", "k", pipeline.Unavailable("S3", syscall.ECONNREFUSED))
	for n := 0; n < 40; n++ {
		if d := retryDelay(n, outage, nil); d > 30*time.Second || d <= 0 {
			t.Errorf("outage, retry %d: %s, want at most 30s", n, d)
		}
		if d := retryDelay(n, errors.New("boom"), nil); d > 5*time.Minute || d <= 0 {
			t.Errorf("error, retry %d: %s, want at most 5m", n, d)
		}
	}
	if d := retryDelay(9, errBusy, nil); d != time.Second {
		t.Errorf("busy: %s, want 1s", d)
	}
	if maxRetry*30 < 24*3600 {
		t.Errorf("maxRetry %d waits out less than a day of outage", maxRetry)
	}
}

func TestRedisErr(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errors.New("UNKNOWN: redis eval error: dial tcp 127.0.0.1:6379: connect: connection refused"), true},
		{fmt.Errorf("x: %w", syscall.ECONNREFUSED), true},
		{errors.New("LOADING Redis is loading the dataset in memory"), true},
		{errors.New("task ID conflicts with another task"), false},
	} {
		if got := pipeline.IsUnavailable(redisErr(tc.err)); got != tc.want {
			t.Errorf("redisErr(%q) unavailable = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestSweepTemp guards issue 9: a worker killed mid-encode leaves its
// temporary folder; the next start removes it, and leaves alone the
// folders of encodes still running.
func TestSweepTemp(t *testing.T) {
	dir := t.TempDir()
	running, err := newEncodeDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer running.Release()
	killed, err := newEncodeDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A kill: the process is gone, so its lock is too. Here, closing the
	// descriptor that held it does the same.
	killed.lock.Close()
	old := filepath.Join(dir, "prodcast-encode-old")
	os.MkdirAll(old, 0o755)
	os.Chtimes(old, time.Now().Add(-48*time.Hour), time.Now().Add(-48*time.Hour))
	fresh := filepath.Join(dir, "prodcast-encode-fresh")
	os.MkdirAll(fresh, 0o755)
	other := filepath.Join(dir, "not-ours")
	os.MkdirAll(other, 0o755)

	SweepTemp(dir, slog.New(slog.DiscardHandler))
	for path, want := range map[string]bool{running.Path: true, killed.Path: false, old: false, fresh: true, other: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(path), err == nil, want)
		}
	}
}
