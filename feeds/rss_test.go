package feeds_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func testShow() *pipeline.Show {
	return &pipeline.Show{
		Title: "Python in Production", Description: "Interviews & war stories <live>",
		Author: "Jo Host", Owner: pipeline.Owner{Name: "Jo Host", Email: "jo@example.com"},
		Language: "en", Category: "Technology", Explicit: false,
		BaseURL: "https://pod.example.com", Art: "public/media/art/abc.png",
		Funding: pipeline.Funding{URL: "https://example.com/support", Text: "Support us"},
	}
}

func testEpisode(slug, guid string, pub time.Time) *pipeline.Manifest {
	return &pipeline.Manifest{
		Slug: slug, GUID: guid, State: pipeline.StatePublished, PublishedAt: pub,
		Meta: pipeline.Meta{Title: "Async Falcon & <OAuth> 🎙 עברית\x0b", Season: 1, Episode: 3,
			Guests: []pipeline.Guest{{Name: "Ada", Role: "SRE", URL: "https://example.com/ada"}, {Name: "Grace & Co"}}},
		Art:        "public/media/art/ep.jpg",
		Chapters:   []pipeline.Chapter{{Start: 0, Title: "Intro"}, {Start: 61.5, Title: "Async & Falcon", URL: "https://falcon.readthedocs.io"}},
		Transcript: &pipeline.TranscriptRef{Key: "private/transcripts/" + slug + "/abc.json", Name: "transcript.vtt", SHA256: "abc", Cues: 9},
		Alternates: []pipeline.Media{{Key: "public/media/" + slug + "/fedcba9876543210.m4a", ContentType: "audio/mp4",
			Bytes: 99999, Bitrate: 96000}},
		NotesMD: "We talk **async**.\n\n<script>alert(1)</script>",
		MP3: &pipeline.Media{Key: "public/media/" + slug + "/0123456789abcdef.mp3", Bytes: 123456,
			Duration: 3725.4, ContentType: "audio/mpeg"},
	}
}

// MustMatchGolden compares a built feed with testdata/NAME, and rewrites
// the file under -update.
func MustMatchGolden(tb testing.TB, name string, xml []byte) {
	tb.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, xml, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		tb.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(xml)); diff != "" {
		tb.Errorf("feed differs from %s (-want +got; run go test ./feeds -update if intended):\n%s", golden, diff)
	}
}

func TestBuild(t *testing.T) {
	eps := []*pipeline.Manifest{
		testEpisode("ep-2", "guid-2", now.Add(-time.Hour)),
		testEpisode("ep-1", "guid-1", now.Add(-48*time.Hour)),
	}
	future := testEpisode("ep-3", "guid-3", now.Add(time.Hour))
	future.State = pipeline.StateScheduled
	unencoded := testEpisode("ep-4", "", time.Time{})
	unencoded.State, unencoded.MP3 = pipeline.StateIngested, nil
	xml, err := feeds.Build(testShow(), append(eps, future, unencoded), now)
	if err != nil {
		t.Fatal(err)
	}
	MustMatchGolden(t, "feed.golden.xml", xml)
	if ps := feeds.Validate(xml); len(ps) != 0 {
		t.Errorf("our own feed breaks rules: %v", ps)
	}

	f, err := feeds.Parse(xml)
	if err != nil {
		t.Fatal(err)
	}
	var guids []string
	for _, it := range f.Items {
		guids = append(guids, it.GUID)
		if it.Enclosures[0].Length != "123456" || it.Enclosures[0].Type != "audio/mpeg" {
			t.Errorf("enclosure %+v", it.Enclosures[0])
		}
		if it.ITunesExt.Duration != "1:02:05" {
			t.Errorf("duration %q, want 1:02:05", it.ITunesExt.Duration)
		}
		if strings.Contains(it.Content, "<script") {
			t.Errorf("content:encoded carries a script: %q", it.Content)
		}
		if it.Title != "Async Falcon & <OAuth> 🎙 עברית" {
			t.Errorf("title %q", it.Title)
		}
	}
	if diff := cmp.Diff([]string{"guid-2", "guid-1"}, guids); diff != "" {
		t.Errorf("items: only live, encoded episodes, newest first (-want +got):\n%s", diff)
	}
	if f.ITunesExt.Author != "Jo Host" {
		t.Errorf("itunes:author %q, want the name alone", f.ITunesExt.Author)
	}
}

func TestBuildErrNoGUID(t *testing.T) {
	if _, err := feeds.Build(testShow(), []*pipeline.Manifest{testEpisode("x", "", now)}, now); err == nil {
		t.Fatal("a published episode without GUID must not build")
	}
}

func TestValidate(t *testing.T) {
	good, err := feeds.Build(testShow(), []*pipeline.Manifest{testEpisode("x", "g", now)}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, from, to, rule string
	}{
		{"ErrEnclosureLength", `length="123456"`, `length="0"`, "item-enclosure-length"},
		{"ErrEnclosureType", `type="audio/mpeg"`, `type="text/html"`, "item-enclosure-type"},
		{"ErrNoGUID", `<guid isPermaLink="false">g</guid>`, ``, "item-guid"},
		{"ErrNoTitle", `<title>Python in Production</title>`, `<title></title>`, "channel-title"},
		{"ErrBadDate", `<pubDate>Wed, 25 Nov 2026 12:00:00 +0000</pubDate>
      <enclosure`, `<pubDate>yesterday</pubDate>
      <enclosure`, "item-pubdate"},
		{"ErrNotXML", `</rss>`, ``, "parse"},
		{"ErrTranscriptType", `type="text/vtt"`, `type=""`, "item-podcast-transcript"},
		{"ErrChaptersURL", `<podcast:chapters url="https://`, `<podcast:chapters url="ftp://`, "item-podcast-chapters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := strings.Replace(string(good), tc.from, tc.to, 1)
			if broken == string(good) {
				t.Fatalf("test setup: %q not found in the feed", tc.from)
			}
			ps := feeds.Validate([]byte(broken))
			if !feeds.HasErrors(ps) {
				t.Fatalf("broken feed passed: %v", ps)
			}
			found := false
			for _, p := range ps {
				found = found || p.Rule == tc.rule
			}
			if !found {
				t.Errorf("want rule %s, got %v", tc.rule, ps)
			}
		})
	}
}

func TestValidateErrDuplicateGUID(t *testing.T) {
	eps := []*pipeline.Manifest{testEpisode("a", "same", now), testEpisode("b", "same", now.Add(-time.Hour))}
	xml, err := feeds.Build(testShow(), eps, now)
	if err != nil {
		t.Fatal(err)
	}
	ps := feeds.Validate(xml)
	if !feeds.HasErrors(ps) || ps[0].Rule != "item-guid-unique" {
		t.Errorf("two items with one GUID: got %v", ps)
	}
}

// TestParsersAgree has gPodder's podcastparser and feedparser (Debian's
// python3-podcastparser, python3-feedparser) read the golden feed, with its
// Unicode, right-to-left text, emoji, special characters, several guests and
// every optional field, and checks they see what gofeed sees.
func TestParsersAgree(t *testing.T) {
	for _, golden := range []string{"feed.golden.xml", "feed-settings.golden.xml"} {
		t.Run(golden, func(t *testing.T) { parsersAgree(t, filepath.Join("testdata", golden)) })
	}
}

func parsersAgree(t *testing.T, golden string) {
	xml, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	f, err := feeds.Parse(xml)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/usr/bin/python3", "../e2e/testdata/parsefeed.py", golden,
		"https://pod.example.com/feed.xml").CombinedOutput()
	if err != nil {
		t.Fatalf("parsefeed.py needs python3-podcastparser and python3-feedparser (apt-get install them): %v\n%s", err, out)
	}
	var got map[string]struct {
		Title string `json:"title"`
		Bozo  bool   `json:"bozo"`
		Items []struct {
			GUID, Title, URL string
			Length           int64
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, it := range f.Items {
		want = append(want, it.GUID+"|"+it.Title+"|"+it.Enclosures[0].URL+"|"+it.Enclosures[0].Length)
	}
	for _, name := range []string{"podcastparser", "feedparser"} {
		p := got[name]
		if p.Bozo || p.Title != f.Title {
			t.Errorf("%s: title %q (gofeed %q), malformed: %v", name, p.Title, f.Title, p.Bozo)
		}
		var seen []string
		for _, it := range p.Items {
			seen = append(seen, fmt.Sprintf("%s|%s|%s|%d", it.GUID, it.Title, it.URL, it.Length))
		}
		sort.Strings(seen)
		w := append([]string(nil), want...)
		sort.Strings(w)
		if diff := cmp.Diff(w, seen); diff != "" {
			t.Errorf("%s sees other items than gofeed (-gofeed +%s):\n%s", name, name, diff)
		}
	}
}

// TestBuildNotify guards issue 11: the feed names its WebSub hubs and says
// it uses podping; without a notify: block, a public https show names the
// public hub and a private one names none.
func TestBuildNotify(t *testing.T) {
	show := testShow()
	show.Notify = &pipeline.Notify{WebSubHubs: []string{"https://hub.example.com/?a=1&b=2"}, PodpingToken: "t"}
	xml, err := feeds.Build(show, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<atom:link rel="hub" href="https://hub.example.com/?a=1&amp;b=2"></atom:link>`,
		`<podcast:podping usesPodping="true"></podcast:podping>`, `rel="self"`} {
		if !strings.Contains(string(xml), want) {
			t.Errorf("the feed lacks %s", want)
		}
	}
	if ps := feeds.Validate(xml); feeds.HasErrors(ps) {
		t.Errorf("the feed breaks rules: %v", ps)
	}
	show.Notify, show.BaseURL = nil, "http://192.168.1.5:8080"
	xml, _ = feeds.Build(show, nil, now)
	if strings.Contains(string(xml), `rel="hub"`) {
		t.Error("a show on a private address names a public hub")
	}
}

// TestBuildOP3 guards issue 12: with analytics: {op3: true}, every
// enclosure goes through OP3's prefix and the feed still validates.
func TestBuildOP3(t *testing.T) {
	show := testShow()
	show.Analytics.OP3 = true
	ep := testEpisode("ep-1", "guid-1", now.Add(-time.Hour))
	xml, err := feeds.Build(show, []*pipeline.Manifest{ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := `url="https://op3.dev/e,pg=` + feeds.PodcastGUID(show) + `/pod.example.com/media/`
	if !strings.Contains(string(xml), want) {
		t.Errorf("the enclosure is not prefixed: want %s in\n%s", want, xml)
	}
	if strings.Contains(string(xml), `url="https://pod.example.com/media/`) || strings.Contains(string(xml), `uri="https://pod.example.com/media/`) {
		t.Error("an enclosure or alternate enclosure escapes the prefix")
	}
	if ps := feeds.Validate(xml); feeds.HasErrors(ps) {
		t.Errorf("the prefixed feed breaks rules: %v", ps)
	}
}
