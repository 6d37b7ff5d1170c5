package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// countingStore counts the bucket's reads, in all and by key.
type countingStore struct {
	*memstore.Store
	opens, stats atomic.Int64

	mu    sync.Mutex
	byKey map[string]int
}

func (c *countingStore) OpenObject(ctx context.Context, key string) (pipeline.Reader, pipeline.Object, error) {
	c.opens.Add(1)
	c.mu.Lock()
	if c.byKey == nil {
		c.byKey = map[string]int{}
	}
	c.byKey[key]++
	c.mu.Unlock()
	return c.Store.OpenObject(ctx, key)
}

// opened is how often key was opened.
func (c *countingStore) opened(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byKey[key]
}

func (c *countingStore) Stat(ctx context.Context, key string) (pipeline.Object, error) {
	c.stats.Add(1)
	return c.Store.Stat(ctx, key)
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	put := func(key, body, ct string) {
		if err := st.PutBytes(ctx, key, []byte(body), pipeline.Put{ContentType: ct}); err != nil {
			t.Fatal(err)
		}
	}
	feed := "<rss>" + strings.Repeat("<item>episode</item>", 500) + "</rss>"
	put("public/feed.xml", feed, "application/rss+xml")
	put("public/media/big.mp3", strings.Repeat("A", cacheMaxSmall+1), "audio/mpeg")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newCache(st, slog.New(slog.DiscardHandler))
	c.now = func() time.Time { return now }
	get := func(key string) (*cached, string) {
		t.Helper()
		e, r, _, err := c.get(ctx, key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if r != nil {
			defer r.Close()
			b, _ := io.ReadAll(r)
			return nil, string(b)
		}
		return e, string(e.body)
	}
	counts := func(opens, stats int64) {
		t.Helper()
		if st.opens.Load() != opens || st.stats.Load() != stats {
			t.Errorf("the bucket was opened %d times and asked %d, want %d and %d", st.opens.Load(), st.stats.Load(), opens, stats)
		}
	}
	if _, body := get("public/feed.xml"); body != feed {
		t.Fatal("first read")
	}
	get("public/feed.xml")
	counts(1, 0) // fresh: from memory
	now = now.Add(CacheFresh)
	get("public/feed.xml")
	counts(1, 1) // stale: asked, unchanged, kept
	put("public/feed.xml", "<rss>new</rss>", "application/rss+xml")
	c.expire() // a rebuild's message
	if _, body := get("public/feed.xml"); body != "<rss>new</rss>" {
		t.Errorf("after a change and its message: %q", body)
	}
	counts(2, 2)
	now = now.Add(CacheFresh)
	st.SetFail(errors.New("connection refused"))
	if _, body := get("public/feed.xml"); body != "<rss>new</rss>" {
		t.Errorf("during an outage the kept version is served: %q", body)
	}
	st.SetFail(nil)
	st.Delete(ctx, "public/feed.xml")
	if _, _, _, err := c.get(ctx, "public/feed.xml"); !errors.Is(err, pipeline.ErrNotFound) {
		t.Errorf("a removed object: %v, want not found", err)
	}
	if e, body := get("public/media/big.mp3"); e != nil || len(body) != cacheMaxSmall+1 {
		t.Errorf("big media is kept (%v) or cut (%d bytes)", e != nil, len(body))
	}

	put("public/feed.xml", feed, "application/rss+xml")
	e, _ := get("public/feed.xml")
	gzForm, brForm := c.form(e, gzipped), c.form(e, brotlied)
	zr, _ := gzip.NewReader(bytes.NewReader(gzForm.body))
	gz, _ := io.ReadAll(zr)
	br, _ := io.ReadAll(brotli.NewReader(bytes.NewReader(brForm.body)))
	if string(gz) != feed || string(br) != feed || len(brForm.body) >= len(feed) {
		t.Errorf("compressed forms do not give the feed back")
	}
	for _, f := range []*form{gzForm, brForm} {
		if got, want := f.header.Get("Content-Length"), strconv.Itoa(len(f.body)); got != want {
			t.Errorf("Content-Length %s for %d bytes", got, len(f.body))
		}
		if want := "Content-Length: " + strconv.Itoa(len(f.body)) + "\r\n"; !strings.Contains(string(f.raw), want) {
			t.Errorf("the front's header lines %q lack %q", f.raw, want)
		}
		if raw3 := "\r\n" + string(f.raw3); strings.Contains(raw3, "\nContent-Length:") || strings.Contains(raw3, "\nContent-Type:") {
			t.Errorf("a 304's header lines %q carry the body's length or type", f.raw3)
		}
	}
	if c.bytes != int64(len(feed)+len(gzForm.body)+len(brForm.body)) {
		t.Errorf("the cache counts %d bytes, want the three forms' %d", c.bytes, len(feed)+len(gzForm.body)+len(brForm.body))
	}

	// A body of sendfileMin bytes or more gets a memory file, sealed,
	// closed when its object leaves.
	big := strings.Repeat("<item>a longer episode</item>", sendfileMin/20)
	put("public/big.xml", big, "application/rss+xml")
	e, _ = get("public/big.xml")
	bytesBefore := c.bytes
	f := c.memFile(e, &e.forms[identity])
	if f == nil {
		t.Fatal("no memory file for a big body")
	}
	if b, err := io.ReadAll(io.NewSectionReader(f, 0, int64(len(big))+1)); err != nil || string(b) != big {
		t.Errorf("the memory file holds %d bytes (%v), want the body's %d", len(b), err, len(big))
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("a memory file can be written to")
	}
	if c.memFile(e, &e.forms[identity]) != f || c.files != 1 || c.bytes != bytesBefore+int64(len(big)) {
		t.Errorf("a second ask: %d files, %d bytes more", c.files, c.bytes-bytesBefore)
	}
	if c.memFile(e, gzForm) != nil {
		t.Error("a memory file for a small body")
	}
	c.drop("public/big.xml")
	if _, err := f.Stat(); err == nil || c.files != 0 {
		t.Errorf("a dropped object's memory file is open (%d held)", c.files)
	}
}

// TestNotModifiedFromMemory: a conditional request for a kept object is
// answered 304 without the bucket, and the client gets the smallest form
// it accepts.
func TestNotModifiedFromMemory(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	st.PutBytes(ctx, "public/feed.xml", []byte("<rss>"+strings.Repeat("<item>x</item>", 300)+"</rss>"), pipeline.Put{ContentType: "application/rss+xml"})
	srv := httptest.NewServer(New(Config{Store: st}))
	defer srv.Close()
	do := func(header ...string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/feed.xml", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	first := do()
	etag := first.Header.Get("ETag")
	opens, stats := st.opens.Load(), st.stats.Load()
	for _, tc := range []struct{ ae, enc, etag string }{
		{"", "", etag}, {"gzip", "gzip", strings.TrimSuffix(etag, `"`) + `-gz"`}, {"gzip, br", "br", strings.TrimSuffix(etag, `"`) + `-br"`},
		{"br;q=0, gzip", "gzip", strings.TrimSuffix(etag, `"`) + `-gz"`},
	} {
		resp := do("Accept-Encoding", tc.ae)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tc.enc || resp.Header.Get("ETag") != tc.etag {
			t.Errorf("Accept-Encoding %q: %d, %q, %q", tc.ae, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"))
		}
		if resp = do("Accept-Encoding", tc.ae, "If-None-Match", tc.etag); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match %s: %d, want 304", tc.etag, resp.StatusCode)
		}
	}
	lm := first.Header.Get("Last-Modified")
	if resp := do("If-Modified-Since", lm); resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != etag {
		t.Errorf("If-Modified-Since the version's time: %d, want 304 with its ETag", resp.StatusCode)
	}
	if resp := do("If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"); resp.StatusCode != 200 {
		t.Errorf("If-Modified-Since long ago: %d, want 200", resp.StatusCode)
	}
	if resp := do("If-None-Match", `"other", W/`+etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("a weak match in a list: %d, want 304", resp.StatusCode)
	}
	if resp := do("If-None-Match", `"other"`, "If-Modified-Since", lm); resp.StatusCode != 200 {
		t.Errorf("If-None-Match that fails wins over If-Modified-Since: %d, want 200", resp.StatusCode)
	}
	if resp := do("Range", "bytes=0-9"); resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") == "" {
		t.Errorf("a range of a kept object: %d %q", resp.StatusCode, resp.Header.Get("Content-Range"))
	}
	if st.opens.Load() != opens || st.stats.Load() != stats {
		t.Errorf("answers from memory touched the bucket: %d opens, %d stats", st.opens.Load()-opens, st.stats.Load()-stats)
	}
}
