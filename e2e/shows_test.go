package e2e

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"

	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// showYAML is a show.yaml for a show of the network.
func showYAML(title string) string {
	return fmt.Sprintf("title: %q\ndescription: \"A show of the network: %s.\"\nauthor: Jo Host\nowner: {name: Jo Host, email: jo@example.com}\ncategory: Technology\n", title, title)
}

// MustEpisode writes a bundle (a short recording and its notes) into a
// staging folder and returns its path. Its slug is the bundle's name, but
// for those named *-ep, which all take the slug same-slug.
func MustEpisode(tb testing.TB, name, title string) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), name)
	slug := name
	if strings.HasSuffix(name, "-ep") {
		slug = "same-slug"
	}
	MustFFmpeg(tb, "-f", "lavfi", "-i", "sine=f=300:d=3", "-ac", "1", filepath.Join(dir, "talk.flac"))
	MustWrite(tb, filepath.Join(dir, "episode.md"), "---\ntitle: "+title+"\nslug: "+slug+"\ntags: [async]\n---\nNotes of "+title+".\n")
	MustWrite(tb, filepath.Join(dir, "chapters.txt"), "00:00:00 Start\n00:00:01 More\n")
	return dir
}

// moveInto moves a bundle into a show's drop folder.
func moveInto(tb testing.TB, showDir, src string) {
	tb.Helper()
	must(tb, os.MkdirAll(filepath.Join(showDir, "drop"), 0o755))
	must(tb, os.Rename(src, filepath.Join(showDir, "drop", filepath.Base(src))))
}

func feedOf(tb testing.TB, url string) *gofeed.Feed {
	tb.Helper()
	f, err := parseFeedURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func podcastGUID(f *gofeed.Feed) string {
	for _, e := range f.Extensions["podcast"]["guid"] {
		return e.Value
	}
	return ""
}

type opmlDoc struct {
	Outlines []struct {
		Type    string `xml:"type,attr"`
		Text    string `xml:"text,attr"`
		XMLURL  string `xml:"xmlUrl,attr"`
		HTMLURL string `xml:"htmlUrl,attr"`
	} `xml:"body>outline"`
}

// TestShows runs a root show and two shows under shows/ on one install, as
// separate production roles: each feed holds its own item only, under its
// own prefix, with its own podcast:guid; /shows.opml lists them all. Then
// a show is added and one broken while everything runs.
func TestShows(t *testing.T) {
	env := MustShowEnv(t, "")
	alpha, beta := filepath.Join(env.Data, "shows", "alpha"), filepath.Join(env.Data, "shows", "beta")
	MustWrite(t, filepath.Join(alpha, "show.yaml"), showYAML("Alpha: async Python"))
	MustWrite(t, filepath.Join(beta, "show.yaml"), showYAML("Beta: life without Kubernetes"))
	roles := StartRoles(t, env)

	moveInto(t, env.Data, MustEpisode(t, "root-ep", "Root episode"))
	moveInto(t, alpha, MustEpisode(t, "alpha-ep", "Alpha episode"))
	moveInto(t, beta, MustEpisode(t, "beta-ep", "Beta episode"))
	feeds := map[string]string{"": env.URL("/feed.xml"), "alpha": env.URL("/alpha/feed.xml"), "beta": env.URL("/beta/feed.xml")}
	titles := map[string]string{"": "Root episode", "alpha": "Alpha episode", "beta": "Beta episode"}
	for show, url := range feeds {
		WaitFor(t, 90*time.Second, "an item in the feed of show "+show, func() bool { return FeedItems(url) == 1 })
	}
	guids := map[string]bool{}
	for show, url := range feeds {
		f := feedOf(t, url)
		if len(f.Items) != 1 || f.Items[0].Title != titles[show] {
			t.Fatalf("show %q: feed items %d, first %q; want only %q", show, len(f.Items), f.Items[0].Title, titles[show])
		}
		guids[podcastGUID(f)] = true
		prefix := env.URL("/")
		if show != "" {
			prefix = env.URL("/" + show + "/")
		}
		it := f.Items[0]
		if !strings.HasPrefix(it.Link, prefix+"episodes/same-slug/") || !strings.HasPrefix(it.Enclosures[0].URL, prefix+"media/same-slug/") {
			t.Errorf("show %q: link %s, enclosure %s; want them under %s", show, it.Link, it.Enclosures[0].URL, prefix)
		}
		checkMedia(t, it.Enclosures[0].URL, it.Enclosures[0].Length, it.Enclosures[0].Type)
		resp, page := Get(t, it.Link)
		if resp.StatusCode != 200 || !strings.Contains(string(page), titles[show]) {
			t.Errorf("show %q: page %s: %s", show, it.Link, resp.Status)
		}
		for _, path := range []string{"style.css", "atom.xml", "tags/async/", "about/", "episodes/same-slug/chapters.json", ""} {
			if resp, _ := Get(t, prefix+path); resp.StatusCode != 200 {
				t.Errorf("show %q: %s%s answers %s", show, prefix, path, resp.Status)
			}
			linkPrefix := "/"
			if show != "" {
				linkPrefix = "/" + show + "/"
			}
			if !strings.Contains(string(page), `href="`+linkPrefix+`style.css"`) || !strings.Contains(string(page), `href="`+linkPrefix+`tags/async/"`) {
				t.Errorf("show %q: the page does not link within %s", show, linkPrefix)
			}
		}
		checkParsersAt(t, url, f)
	}
	if len(guids) != 3 {
		t.Errorf("podcast:guid values: %v, want 3 different ones", guids)
	}
	WaitFor(t, 30*time.Second, "/shows.opml with three shows", func() bool {
		code, body := TryGet(env.URL("/shows.opml"))
		var o opmlDoc
		return code == 200 && xml.Unmarshal(body, &o) == nil && len(o.Outlines) == 3
	})
	_, body := Get(t, env.URL("/shows.opml"))
	var o opmlDoc
	must(t, xml.Unmarshal(body, &o))
	var got []string
	for _, ol := range o.Outlines {
		if ol.Type != "rss" || ol.Text == "" || ol.HTMLURL == "" {
			t.Errorf("outline %+v lacks type=rss, text or htmlUrl", ol)
		}
		got = append(got, ol.XMLURL)
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{env.URL("/alpha/feed.xml"), env.URL("/beta/feed.xml"), env.URL("/feed.xml")}, got); diff != "" {
		t.Errorf("shows.opml feeds (-want +got):\n%s", diff)
	}

	t.Run("Isolation", func(t *testing.T) {
		st := env.Store(t)
		before := snapshot(t, st, "beta")
		rootBefore := snapshot(t, st, "")
		moveInto(t, alpha, MustEpisode(t, "alpha-ep2", "Alpha second episode"))
		WaitFor(t, 60*time.Second, "the second item of alpha", func() bool { return FeedItems(feeds["alpha"]) == 2 })
		WaitFor(t, 30*time.Second, "alpha's bundle in done/", func() bool { return len(Entries(filepath.Join(alpha, "done"))) == 2 })
		if diff := cmp.Diff(before, snapshot(t, st, "beta")); diff != "" {
			t.Errorf("publishing in alpha wrote objects of beta (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(rootBefore, snapshot(t, st, "")); diff != "" {
			t.Errorf("publishing in alpha wrote objects of the root show (-before +after):\n%s", diff)
		}
	})

	t.Run("AddAndBreakWhileRunning", func(t *testing.T) {
		gamma := filepath.Join(env.Data, "shows", "gamma")
		MustWrite(t, filepath.Join(gamma, "show.yaml"), showYAML("Gamma: OAuth 2.0 stories"))
		moveInto(t, gamma, MustEpisode(t, "gamma-ep", "Gamma episode"))
		MustWrite(t, filepath.Join(beta, "show.yaml"), "title: \"\"\ndescription: broken on purpose\n")
		MustWrite(t, filepath.Join(env.Data, "shows", "media", "show.yaml"), showYAML("Shadows a route"))
		WaitFor(t, 90*time.Second, "the new show's item", func() bool { return FeedItems(env.URL("/gamma/feed.xml")) == 1 })
		moveInto(t, beta, MustEpisode(t, "beta-ep2", "Beta second episode"))
		moveInto(t, env.Data, MustEpisode(t, "root-ep2", "Root second episode"))
		WaitFor(t, 60*time.Second, "the root show's second item", func() bool { return FeedItems(feeds[""]) == 2 })
		// A broken show.yaml is reported; the show goes on with the last
		// good one, so a typo there does not hold episodes back.
		WaitFor(t, 60*time.Second, "the broken show's second item, under its last good show.yaml", func() bool {
			return FeedItems(feeds["beta"]) == 2
		})
		if f := feedOf(t, feeds["beta"]); f.Title != "Beta: life without Kubernetes" {
			t.Errorf("the broken show's feed has title %q; want its last good one", f.Title)
		}
		out, err := Run(t, env.Vars(), "status")
		if err != nil {
			t.Fatalf("status: %v\n%s", err, out)
		}
		for _, want := range []string{"SHOWS", "alpha", "gamma", "its show.yaml is not valid", "shows/media would shadow the route /media/"} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
		if !strings.Contains(roles.Watch.Output(), "shadow") {
			t.Errorf("the watcher did not log the show folder that shadows a route")
		}
		out, err = Run(t, env.Vars(), "status", "--show", "gamma")
		if err != nil || !strings.Contains(out, "same-slug") || strings.Contains(out, "SHOWS") || strings.Contains(out, "alpha-ep2") {
			t.Errorf("status --show gamma: %v\n%s", err, out)
		}
		if out, err := Run(t, env.Vars(), "rebuild", "--show", "nope"); err == nil || !strings.Contains(out, `there is no show "nope"`) {
			t.Errorf("rebuild --show nope: %v\n%s", err, out)
		}
	})

	t.Run("ImportIntoShow", func(t *testing.T) {
		feed := filepath.Join(t.TempDir(), "old.xml")
		MustWrite(t, feed, `<?xml version="1.0"?><rss version="2.0"><channel><title>Old</title><link>https://old.example.com</link><description>Old show</description>
<item><title>Old one</title><guid isPermaLink="false">old-guid-1</guid><pubDate>Mon, 02 Mar 2020 09:00:00 GMT</pubDate><description>Notes.</description>
<enclosure url="https://old.example.com/1.mp3" length="12345" type="audio/mpeg"/></item>
<item><title>Old two</title><guid isPermaLink="false">old-guid-2</guid><pubDate>Mon, 09 Mar 2020 09:00:00 GMT</pubDate><description>Notes.</description>
<enclosure url="https://old.example.com/2.mp3" length="23456" type="audio/mpeg"/></item></channel></rss>`)
		out, err := Run(t, env.Vars(), "import", "--show", "gamma", "--keep-media-urls", feed)
		if err != nil || !strings.Contains(out, "into show gamma") {
			t.Fatalf("import --show gamma: %v\n%s", err, out)
		}
		WaitFor(t, 60*time.Second, "gamma's feed with the imported episodes", func() bool { return FeedItems(env.URL("/gamma/feed.xml")) == 3 })
		f := feedOf(t, env.URL("/gamma/feed.xml"))
		guids := map[string]bool{}
		for _, it := range f.Items {
			guids[it.GUID] = true
		}
		if !guids["old-guid-1"] || !guids["old-guid-2"] {
			t.Errorf("imported GUIDs not kept: %v", guids)
		}
		if n := FeedItems(env.URL("/alpha/feed.xml")); n != 2 {
			t.Errorf("the import into gamma changed alpha's feed: %d items", n)
		}
	})
}

// snapshot maps every object of a show (public and private) to its ETag
// and time: a write, even of the same bytes, changes the time.
func snapshot(tb testing.TB, st *s3.Store, show string) map[string]string {
	tb.Helper()
	l := catalog.Layout{Show: show}
	out := map[string]string{}
	for _, prefix := range []string{l.Public(), l.Private()} {
		objs, err := st.List(context.Background(), prefix)
		if err != nil {
			tb.Fatal(err)
		}
		for _, o := range objs {
			rest := strings.TrimPrefix(o.Key, prefix)
			if show == "" && isShowPrefix(rest) {
				continue // another show's, under the root prefixes
			}
			if show == "" && (o.Key == catalog.OPMLKey || strings.HasPrefix(rest, "bundles/")) {
				continue // the network's, and the root show's bundles in flight
			}
			out[o.Key] = o.ETag + " " + o.LastModified.String()
		}
	}
	return out
}

func isShowPrefix(rest string) bool {
	first, _, found := strings.Cut(rest, "/")
	return found && catalog.CheckShowName(first) == nil
}

// TestNetworkWithoutRoot runs two shows and no root show on `prodcast up`
// (embedded Redis and S3): / is the network's page, with each show's art,
// description and latest episode. Then, while it runs, a show is added and
// one is broken: the new one publishes, the broken one is reported, the
// other goes on.
func TestNetworkWithoutRoot(t *testing.T) {
	data := filepath.Join(t.TempDir(), "prodcast-data")
	one, two := filepath.Join(data, "shows", "one"), filepath.Join(data, "shows", "two")
	MustWrite(t, filepath.Join(one, "show.yaml"), showYAML("Show One"))
	MustWrite(t, filepath.Join(two, "show.yaml"), showYAML("Show Two"))
	listen := FreeAddr(t)
	url := func(p string) string { return "http://" + listen + p }
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT=", "TMPDIR=" + t.TempDir()}
	up := Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	moveInto(t, one, MustEpisode(t, "one-ep", "Flask in production"))
	moveInto(t, two, MustEpisode(t, "two-ep", "Falcon in production"))
	WaitFor(t, 90*time.Second, "the network page with both latest episodes", func() bool {
		code, body := TryGet(url("/"))
		return code == 200 && strings.Contains(string(body), "Flask in production") && strings.Contains(string(body), "Falcon in production")
	})
	_, body := Get(t, url("/"))
	for _, want := range []string{"Show One", "Show Two", "A show of the network: Show One.", url("/one/feed.xml"), `href="/shows.opml"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the network page lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "show.yaml")); err == nil {
		t.Error("a root show.yaml was written into a network without a root show")
	}
	if !strings.Contains(up.Output(), "for a network of shows") || !strings.Contains(up.Output(), filepath.Join(one, "drop")) {
		t.Errorf("up does not say where each show's drop folder is:\n%s", up.Output())
	}
	out, err := Run(t, env, "rebuild", "--data", data)
	if err == nil || !strings.Contains(out, "name one with --show (one, two)") {
		t.Errorf("rebuild without --show on two shows: %v\n%s", err, out)
	}

	three := filepath.Join(data, "shows", "three")
	MustWrite(t, filepath.Join(three, "show.yaml"), showYAML("Show Three"))
	moveInto(t, three, MustEpisode(t, "three-ep", "OAuth 2.0 in production"))
	MustWrite(t, filepath.Join(two, "show.yaml"), "title: [unclosed\n")
	WaitFor(t, 90*time.Second, "the added show's episode", func() bool { return FeedItems(url("/three/feed.xml")) == 1 })
	moveInto(t, one, MustEpisode(t, "one-second", "Flask, again"))
	WaitFor(t, 60*time.Second, "the other show's second episode", func() bool { return FeedItems(url("/one/feed.xml")) == 2 })
	out, err = Run(t, env, "status", "--data", data)
	if err != nil || !strings.Contains(out, "three") || !strings.Contains(out, "its show.yaml is not valid") {
		t.Errorf("status does not show the added show and the broken one: %v\n%s", err, out)
	}
	if !strings.Contains(up.Output(), "show.yaml is not valid") {
		t.Errorf("the log does not say show two's show.yaml is broken")
	}
	WaitFor(t, 30*time.Second, "/shows.opml with three shows", func() bool {
		_, body := TryGet(url("/shows.opml"))
		return strings.Count(string(body), `type="rss"`) == 3
	})
}

// TestFairEncodes queues ten long recordings in show A, then drops one into
// show B: B's must be encoded as soon as a slot frees up, not after A's
// backlog. The worker has one slot, so the order is exact. An idle lane
// looks for work every 0.1 to 0.3 s (asynq's task check, with jitter), so
// each of A's encodes must last longer than that: four minutes of audio
// (about 1.5 s here), else two of them could start before B's lane looks.
func TestFairEncodes(t *testing.T) {
	env := MustEnv(t)
	a, b := filepath.Join(env.Data, "shows", "busy"), filepath.Join(env.Data, "shows", "quiet")
	MustWrite(t, filepath.Join(a, "show.yaml"), showYAML("Busy show"))
	MustWrite(t, filepath.Join(b, "show.yaml"), showYAML("Quiet show"))
	vars := append(env.Vars(), "PRODCAST_CONCURRENCY=1")
	worker := Start(t, vars, "worker")
	Start(t, vars, "watch")
	Start(t, vars, "serve")
	const backlog = 10
	staging := t.TempDir()
	for i := range backlog {
		dir := filepath.Join(staging, fmt.Sprintf("long-%02d", i))
		MustSpeechWAV(t, filepath.Join(dir, "talk.wav"), 240, 1)
		MustWrite(t, filepath.Join(dir, "episode.md"), fmt.Sprintf("---\ntitle: Long talk %d\n---\n", i))
	}
	quiet := MustEpisode(t, "quiet-one", "The quiet show's episode")
	for i := range backlog {
		moveInto(t, a, filepath.Join(staging, fmt.Sprintf("long-%02d", i)))
	}
	WaitFor(t, 60*time.Second, "the busy show's backlog queued", func() bool {
		return strings.Count(worker.Output(), "bundle ingested") >= backlog
	})
	before := strings.Count(worker.Output(), "episode encoded")
	if before >= backlog-2 {
		t.Fatalf("%d of %d encodes done before the quiet show's drop; the test proves nothing", before, backlog)
	}
	moveInto(t, b, quiet)
	WaitFor(t, 3*time.Minute, "the quiet show's episode encoded", func() bool {
		return strings.Contains(worker.Output(), "show=quiet episode=quiet-one")
	})
	var order []string
	queued := -1 // encodes done when the quiet show's encode was queued
	for _, line := range strings.Split(worker.Output(), "\n") {
		switch {
		case strings.Contains(line, "bundle ingested") && strings.Contains(line, "show=quiet"):
			queued = len(order)
		case strings.Contains(line, "episode encoded"):
			order = append(order, map[bool]string{true: "quiet", false: "busy"}[strings.Contains(line, "show=quiet")])
		}
	}
	pos := slices.Index(order, "quiet")
	// The encodes done when it was queued, then the one running then; at
	// most one more if that one ended before the quiet show's lane fetched
	// its task (within 0.3 s).
	if queued < 0 || pos > queued+2 {
		t.Errorf("the quiet show's encode came %d of %v; %d were done when it was queued", pos+1, order, queued)
	}
	if pos >= backlog-1 {
		t.Errorf("the quiet show's encode waited for the busy show's backlog: %v", order)
	}
	t.Logf("encode order %v (quiet dropped after %d, queued after %d)", order, before, queued)
}
