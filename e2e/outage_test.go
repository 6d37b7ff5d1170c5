package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFaultServeThroughOutage: while the bucket is down, every URL a
// listener fetched before (the feed and its 304, pages, chapters,
// transcripts, art, 64 KiB ranges of media) keeps answering with the same
// bytes without waiting on storage, and what was never fetched answers
// 503 with Retry-After at once. The goal is 200 ms for every answer; the
// short form in `make test` checks only that nothing hangs (1 s), as
// timings on a loaded CI machine are no test.
func TestFaultServeThroughOutage(t *testing.T) {
	minio := MustMinIO(t)
	env := MustShowEnv(t, "")
	env.S3Endpoint, env.AccessKey, env.SecretKey = "http://"+minio.addr, "faulttest", "faulttestsecret"
	mediaCache := filepath.Join(t.TempDir(), "media-cache")
	vars := append(env.Vars(), "PRODCAST_MEDIA_CACHE_DIR="+mediaCache)
	Start(t, vars, "worker")
	Start(t, vars, "watch")
	Start(t, vars, "serve")
	feedURL := env.URL("/feed.xml")
	// One episode small enough to be kept in memory, one long enough
	// (over 1 MiB) for serve's disk cache.
	staging := t.TempDir()
	for i, secs := range []int{20, 200} {
		dir := filepath.Join(staging, "outage-"+[]string{"short", "long"}[i])
		MustSpeechWAV(t, filepath.Join(dir, "talk.wav"), secs, 1)
		MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: Serving through an outage, part "+[]string{"one", "two"}[i]+"\n---\nNotes.\n")
		MustWrite(t, filepath.Join(dir, "chapters.txt"), "00:00:00 Hello\n00:00:05 Async\n")
		MustWrite(t, filepath.Join(dir, "transcript.vtt"), "WEBVTT\n\n00:00.000 --> 00:02.000\n<v Jo>Hello and welcome.\n")
		MoveIn(t, env.Data, dir)
	}
	WaitFor(t, 90*time.Second, "both episodes in the feed", func() bool { return FeedItems(feedURL) == 2 })

	type fetched struct {
		url, rng string
		code     int
		body     []byte
		etag     string
	}
	get := func(u, rng, inm string) (int, []byte, http.Header, time.Duration) {
		req, _ := http.NewRequest("GET", u, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		start := time.Now()
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return 0, nil, nil, time.Since(start)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, resp.Header, time.Since(start)
	}
	f := feedOf(t, feedURL)
	urls := [][2]string{{feedURL, ""}, {env.URL("/"), ""}, {env.URL("/atom.xml"), ""}}
	if f.Image != nil {
		urls = append(urls, [2]string{f.Image.URL, ""})
	}
	for _, it := range f.Items {
		page := it.Link
		urls = append(urls, [2]string{page, ""}, [2]string{page + "chapters.json", ""}, [2]string{page + "transcript.vtt", ""},
			[2]string{it.Enclosures[0].URL, "bytes=0-65535"}, [2]string{it.Enclosures[0].URL, "bytes=65536-131071"})
	}
	var kept []fetched
	for _, u := range urls {
		code, body, h, _ := get(u[0], u[1], "")
		if code != 200 && code != 206 {
			t.Fatalf("before the outage: %s %s answered %d", u[0], u[1], code)
		}
		kept = append(kept, fetched{url: u[0], rng: u[1], code: code, body: body, etag: h.Get("ETag")})
	}
	// The media copies on disk are made in the background.
	WaitFor(t, 30*time.Second, "the media copies in serve's cache", func() bool {
		n := 0
		filepath.Walk(mediaCache, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && fi.Size() > 65536 {
				n++
			}
			return nil
		})
		return n >= 1
	})

	minio.Stop()
	stopped := time.Now()
	outage := pick(20*time.Second, 2*time.Minute)
	limit := pick(time.Second, 200*time.Millisecond)
	var answered, slow, wrong int
	var slowest time.Duration
	for i := 0; time.Since(stopped) < outage; i++ {
		k := kept[i%len(kept)]
		inm := ""
		if k.url == feedURL && i%2 == 1 {
			inm = k.etag
		}
		code, body, _, took := get(k.url, k.rng, inm)
		slowest = max(slowest, took)
		switch {
		case inm != "" && code == http.StatusNotModified:
			answered++
		case code == k.code && bytes.Equal(body, k.body):
			answered++
		default:
			wrong++
			if wrong <= 5 {
				t.Errorf("during the outage %s %s answered %d (%d bytes); before it %d (%d bytes)", k.url, k.rng, code, len(body), k.code, len(k.body))
			}
		}
		if took > limit {
			slow++
			if slow <= 5 {
				t.Errorf("during the outage %s %s took %s; the limit is %s", k.url, k.rng, took, limit)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d of %d answers during a %s outage were the same as before it; the slowest took %s", answered, answered+wrong, outage, slowest)
	for _, never := range []string{env.URL("/tags/none-such-tag/"), env.URL("/episodes/never-fetched/")} {
		code, _, h, took := get(never, "", "")
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || took > limit {
			t.Errorf("a URL never fetched, during the outage: %d, Retry-After %q, after %s; want 503 with Retry-After at once", code, h.Get("Retry-After"), took)
		}
	}

	minio.Start(t)
	WaitFor(t, 30*time.Second, "serve to read the bucket again", func() bool {
		code, _, _, _ := get(env.URL("/tags/none-such-tag/"), "", "")
		return code == http.StatusNotFound
	})
}
