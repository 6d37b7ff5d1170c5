package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// oldHost serves an existing show: three MP3s and their feed.
func oldHost(t *testing.T) (feedPath string, guids []string, srv *httptest.Server) {
	t.Helper()
	media := t.TempDir()
	for i := 1; i <= 3; i++ {
		MustFFmpeg(t, "-f", "lavfi", "-i", fmt.Sprintf("sine=f=%d:d=3", 300+100*i), "-c:a", "libmp3lame", "-b:a", "64k",
			filepath.Join(media, fmt.Sprintf("ep%d.mp3", i)))
	}
	srv = httptest.NewServer(http.FileServer(http.Dir(media)))
	t.Cleanup(srv.Close)
	size := func(i int) int64 {
		fi, _ := os.Stat(filepath.Join(media, fmt.Sprintf("ep%d.mp3", i)))
		return fi.Size()
	}
	feed := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Old Show</title><link>https://old.example.com/</link><description>Before the move</description>
<item><title>First: Python 2 to 3</title><guid isPermaLink="false">old-guid-1</guid>
  <pubDate>Mon, 02 Mar 2020 10:00:00 +0000</pubDate><itunes:duration>00:03</itunes:duration>
  <enclosure url="%[1]s/ep1.mp3" length="%[2]d" type="audio/mpeg"/>
  <content:encoded><![CDATA[<p>Notes with <b>HTML</b>.</p><script>alert(1)</script>]]></content:encoded></item>
<item><title>Second: Docker</title><guid>https://old.example.com/episodes/2</guid>
  <pubDate>Tue, 03 Mar 2020 10:00:00 +0000</pubDate>
  <enclosure url="%[1]s/ep2.mp3" length="%[3]d" type="audio/mpeg"/><description>Plain notes.</description></item>
<item><title>Third: no GUID</title><pubDate>Wed, 04 Mar 2020 10:00:00 +0000</pubDate>
  <enclosure url="%[1]s/ep3.mp3" length="%[4]d" type="audio/mpeg"/><description>No guid here.</description></item>
</channel></rss>`, srv.URL, size(1), size(2), size(3))
	feedPath = filepath.Join(t.TempDir(), "old.xml")
	MustWrite(t, feedPath, feed)
	return feedPath, []string{"old-guid-1", "https://old.example.com/episodes/2", srv.URL + "/ep3.mp3"}, srv
}

func TestImport(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "Copy", true: "KeepMediaURLs"}[keep], func(t *testing.T) {
			feedPath, want, old := oldHost(t)
			env := MustEnv(t)
			MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML)
			Start(t, env.Vars(), "worker")
			Start(t, env.Vars(), "watch")
			Start(t, env.Vars(), "serve")
			args := []string{"import", feedPath}
			if keep {
				args = []string{"import", "--keep-media-urls", feedPath}
			}
			out, err := Run(t, env.Vars(), args...)
			if err != nil || !strings.Contains(out, "itunes:new-feed-url") {
				t.Fatalf("import: %v\n%s", err, out)
			}
			WaitFor(t, 90*time.Second, "3 imported items in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 3 })
			f := mustFeed(t, env)
			var got []string
			for _, it := range f.Items {
				got = append(got, it.GUID)
				onOld := strings.HasPrefix(it.Enclosures[0].URL, old.URL)
				if onOld != keep {
					t.Errorf("%q: enclosure %s (keep media URLs: %v)", it.Title, it.Enclosures[0].URL, keep)
				}
				if !keep {
					checkMedia(t, it.Enclosures[0].URL, it.Enclosures[0].Length, it.Enclosures[0].Type)
				}
				if it.PublishedParsed == nil || it.PublishedParsed.Year() != 2020 {
					t.Errorf("%q: date %v, want the original 2020 date", it.Title, it.Published)
				}
				if strings.Contains(it.Content, "<script") {
					t.Errorf("%q: imported notes keep a script", it.Title)
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GUIDs changed in the move (-old +new):\n%s", diff)
			}
			checkParsers(t, env, f)
			out, err = Run(t, env.Vars(), args...)
			if err != nil || strings.Count(out, "is already here") != 3 {
				t.Errorf("second import: %v\n%s", err, out)
			}
		})
	}
}

// TestImportLosesNothing imports, linking the media where it is, a feed
// whose items fail in the ways real feeds do: an enclosure without a
// length on a host that answers 404 for now, two items with one GUID, an
// item without audio, an m4a. Import publishes what it can, names the
// rest and exits non-zero; the feed builds; once the host answers, the
// same import takes the missing episode.
func TestImportLosesNothing(t *testing.T) {
	var ready atomic.Bool
	media := t.TempDir()
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=f=300:d=3", "-c:a", "libmp3lame", "-b:a", "64k", filepath.Join(media, "ep1.mp3"))
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=f=400:d=3", "-c:a", "libmp3lame", "-b:a", "64k", filepath.Join(media, "late.mp3"))
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=f=500:d=3", "-c:a", "aac", "-b:a", "64k", filepath.Join(media, "ep3.m4a"))
	files := http.FileServer(http.Dir(media))
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/podcast")
		if r.URL.Path == "/late.mp3" && !ready.Load() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer host.Close()
	size := func(name string) int64 { fi, _ := os.Stat(filepath.Join(media, name)); return fi.Size() }
	MustWrite(t, filepath.Join(media, "feed.xml"), fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Old Show</title><link>https://old.example.com/</link><description>d</description>
<item><title>One</title><guid>g1</guid><pubDate>Mon, 02 Mar 2020 10:00:00 +0000</pubDate><enclosure url=" ep1.mp3" length="%d" type="audio/mpeg"/></item>
<item><title>One, again</title><guid>g1</guid><pubDate>Mon, 02 Mar 2020 10:00:00 +0000</pubDate><enclosure url="ep1.mp3" length="%[1]d" type="audio/mpeg"/></item>
<item><title>Late</title><guid>g2</guid><pubDate>Thu, 05 Mar 20 10:00:00 GMT</pubDate><enclosure url="%s/late.mp3" type="audio/mpeg"/></item>
<item><title>No audio</title><guid>g4</guid><pubDate>Mon, 02 Mar 2020 10:00:00 +0000</pubDate></item>
<item><title>Three</title><guid>g3</guid><pubDate>Mon, 02 Mar 2020 10:00:00 +0000</pubDate><enclosure url="%[2]s/ep3.m4a" length="%d" type="audio/x-m4a"/></item>
</channel></rss>`, size("ep1.mp3"), host.URL, size("ep3.m4a")))
	env := MustShowEnv(t, "")
	StartRoles(t, env)
	args := []string{"import", "--keep-media-urls", host.URL + "/podcast/feed.xml"}
	out, err := Run(t, env.Vars(), args...)
	if err == nil || !strings.Contains(out, `"Late" not imported`) || !strings.Contains(out, `"No audio" not imported`) ||
		!strings.Contains(out, "2 of the feed's 5 items were not imported") {
		t.Fatalf("import with a missing episode: %v, want a non-zero exit naming it\n%s", err, out)
	}
	WaitFor(t, 60*time.Second, "the two importable episodes in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 2 })
	f := mustFeed(t, env)
	for _, it := range f.Items {
		if it.Title == "Three" && it.Enclosures[0].Type != "audio/x-m4a" {
			t.Errorf("the m4a is announced as %s", it.Enclosures[0].Type)
		}
		if it.Title == "One" && it.Enclosures[0].URL != host.URL+"/podcast/ep1.mp3" {
			t.Errorf("a relative enclosure URL became %q", it.Enclosures[0].URL)
		}
	}
	ready.Store(true)
	out, err = Run(t, env.Vars(), args...)
	if !strings.Contains(out, "is already here") || !strings.Contains(out, "+ late") || !strings.Contains(out, "1 of the feed's 5 items were not imported") {
		t.Fatalf("the second import: %v\n%s", err, out)
	}
	WaitFor(t, 60*time.Second, "the late episode in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 3 })
	for _, it := range mustFeed(t, env).Items {
		if it.Title == "Late" && (it.PublishedParsed == nil || it.PublishedParsed.Year() != 2020) {
			t.Errorf("Thu, 05 Mar 20 became %v", it.Published)
		}
	}
}

// TestImportRefusesPrivate: a feed being imported or validated names
// loopback URLs (its enclosures, and a redirect to them): without
// PRODCAST_ALLOW_PRIVATE_FETCH, prodcast refuses them in plain words and
// no request reaches them.
func TestImportRefusesPrivate(t *testing.T) {
	feedPath, _, _ := oldHost(t)
	var hits atomic.Int64
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer inner.Close()
	env := MustShowEnv(t, "")
	vars := append(env.Vars(), "PRODCAST_ALLOW_PRIVATE_FETCH=")
	out, err := Run(t, vars, "import", feedPath)
	if err == nil || !strings.Contains(out, "private, loopback or link-local address") || !strings.Contains(out, "PRODCAST_ALLOW_PRIVATE_FETCH") {
		t.Errorf("import of a feed naming loopback media: %v, want each refused\n%s", err, out)
	}
	if out, err := Run(t, vars, "validate", inner.URL+"/feed.xml"); err == nil || !strings.Contains(out, "private, loopback or link-local address") {
		t.Errorf("validate of a loopback URL: %v\n%s", err, out)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the loopback server", n)
	}
}

// TestImportNoAudio: a feed with no audio at all (a blog's feed given by
// mistake) is refused in one line; nothing is imported and no migration
// guide is printed.
func TestImportNoAudio(t *testing.T) {
	env := MustShowEnv(t, "")
	feed := filepath.Join(t.TempDir(), "blog.xml")
	MustWrite(t, feed, `<?xml version="1.0"?><rss version="2.0"><channel><title>A blog</title><link>https://blog.test/</link><description>d</description>
<item><title>Post one</title><guid>p1</guid><pubDate>Mon, 02 Mar 2020 10:00:00 +0000</pubDate><description>Text.</description></item>
<item><title>Post two</title><guid>p2</guid><pubDate>Mon, 02 Mar 2020 10:00:00 +0000</pubDate><description>Text.</description></item>
</channel></rss>`)
	out, err := Run(t, env.Vars(), "import", feed)
	if err == nil || !strings.Contains(out, "none of the 2 items") || strings.Contains(out, "new-feed-url") {
		t.Errorf("import of a feed without audio: %v\n%s", err, out)
	}
}
