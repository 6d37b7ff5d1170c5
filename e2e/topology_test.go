package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"

	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
)

const testShowYAML = `title: "Python in Production"
description: "Interviews with people who run Python services: async, Flask & Falcon, OAuth 2.0."
author: "Jo Host"
owner: {name: "Jo Host", email: "jo@example.com"}
language: en
category: Technology
explicit: false
`

// TestTopology runs the production roles as separate processes on real
// Redis and MinIO, as docker-compose does, and puts good and bad bundles
// through them.
func TestTopology(t *testing.T) {
	env := MustEnv(t)
	MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML)
	for _, d := range []string{"drop", "done", "failed"} {
		os.MkdirAll(filepath.Join(env.Data, d), 0o755)
	}
	workerMetrics := FreeAddr(t)
	Start(t, append(env.Vars(), "PRODCAST_METRICS_LISTEN="+workerMetrics), "worker")
	watch := Start(t, env.Vars(), "watch")
	Start(t, env.Vars(), "serve")

	staging := t.TempDir()
	good := filepath.Join(staging, "ep1-flask")
	MustSpeechWAV(t, filepath.Join(good, "interview.wav"), 6, 2)
	MustWrite(t, filepath.Join(good, "episode.md"), `---
title: "Flask & Falcon: patterns <that> scale"
guests:
  - {name: "Ada Lovelace", role: "SRE", url: "https://example.com/ada"}
  - {name: "Grace Hopper", role: "Platform lead"}
season: 1
episode: 1
tags: [flask, falcon]
---
We talk about **Flask** blueprints and Falcon resources.

<script>alert("xss")</script>
`)
	lone := filepath.Join(staging, "lone-take.mp3")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=f=330:d=3", "-ac", "1", "-metadata", "title=Async Django, no Kubernetes", lone)

	bad := map[string]string{ // bundle -> what ERROR.txt must say
		"no-title":       `episode.md has no "title"`,
		"bad-yaml":       "not valid YAML",
		"no-audio":       "has no recording",
		"two-recordings": "has 2 recordings",
		"unreadable":     "ffprobe cannot read",
		"too-short":      "only 0.50 s long",
	}
	MustWrite(t, filepath.Join(staging, "no-title", "episode.md"), "---\nslug: no-title\n---\nnotes\n")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=2", filepath.Join(staging, "no-title", "a.wav"))
	MustWrite(t, filepath.Join(staging, "bad-yaml", "episode.md"), "---\ntitle: [oops\n---\n")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=2", filepath.Join(staging, "bad-yaml", "a.wav"))
	MustWrite(t, filepath.Join(staging, "no-audio", "episode.md"), "---\ntitle: No audio\n---\n")
	MustWrite(t, filepath.Join(staging, "two-recordings", "episode.md"), "---\ntitle: Two\n---\n")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=2", filepath.Join(staging, "two-recordings", "a.wav"))
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=2", filepath.Join(staging, "two-recordings", "b.mp3"))
	MustWrite(t, filepath.Join(staging, "unreadable", "episode.md"), "---\ntitle: Unreadable\n---\n")
	MustWrite(t, filepath.Join(staging, "unreadable", "broken.wav"), strings.Repeat("not audio at all\x00\x01", 500))
	MustWrite(t, filepath.Join(staging, "too-short", "episode.md"), "---\ntitle: Too short\n---\n")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=0.5", filepath.Join(staging, "too-short", "a.wav"))

	before := map[string]map[string]string{}
	for name := range bad {
		before[name] = TreeHashes(t, filepath.Join(staging, name))
		MoveIn(t, env.Data, filepath.Join(staging, name))
	}
	MoveIn(t, env.Data, good)
	MoveIn(t, env.Data, lone)

	WaitFor(t, 90*time.Second, "2 bundles in done/ and 6 in failed/", func() bool {
		return len(Entries(filepath.Join(env.Data, "done"))) == 2 && len(Entries(filepath.Join(env.Data, "failed"))) == 6
	})

	t.Run("Failed", func(t *testing.T) {
		checkFailed(t, env.Data, bad, before)
	})

	feed := mustFeed(t, env)
	t.Run("Metrics", func(t *testing.T) {
		_, worker := Get(t, "http://"+workerMetrics+"/metrics")
		_, serve := GetMetrics(t, env.URL("/metrics"))
		for _, want := range []string{`prodcast_bundles_total{outcome="published"} 2`, `prodcast_bundles_total{outcome="refused"} 6`,
			"prodcast_encode_seconds_count 2", `prodcast_episodes{show="",state="published"} 2`} {
			if !strings.Contains(string(worker), want) {
				t.Errorf("the worker's metrics lack %q", want)
			}
		}
		for _, want := range []string{`prodcast_queue_tasks{queue="default",state="pending"} 0`, `prodcast_queue_tasks_today{queue="default",result="processed"}`,
			"prodcast_http_requests_total"} {
			if !strings.Contains(string(serve), want) {
				t.Errorf("serve's metrics lack %q", want)
			}
		}
	})

	t.Run("Feed", func(t *testing.T) {
		if len(feed.Items) != 2 {
			t.Fatalf("feed has %d items, want 2", len(feed.Items))
		}
		titles := []string{feed.Items[0].Title, feed.Items[1].Title}
		sort.Strings(titles)
		if diff := cmp.Diff([]string{"Async Django, no Kubernetes", "Flask & Falcon: patterns <that> scale"}, titles); diff != "" {
			t.Errorf("titles (-want +got):\n%s", diff)
		}
		for _, it := range feed.Items {
			enc := it.Enclosures[0]
			if it.GUID == "" || it.GUID == enc.URL {
				t.Errorf("%q: GUID %q must be set and not the media URL", it.Title, it.GUID)
			}
			if it.ITunesExt == nil || it.ITunesExt.Duration == "" {
				t.Errorf("%q: no itunes:duration", it.Title)
			}
			if !strings.HasPrefix(it.Link, env.URL("/episodes/")) {
				t.Errorf("%q: link %q is not the episode page", it.Title, it.Link)
			}
			checkMedia(t, enc.URL, enc.Length, enc.Type)
		}
	})

	t.Run("PodcastApps", func(t *testing.T) {
		checkParsers(t, env, feed)
	})

	t.Run("Page", func(t *testing.T) {
		slug := "flask-and-falcon-patterns-that-scale"
		resp, body := Get(t, env.URL("/episodes/"+slug+"/"))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("page: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		page := string(body)
		for _, want := range []string{"Flask &amp; Falcon: patterns &lt;that&gt; scale", "Ada Lovelace", "SRE",
			"Grace Hopper", `<audio id="player" controls preload="metadata"`, "<strong>Flask</strong> blueprints"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		// The page's own JSON-LD is data, and player.js is prodcast's;
		// nothing else may be a script.
		own := strings.NewReplacer(`<script type="application/ld+json">`, "", `<script src="/player.js" defer>`, "")
		if strings.Contains(own.Replace(page), "<script") {
			t.Errorf("page carries a script from the notes")
		}
		resp, _ = Get(t, env.URL("/episodes/"+slug))
		if resp.Request.URL.Path != "/episodes/"+slug+"/" || resp.StatusCode != 200 {
			t.Errorf("page without slash: %s at %s", resp.Status, resp.Request.URL)
		}
		resp, body = Get(t, env.URL("/"))
		if resp.StatusCode != 200 || !strings.Contains(string(body), "/episodes/"+slug+"/") {
			t.Errorf("index does not link the episode: %s", resp.Status)
		}
		if resp, _ := Get(t, env.URL("/healthz")); resp.StatusCode != 200 {
			t.Errorf("healthz: %s", resp.Status)
		}
		if resp, _ := Get(t, env.URL("/episodes/nope/")); resp.StatusCode != 404 {
			t.Errorf("missing page: %s, want 404", resp.Status)
		}
	})

	t.Run("Originals", func(t *testing.T) {
		st := env.Store(t)
		objs, err := st.List(t.Context(), catalog.RootPrivate+"originals/")
		if err != nil {
			t.Fatal(err)
		}
		want := TreeHashes(t, filepath.Join(env.Data, "done", "ep1-flask"))["interview.wav"]
		found := false
		for _, o := range objs {
			found = found || o.Key == catalog.RootPrivate+"originals/"+"flask-and-falcon-patterns-that-scale/"+want+".wav"
		}
		if !found {
			t.Errorf("original not archived by content hash; have %v", objs)
		}
		// Uploaded once, to the archive: nothing of the recording is left
		// in the bundle's folder.
		uploads, err := st.List(t.Context(), catalog.Layout{}.BundlesPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range uploads {
			if strings.HasSuffix(o.Key, ".wav") {
				t.Errorf("a recording is left in its bundle's folder: %s", o.Key)
			}
		}
		if pub, _ := st.List(t.Context(), "public/"); len(pub) == 0 {
			t.Error("nothing under public/")
		} else {
			for _, o := range pub {
				if strings.Contains(o.Key, "original") || strings.HasSuffix(o.Key, ".wav") {
					t.Errorf("private object under public/: %s", o.Key)
				}
			}
		}
	})

	t.Run("Status", func(t *testing.T) {
		out, err := Run(t, env.Vars(), "status")
		if err != nil {
			t.Fatalf("status: %v\n%s", err, out)
		}
		for _, want := range []string{"flask-and-falcon-patterns-that-scale", "published", "async-django-no-kubernetes",
			"bundle unreadable", "ffprobe cannot read", "How to fix it"} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("FeedHTTP", func(t *testing.T) {
		resp, plain := Get(t, env.URL("/feed.xml"))
		etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if etag == "" || lastMod == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/rss+xml") {
			t.Fatalf("feed headers: %v", resp.Header)
		}
		if r, _ := Get(t, env.URL("/feed.xml"), "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %s, want 304", r.Status)
		}
		if r, _ := Get(t, env.URL("/feed.xml"), "If-Modified-Since", lastMod); r.StatusCode != http.StatusNotModified {
			t.Errorf("If-Modified-Since: %s, want 304", r.Status)
		}
		r, gz := Get(t, env.URL("/feed.xml"), "Accept-Encoding", "gzip")
		if r.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", r.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, _ := io.ReadAll(zr)
		if !bytes.Equal(unzipped, plain) || len(gz) >= len(plain) {
			t.Errorf("gzip body: %d bytes, unzips to %d; plain is %d", len(gz), len(unzipped), len(plain))
		}
		if r2, _ := Get(t, env.URL("/feed.xml"), "Accept-Encoding", "gzip", "If-None-Match", r.Header.Get("ETag")); r2.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match on the gzip ETag: %s, want 304", r2.Status)
		}
	})

	t.Run("BrokenBuildRefused", func(t *testing.T) {
		_, good := Get(t, env.URL("/feed.xml"))
		st := env.Store(t)
		slug := "async-django-no-kubernetes"
		key := catalog.Layout{}.ManifestKey(slug)
		orig, err := st.Get(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(orig, &m)
		m["mp3"].(map[string]any)["bytes"] = 0 // a build that breaks item-enclosure-length
		broken, _ := json.Marshal(m)
		if err := st.PutBytes(t.Context(), key, broken, s3.Put{ContentType: "application/json"}); err != nil {
			t.Fatal(err)
		}
		// A changed show.yaml makes the watcher ask for a rebuild.
		MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML+"funding: {url: \"https://example.com/support\", text: \"Support\"}\n")
		WaitFor(t, 30*time.Second, "the refused feed in status", func() bool {
			out, _ := Run(t, env.Vars(), "status")
			return strings.Contains(out, "feed refused") && strings.Contains(out, "item-enclosure-length")
		})
		if _, now := Get(t, env.URL("/feed.xml")); !bytes.Equal(now, good) {
			t.Errorf("the feed changed although the build was refused")
		}
		if err := st.PutBytes(t.Context(), key, orig, s3.Put{ContentType: "application/json"}); err != nil {
			t.Fatal(err)
		}
		MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML)
		WaitFor(t, 30*time.Second, "a good feed again", func() bool {
			out, _ := Run(t, env.Vars(), "status")
			return !strings.Contains(out, "feed refused")
		})
	})

	t.Run("RedropUpdatesInPlace", func(t *testing.T) {
		guid, media := itemBy(feed, "Flask & Falcon: patterns <that> scale")
		again := filepath.Join(staging, "ep1-flask-v2")
		os.MkdirAll(again, 0o755)
		wav, _ := os.ReadFile(filepath.Join(env.Data, "done", "ep1-flask", "interview.wav"))
		os.WriteFile(filepath.Join(again, "interview.wav"), wav, 0o644)
		MustWrite(t, filepath.Join(again, "episode.md"), "---\ntitle: \"Flask & Falcon: patterns <that> scale\"\n---\nUpdated notes about OAuth 2.0.\n")
		MoveIn(t, env.Data, again)
		WaitFor(t, 60*time.Second, "the updated notes in the feed", func() bool {
			_, body := TryGet(env.URL("/feed.xml"))
			return strings.Contains(string(body), "Updated notes about OAuth 2.0.")
		})
		f := mustFeed(t, env)
		g2, m2 := itemBy(f, "Flask & Falcon: patterns <that> scale")
		if len(f.Items) != 2 || g2 != guid || m2 != media {
			t.Errorf("re-drop: %d items, guid %q -> %q, media %q -> %q; want 2 items, same GUID, same media (audio unchanged)",
				len(f.Items), guid, g2, media, m2)
		}
		WaitFor(t, 30*time.Second, "the re-dropped bundle in done/", func() bool {
			return len(Entries(filepath.Join(env.Data, "done"))) == 3
		})
		if n := strings.Count(watch.Output(), "bundle published"); n != 3 {
			t.Errorf("watcher reported %d published bundles, want 3", n)
		}
	})

	t.Run("RetryFromFailed", func(t *testing.T) {
		dir := filepath.Join(env.Data, "failed", "no-title")
		MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: Now with a title\n---\nFixed.\n")
		if err := os.Rename(dir, filepath.Join(env.Data, "drop", "no-title")); err != nil {
			t.Fatal(err)
		}
		WaitFor(t, 60*time.Second, "the fixed bundle in the feed", func() bool {
			return FeedItems(env.URL("/feed.xml")) == 3
		})
	})
}

func mustFeed(t *testing.T, env *Env) *gofeed.Feed {
	t.Helper()
	resp, body := Get(t, env.URL("/feed.xml"))
	if resp.StatusCode != 200 {
		t.Fatalf("feed: %s", resp.Status)
	}
	f, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatalf("gofeed cannot parse the feed: %v", err)
	}
	return f
}

func itemBy(f *gofeed.Feed, title string) (guid, media string) {
	for _, it := range f.Items {
		if it.Title == title {
			return it.GUID, it.Enclosures[0].URL
		}
	}
	return "", ""
}

// checkMedia checks that the enclosure's length and type are what the
// server sends, and that Range and HEAD work.
func checkMedia(t *testing.T, url, length, typ string) {
	t.Helper()
	resp, body := Get(t, url)
	if resp.StatusCode != 200 || strconv.Itoa(len(body)) != length {
		t.Errorf("%s: %s with %d bytes; enclosure length is %s", url, resp.Status, len(body), length)
	}
	if resp.Header.Get("Content-Type") != typ || typ != "audio/mpeg" {
		t.Errorf("%s: Content-Type %q, enclosure type %q, want audio/mpeg", url, resp.Header.Get("Content-Type"), typ)
	}
	head, err := http.Head(url)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.Header.Get("Content-Length") != length || head.Header.Get("ETag") == "" {
		t.Errorf("HEAD %s: Content-Length %q (want %s), ETag %q", url, head.Header.Get("Content-Length"), length, head.Header.Get("ETag"))
	}
	resp, part := Get(t, url, "Range", "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || len(part) != 100 || string(part) != string(body[100:200]) ||
		resp.Header.Get("Content-Range") != "bytes 100-199/"+length {
		t.Errorf("Range: %s, %d bytes, Content-Range %q", resp.Status, len(part), resp.Header.Get("Content-Range"))
	}
	resp, _ = Get(t, url, "If-None-Match", head.Header.Get("ETag"))
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s, want 304", resp.Status)
	}
}

type parsed struct {
	Title string `json:"title"`
	Bozo  bool   `json:"bozo"`
	Exc   string `json:"bozo_exception"`
	Items []struct {
		GUID   string `json:"guid"`
		Title  string `json:"title"`
		URL    string `json:"url"`
		Length int64  `json:"length"`
	} `json:"items"`
}

// checkParsers has gPodder's podcastparser and feedparser read the feed, and
// compares what they see with gofeed.
func checkParsers(t *testing.T, env *Env, feed *gofeed.Feed) {
	t.Helper()
	checkParsersAt(t, env.URL("/feed.xml"), feed)
}

// checkParsersAt checks that podcastparser and feedparser read the feed at
// feedURL as gofeed did.
func checkParsersAt(t *testing.T, feedURL string, feed *gofeed.Feed) {
	t.Helper()
	_, body := Get(t, feedURL)
	path := filepath.Join(t.TempDir(), "feed.xml")
	os.WriteFile(path, body, 0o644)
	out, err := exec.Command("/usr/bin/python3", "testdata/parsefeed.py", path, feedURL).Output()
	if err != nil {
		t.Fatalf("parsefeed.py (needs python3-podcastparser and python3-feedparser): %v", err)
	}
	var got map[string]parsed
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, it := range feed.Items {
		want[it.GUID] = it.Enclosures[0].URL + " " + it.Enclosures[0].Length
	}
	for _, name := range []string{"podcastparser", "feedparser"} {
		p := got[name]
		if p.Bozo {
			t.Errorf("feedparser finds the feed malformed: %s", p.Exc)
		}
		if p.Title != feed.Title {
			t.Errorf("%s: title %q, gofeed %q", name, p.Title, feed.Title)
		}
		seen := map[string]string{}
		for _, it := range p.Items {
			seen[it.GUID] = fmt.Sprintf("%s %d", it.URL, it.Length)
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("%s sees other items than gofeed (-gofeed +%s):\n%s", name, name, diff)
		}
	}
}
