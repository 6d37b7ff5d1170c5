package site_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/site"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func testShow() *pipeline.Show {
	return &pipeline.Show{Title: "Python in Production", Description: "Interviews & war stories.",
		Author: "Jo Host", Owner: pipeline.Owner{Name: "Jo Host", Email: "jo@example.com"}, Language: "en",
		BaseURL: "https://pod.example.com", Art: "public/media/art/show.jpg",
		Funding: pipeline.Funding{URL: "https://example.com/support", Text: "Support us"},
		ArtSizes: []pipeline.Image{{Key: "public/media/art/show.jpg", Width: 1400, Height: 1400, Type: "image/jpeg"},
			{Key: "public/media/art/show-600.jpg", Width: 600, Height: 600, Type: "image/jpeg"},
			{Key: "public/media/art/show-600.webp", Width: 600, Height: 600, Type: "image/webp"},
			{Key: "public/media/art/show-150.jpg", Width: 150, Height: 150, Type: "image/jpeg"},
			{Key: "public/media/art/show-150.webp", Width: 150, Height: 150, Type: "image/webp"}}}
}

func episode(i int, tags ...string) *pipeline.Manifest {
	return &pipeline.Manifest{
		Slug: fmt.Sprintf("ep-%d", i), GUID: fmt.Sprintf("guid-%d", i), State: pipeline.StatePublished,
		PublishedAt: now.Add(-time.Duration(i) * 24 * time.Hour), UpdatedAt: now.Add(-time.Duration(i) * time.Hour),
		Meta: pipeline.Meta{Title: fmt.Sprintf("Episode %d: Flask & <async>", i), Episode: i, Tags: tags,
			Guests: []pipeline.Guest{{Name: "Ada", Role: "SRE", URL: "https://example.com/ada"}}},
		NotesMD: "We talk **Flask**. [Docs](https://flask.palletsprojects.com)\n\n<script>alert(1)</script><img src=x onerror=alert(2)>",
		MP3:     &pipeline.Media{Key: fmt.Sprintf("public/media/ep-%d/abc.mp3", i), ContentType: "audio/mpeg", Bytes: 1000 + int64(i), Duration: 1800},
	}
}

// TestRender renders a small show and compares it with golden files.
func TestRender(t *testing.T) {
	eps := []*pipeline.Manifest{episode(1, "flask", "async"), episode(2, "flask"), episode(3)}
	eps[1].Chapters = []pipeline.Chapter{{Start: 0, Title: "Intro"}, {Start: 754.5, Title: "Falcon & <async>", URL: "https://falcon.readthedocs.io"}}
	scheduled := episode(0, "docker")
	scheduled.State = pipeline.StateScheduled
	files, err := site.Render(testShow(), append([]*pipeline.Manifest{scheduled}, eps...), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"index.html", "episodes/ep-2/index.html", "episodes/ep-2/chapters.json", "tags/flask/index.html",
		"about/index.html", "atom.xml", "sitemap.xml", "robots.txt"} {
		f, ok := files[path]
		if !ok {
			t.Errorf("%s not rendered", path)
			continue
		}
		golden := filepath.Join("testdata", strings.ReplaceAll(path, "/", "_")+".golden")
		if *update {
			os.WriteFile(golden, f.Body, 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(f.Body)); diff != "" {
			t.Errorf("%s differs from %s (-want +got; go test ./pipeline/site -update if intended):\n%s", path, golden, diff)
		}
	}
	for path, f := range files {
		body := strings.ToLower(string(f.Body))
		for _, bad := range []string{"alert(", "onerror=", "javascript:"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s carries %q", path, bad)
			}
		}
	}
	if _, ok := files["episodes/ep-0/index.html"]; ok {
		t.Error("a scheduled episode has a page")
	}
	if _, ok := files["tags/docker/index.html"]; ok {
		t.Error("a scheduled episode's tag has a page")
	}
	a, err := gofeed.NewParser().ParseString(string(files["atom.xml"].Body))
	if err != nil || len(a.Items) != 3 || a.Items[0].Link != "https://pod.example.com/episodes/ep-1/" {
		t.Errorf("atom.xml: %v, %+v", err, a)
	}
}

func TestRenderPages(t *testing.T) {
	var eps []*pipeline.Manifest
	for i := 1; i <= 45; i++ {
		eps = append(eps, episode(i))
	}
	files, err := site.Render(testShow(), eps, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"index.html", "page/2/index.html", "page/3/index.html"} {
		if _, ok := files[p]; !ok {
			t.Errorf("%s missing", p)
		}
	}
	if _, ok := files["page/4/index.html"]; ok {
		t.Error("page 4 rendered for 45 episodes at 20 a page")
	}
	p3 := string(files["page/3/index.html"].Body)
	if strings.Count(p3, `<article class="card">`) != 5 || !strings.Contains(p3, `href="/page/2/" rel="prev"`) {
		t.Errorf("page 3 should list 5 episodes and link back to page 2")
	}
}

var testCues = []pipeline.Cue{
	{Start: 0, End: 4.5, Speaker: "Jo Host", Text: "Welcome. Today: OAuth 2.0 & <Flask>."},
	{Start: 4.5, End: 9, Speaker: "Jo Host", Text: "Our guest runs it without Kubernetes."},
	{Start: 9, End: 12.25, Speaker: "Ada", Text: "Thanks for having me."},
}

// TestRenderTranscript renders an episode with a transcript: the page
// shows it as paragraphs with speakers and seeking timestamps, and the
// three published forms come next to the page.
func TestRenderTranscript(t *testing.T) {
	ep := episode(3, "oauth2")
	ep.Transcript = &pipeline.TranscriptRef{Key: "private/transcripts/ep-3/abc.json", Name: "transcript.vtt", SHA256: "abc", Cues: 3}
	loads := 0
	r := &site.Renderer{Transcript: func(ref *pipeline.TranscriptRef) ([]pipeline.Cue, error) {
		loads++
		if ref.Key != "private/transcripts/ep-3/abc.json" {
			t.Errorf("loads %q", ref.Key)
		}
		return testCues, nil
	}}
	files, _, err := r.Render(testShow(), []*pipeline.Manifest{episode(1), ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"episodes/ep-3/index.html", "episodes/ep-3/transcript.vtt", "episodes/ep-3/transcript.srt", "episodes/ep-3/transcript.json"} {
		MustGolden(t, path, files[path].Body)
	}
	if loads != 1 {
		t.Errorf("the transcript was read %d times, want once", loads)
	}
	if ct := files["episodes/ep-3/transcript.vtt"].ContentType; ct != "text/vtt; charset=utf-8" {
		t.Errorf("transcript.vtt has type %q", ct)
	}
	if _, ok := files["episodes/ep-1/transcript.vtt"]; ok {
		t.Error("an episode without a transcript has one")
	}
	// Rendered again, nothing changed: nothing is read or rendered again.
	_, stats, err := r.Render(testShow(), []*pipeline.Manifest{episode(1), ep}, now)
	if err != nil || stats.Rendered != 0 || loads != 1 {
		t.Errorf("second render: %v, %+v, %d loads", err, stats, loads)
	}
}

// TestRenderTranslations: transcripts in other languages are published as
// transcript.<lang>.vtt, .srt and .json, and the page offers them by the
// language's own name, also when the episode has no main transcript.
func TestRenderTranslations(t *testing.T) {
	ep := episode(3, "oauth2")
	ep.Translations = []pipeline.TranscriptRef{
		{Key: "private/transcripts/ep-3/de.json", Name: "transcript.de.vtt", SHA256: "de", Cues: 3, Language: "de"},
		{Key: "private/transcripts/ep-3/pt.json", Name: "transcript.pt-BR.srt", SHA256: "pt", Cues: 3, Language: "pt-BR"}}
	r := &site.Renderer{Transcript: func(ref *pipeline.TranscriptRef) ([]pipeline.Cue, error) {
		return []pipeline.Cue{{Start: 0, End: 2, Text: "Text in " + ref.Language}}, nil
	}}
	files, _, err := r.Render(testShow(), []*pipeline.Manifest{ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(files["episodes/ep-3/transcript.de.vtt"].Body); !strings.Contains(got, "Text in de") {
		t.Errorf("transcript.de.vtt: %q", got)
	}
	if got := string(files["episodes/ep-3/transcript.pt-BR.srt"].Body); !strings.Contains(got, "Text in pt-BR") {
		t.Errorf("transcript.pt-BR.srt: %q", got)
	}
	if _, ok := files["episodes/ep-3/transcript.vtt"]; ok {
		t.Error("a main transcript was published without one")
	}
	page := string(files["episodes/ep-3/index.html"].Body)
	for _, want := range []string{`In <span lang="de">Deutsch</span>:`, `href="/episodes/ep-3/transcript.de.vtt" download type="text/vtt" hreflang="de"`,
		`<span lang="pt-BR">português</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// MustGolden compares body with testdata/<path>.golden, or rewrites it
// with -update.
func MustGolden(tb testing.TB, path string, body []byte) {
	tb.Helper()
	golden := filepath.Join("testdata", strings.ReplaceAll(path, "/", "_")+".golden")
	if *update {
		os.WriteFile(golden, body, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		tb.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(body)); diff != "" {
		tb.Errorf("%s differs from %s (-want +got; go test ./pipeline/site -update if intended):\n%s", path, golden, diff)
	}
}

// TestRenderIncremental publishes one episode into a show of 45 and checks
// that the renderer renders only what shows it, and that the result is
// byte for byte what a full render gives.
func TestRenderIncremental(t *testing.T) {
	var eps []*pipeline.Manifest
	for i := 2; i <= 46; i++ {
		tag := "flask"
		if i%2 == 0 {
			tag = "docker"
		}
		eps = append(eps, episode(i, tag))
	}
	r := new(site.Renderer)
	first, stats, err := r.Render(testShow(), eps, now)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Reused != 0 || stats.Rendered != len(first) {
		t.Errorf("first render: %+v for %d files", stats, len(first))
	}
	added := append([]*pipeline.Manifest{episode(1, "oauth2")}, eps...)
	got, stats, err := r.Render(testShow(), added, now)
	if err != nil {
		t.Fatal(err)
	}
	full, err := site.Render(testShow(), added, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(full) {
		t.Errorf("incremental render gives %d files, full %d", len(got), len(full))
	}
	for path, f := range full {
		if got[path].MD5 != f.MD5 {
			t.Errorf("%s differs from the full render", path)
		}
	}
	var rendered []string
	for path, f := range got {
		if !f.Unchanged {
			rendered = append(rendered, path)
			if first[path].MD5 == f.MD5 {
				t.Errorf("%s was rendered again to the same bytes", path)
			}
		} else if f.Body != nil || f.MD5 != first[path].MD5 {
			t.Errorf("%s is unchanged, but comes with %d bytes and MD5 %s (was %s)", path, len(f.Body), f.MD5, first[path].MD5)
		}
	}
	// The new page and its embed, its older neighbour, its guest's page, the search index, the 3 home pages, its new tag
	// page, the about page (a new topic), the Atom feed and the sitemap.
	want := []string{"about/index.html", "atom.xml", "episodes/ep-1/embed/index.html", "episodes/ep-1/index.html", "episodes/ep-2/index.html",
		"guests/ada/index.html", "index.html", "page/2/index.html", "page/3/index.html", "search/index.json", "sitemap.xml",
		"tags/oauth2/index.html"}
	sort.Strings(rendered)
	if diff := cmp.Diff(want, rendered); diff != "" {
		t.Errorf("changed files (-want +got):\n%s", diff)
	}
	if stats.Rendered != len(want) || stats.Reused != len(got)-len(want) {
		t.Errorf("stats %+v, want %d rendered and %d reused", stats, len(want), len(got)-len(want))
	}
	// A change to the show renders everything again.
	show := testShow()
	show.Title = "Python in Production, again"
	_, stats, err = r.Render(show, added, now)
	if err != nil || stats.Reused != 0 {
		t.Errorf("after a show change: %v, %+v", err, stats)
	}
}

func BenchmarkPublishOneInThousand(b *testing.B) {
	var eps []*pipeline.Manifest
	for i := 2; i <= 1001; i++ {
		eps = append(eps, episode(i, fmt.Sprintf("topic-%d", i%9)))
	}
	added := append([]*pipeline.Manifest{episode(1, "oauth2")}, eps...)
	for b.Loop() {
		b.StopTimer()
		r := new(site.Renderer)
		if _, _, err := r.Render(testShow(), eps, now); err != nil {
			b.Fatal(err)
		}
		runtime.GC() // the full render's garbage is not the publish's
		b.StartTimer()
		if _, _, err := r.Render(testShow(), added, now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTemplatesOverride renders with a show's own episode template and
// stylesheet, and refuses templates that do not parse or render.
func TestTemplatesOverride(t *testing.T) {
	r := new(site.Renderer)
	eps := []*pipeline.Manifest{episode(1, "flask")}
	before, _, err := r.Render(testShow(), eps, now)
	if err != nil {
		t.Fatal(err)
	}
	own := map[string][]byte{
		"episode.html": []byte(`{{template "head" .}}<h1 class="mine">{{.Episode.Meta.Title}}</h1>{{template "foot" .}}`),
		"style.css":    []byte("body { color: teal }\n"),
	}
	if err := site.Check(own); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := r.SetTemplates(own); err != nil {
		t.Fatal(err)
	}
	after, stats, err := r.Render(testShow(), eps, now)
	if err != nil {
		t.Fatal(err)
	}
	page := string(after["episodes/ep-1/index.html"].Body)
	if !strings.Contains(page, `<h1 class="mine">Episode 1: Flask &amp; &lt;async&gt;</h1>`) || !strings.Contains(page, "<footer") {
		t.Errorf("the page does not use the show's template:\n%s", page)
	}
	if string(after["style.css"].Body) != "body { color: teal }\n" {
		t.Errorf("style.css: %q", after["style.css"].Body)
	}
	if stats.Reused != 0 {
		t.Errorf("%d files reused after the templates changed", stats.Reused)
	}
	if string(after["index.html"].Body) != string(before["index.html"].Body) {
		t.Error("the home page changed, but its template was not replaced")
	}
	for name, tt := range map[string]struct{ file, want string }{
		"ErrParse":   {"episode.html", "template episode.html does not parse"},
		"ErrRender":  {"episode.html", "the show's templates do not render"},
		"ErrUnknown": {"home.html", `template "home.html" would replace nothing`},
	} {
		t.Run(name, func(t *testing.T) {
			body := `{{template "head" .}}{{.Episode.Nope}}{{template "foot" .}}`
			if name == "ErrParse" {
				body = `{{if}}`
			}
			err := site.Check(map[string][]byte{tt.file: []byte(body)})
			if err == nil || !pipeline.IsInput(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want an input error with %q", err, tt.want)
			}
		})
	}
}

// BenchmarkTranscriptPage renders the page of a two-hour episode with a
// transcript of 2,400 cues, and reports the page's size.
func BenchmarkTranscriptPage(b *testing.B) {
	var cues []pipeline.Cue
	for i := range 2400 {
		speaker := []string{"Jo Host", "Ada"}[i/7%2]
		cues = append(cues, pipeline.Cue{Start: float64(i * 3), End: float64(i*3 + 3), Speaker: speaker,
			Text: "We moved the Flask service to Python 3 and then to asyncio, one endpoint at a time."})
	}
	ep := episode(1, "async")
	ep.Transcript = &pipeline.TranscriptRef{Key: "k", SHA256: "s", Cues: len(cues)}
	var size int
	for b.Loop() {
		r := &site.Renderer{Transcript: func(*pipeline.TranscriptRef) ([]pipeline.Cue, error) { return cues, nil }}
		files, _, err := r.Render(testShow(), []*pipeline.Manifest{ep}, now)
		if err != nil {
			b.Fatal(err)
		}
		size = len(files["episodes/ep-1/index.html"].Body)
	}
	b.ReportMetric(float64(size)/1024, "page-KiB")
}

// TestSoundbites: each soundbite is a play-from-here link on the page.
func TestSoundbites(t *testing.T) {
	ep := episode(1)
	ep.Meta.Soundbites = []pipeline.Soundbite{{Start: 65.5, Duration: 30, Title: "Why <not> Kubernetes"}, {Start: 3600, Duration: 20}}
	files, err := site.Render(testShow(), []*pipeline.Manifest{ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	page := string(files["episodes/ep-1/index.html"].Body)
	for _, want := range []string{`data-start="65.5"><time>00:01:05.500</time> Play from here</a>: Why &lt;not&gt; Kubernetes`,
		`href="https://pod.example.com/media/ep-1/abc.mp3#t=3600" data-start="3600"`, `<script src="/player.js" defer></script>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestJSONLD: the home page says PodcastSeries and an episode's page
// PodcastEpisode, with name, datePublished, duration, associatedMedia and
// partOfSeries, as JSON that parses; a title with </script> in it cannot
// end the script.
func TestJSONLD(t *testing.T) {
	ep := episode(1)
	ep.Meta.Title = `Flask </script><script>alert(1)</script> & "async"`
	files, err := site.Render(testShow(), []*pipeline.Manifest{ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	ld := func(path string) map[string]any {
		t.Helper()
		page := string(files[path].Body)
		start := strings.Index(page, `<script type="application/ld+json">`)
		if start < 0 {
			t.Fatalf("%s has no JSON-LD", path)
		}
		body := page[start+len(`<script type="application/ld+json">`):]
		body = body[:strings.Index(body, "</script>")]
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: the JSON-LD does not parse: %v\n%s", path, err, body)
		}
		return v
	}
	series := ld("index.html")
	if series["@type"] != "PodcastSeries" || series["name"] != "Python in Production" || series["webFeed"] != "https://pod.example.com/feed.xml" {
		t.Errorf("series: %v", series)
	}
	e := ld("episodes/ep-1/index.html")
	media, _ := e["associatedMedia"].(map[string]any)
	part, _ := e["partOfSeries"].(map[string]any)
	if e["@type"] != "PodcastEpisode" || e["name"] != ep.Meta.Title || e["datePublished"] != ep.PubDate().UTC().Format(time.RFC3339) ||
		e["duration"] != "PT0H30M0S" || media["contentUrl"] != "https://pod.example.com/media/ep-1/abc.mp3" ||
		part["@type"] != "PodcastSeries" || part["url"] != "https://pod.example.com/" {
		t.Errorf("episode: %v", e)
	}
	if strings.Count(string(files["episodes/ep-1/index.html"].Body), "<script>alert(1)") != 0 {
		t.Errorf("the title's markup got out of the JSON-LD")
	}
}

// TestImagesHaveAltAndSize: every image of every page says what it is
// (or alt="" beside its title) and how big it is, so nothing shifts as it
// loads; art comes in sizes for srcset, with WebP first.
func TestImagesHaveAltAndSize(t *testing.T) {
	ep := episode(2, "flask")
	ep.Art = "public/media/art/ep2.jpg"
	ep.ArtSizes = []pipeline.Image{{Key: ep.Art, Width: 1400, Height: 1400, Type: "image/jpeg"},
		{Key: "public/media/art/ep2-300.jpg", Width: 300, Height: 300, Type: "image/jpeg"},
		{Key: "public/media/art/ep2-300.webp", Width: 300, Height: 300, Type: "image/webp"}}
	files, err := site.Render(testShow(), []*pipeline.Manifest{episode(1, "flask"), ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	img := regexp.MustCompile(`<img [^>]*>`)
	n := 0
	for path, f := range files {
		if !strings.HasSuffix(path, ".html") {
			continue
		}
		for _, tag := range img.FindAllString(string(f.Body), -1) {
			n++
			for _, attr := range []string{` alt="`, ` width="`, ` height="`} {
				if !strings.Contains(tag, attr) {
					t.Errorf("%s: %s has no%s", path, tag, attr)
				}
			}
		}
	}
	if n < 6 {
		t.Errorf("%d images in all pages; the header, index and episode pages show art", n)
	}
	page := string(files["episodes/ep-2/index.html"].Body)
	if !strings.Contains(page, `<source type="image/webp" srcset="https://pod.example.com/media/art/ep2-300.webp 300w" sizes="240px">`) ||
		!strings.Contains(page, `alt="Art of `+html.EscapeString(ep.Meta.Title)+`"`) {
		t.Errorf("the episode page does not show the episode's art in its sizes:\n%s", page)
	}
}

// TestSubscribeAndEmbed: the home page and every episode page offer the
// show in listeners' apps (by its Apple id when show.yaml has one) and the
// feed to copy; every episode has a bare player page to embed.
func TestSubscribeAndEmbed(t *testing.T) {
	show := testShow()
	show.AppleID = "1234567"
	files, err := site.Render(show, []*pipeline.Manifest{episode(1)}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"index.html", "episodes/ep-1/index.html"} {
		page := string(files[path].Body)
		for _, want := range []string{`<a href="https://podcasts.apple.com/podcast/id1234567">Apple Podcasts</a>`,
			`<a href="https://overcast.fm/itunes1234567">Overcast</a>`, `<a href="https://pca.st/itunes/1234567">Pocket Casts</a>`,
			`<a href="https://antennapod.org/deeplink/subscribe?url=https%3A%2F%2Fpod.example.com%2Ffeed.xml">AntennaPod</a>`,
			`<a href="podcast://pod.example.com/feed.xml">`, `<input id="feed-url" readonly value="https://pod.example.com/feed.xml">`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
	}
	embed := string(files["episodes/ep-1/embed/index.html"].Body)
	for _, want := range []string{`<meta name="robots" content="noindex">`, `<audio id="player" controls preload="none" src="https://pod.example.com/media/ep-1/abc.mp3">`,
		`target="_top">Episode 1: Flask &amp; &lt;async&gt;</a>`, `<script src="/player.js" defer></script>`} {
		if !strings.Contains(embed, want) {
			t.Errorf("the embed page lacks %s:\n%s", want, embed)
		}
	}
	if len(embed) > 4096 {
		t.Errorf("the embed page has %d bytes; it is a player, not a page", len(embed))
	}
	if page := string(files["episodes/ep-1/index.html"].Body); !strings.Contains(page, `&lt;iframe src="https://pod.example.com/episodes/ep-1/embed/"`) {
		t.Errorf("the episode page does not offer the embed snippet")
	}
}

// TestGuests: a guest who appears in several episodes (by the same name,
// in any case, or the same url) has one page listing them all, newest
// first, and each episode page links it; two people whose names make the
// same slug get two pages.
func TestGuests(t *testing.T) {
	e1, e2, e3, e4 := episode(1), episode(2), episode(3), episode(4)
	e1.Meta.Guests = []pipeline.Guest{{Name: "Ada-Lovelace"}}
	e2.Meta.Guests = []pipeline.Guest{{Name: "A. Lovelace", Role: "Author", URL: "https://example.com/ada"}}
	e3.Meta.Guests = []pipeline.Guest{{Name: "ada  lovelace"}, {Name: "Grace Hopper", Role: "Admiral"}}
	e4.Meta.Guests = []pipeline.Guest{{Name: "Ada Lovelace", Role: "SRE", URL: "https://example.com/ada"}}
	files, err := site.Render(testShow(), []*pipeline.Manifest{e1, e2, e3, e4}, now)
	if err != nil {
		t.Fatal(err)
	}
	ada := string(files["guests/ada-lovelace/index.html"].Body)
	cards := regexp.MustCompile(`<li><a href="/episodes/(ep-\d)/">`).FindAllStringSubmatch(ada, -1)
	var got []string
	for _, c := range cards {
		got = append(got, c[1])
	}
	if diff := cmp.Diff([]string{"ep-2", "ep-3", "ep-4"}, got); diff != "" {
		t.Errorf("Ada's page lists (-want +got):\n%s", diff)
	}
	for _, want := range []string{"<h1>Ada Lovelace</h1>", "SRE, Author", `<a href="https://example.com/ada" rel="noopener">`, "3 episodes of Python in Production"} {
		if !strings.Contains(ada, want) {
			t.Errorf("Ada's page lacks %s", want)
		}
	}
	if _, ok := files["guests/ada-lovelace-2/index.html"]; !ok {
		t.Errorf("Ada-Lovelace, another person with Ada's slug, has no page of her own")
	}
	if p := string(files["episodes/ep-3/index.html"].Body); !strings.Contains(p, `<a href="/guests/ada-lovelace/">ada  lovelace</a>`) ||
		!strings.Contains(p, `<a href="/guests/grace-hopper/">Grace Hopper</a>, Admiral`) {
		t.Errorf("episode 3 does not link its guests' pages")
	}
}

// TestSearchIndex: the index holds each live episode's title, guests,
// notes and transcript; a render after a new episode reads no transcript
// of the others again.
func TestSearchIndex(t *testing.T) {
	e1, e2, e3 := episode(1), episode(2), episode(3)
	e3.Transcript = &pipeline.TranscriptRef{Key: "private/transcripts/ep-3/abc.json", SHA256: "abc"}
	loads := 0
	r := &site.Renderer{Transcript: func(*pipeline.TranscriptRef) ([]pipeline.Cue, error) { loads++; return testCues, nil }}
	if _, _, err := r.Render(testShow(), []*pipeline.Manifest{e2, e3}, now); err != nil {
		t.Fatal(err)
	}
	files, _, err := r.Render(testShow(), []*pipeline.Manifest{e1, e2, e3}, now)
	if err != nil {
		t.Fatal(err)
	}
	if loads != 1 {
		t.Errorf("transcripts read %d times, want once", loads)
	}
	var idx site.SearchIndex
	if err := json.Unmarshal(files[site.SearchIndexPath].Body, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Episodes) != 3 || idx.Episodes[0].Path != "/episodes/ep-1/" || idx.Episodes[2].Guests[0] != "Ada" ||
		len(idx.Episodes[2].Transcript) == 0 || !strings.Contains(idx.Episodes[2].Notes, "We talk Flask") {
		t.Fatalf("index: %+v", idx.Episodes)
	}
	hits := idx.Search("kubernetes GUEST", 10)
	if len(hits) != 1 || hits[0].Path != "/episodes/ep-3/" || hits[0].At != 0 || !strings.Contains(string(hits[0].Snippet), "without <mark>Kubernetes</mark>") {
		t.Errorf("a search of the transcript: %+v", hits)
	}
	if hits := idx.Search("flask", 10); len(hits) != 3 || hits[0].Where != "the title" {
		t.Errorf("a word of both titles: %+v", hits)
	}
	if hits := idx.Search("flask nowhere", 10); len(hits) != 0 {
		t.Errorf("every word must match: %+v", hits)
	}
}

// TestPageWeight: an episode page with a one-hour transcript (1,200 cues,
// more words than an hour of talk has) stays under 150 KB before media and
// art, and asks nothing of another site: its stylesheet, script, images
// and player come from the show.
func TestPageWeight(t *testing.T) {
	var cues []pipeline.Cue
	for i := range 1200 {
		cues = append(cues, pipeline.Cue{Start: float64(i * 3), End: float64(i*3 + 3), Speaker: []string{"Jo Host", "Ada"}[i/7%2],
			Text: "We moved the Flask service to Python 3 and then to asyncio, one endpoint at a time."})
	}
	ep := episode(1, "async")
	ep.Transcript = &pipeline.TranscriptRef{Key: "k", SHA256: "s", Cues: len(cues)}
	ep.Chapters = []pipeline.Chapter{{Start: 0, Title: "Hello"}, {Start: 600, Title: "Asyncio"}, {Start: 1800, Title: "Wrap-up"}}
	ep.Meta.Guests[0].Img = "https://elsewhere.example/ada.jpg"
	r := &site.Renderer{Transcript: func(*pipeline.TranscriptRef) ([]pipeline.Cue, error) { return cues, nil }}
	files, _, err := r.Render(testShow(), []*pipeline.Manifest{ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	page := files["episodes/ep-1/index.html"].Body
	if len(page) >= 150*1000 {
		t.Errorf("the page has %d bytes; an hour of transcript must stay under 150 KB", len(page))
	}
	for _, m := range regexp.MustCompile(`<(?:img|script|source|audio|link|iframe)\b[^>]*?\s(?:src|srcset|href)="([^"]*)"`).FindAllSubmatch(page, -1) {
		for _, u := range strings.Split(string(m[1]), ",") {
			u = strings.TrimSpace(u)
			if !strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "https://pod.example.com/") {
				t.Errorf("the page loads %q from another site (%s)", u, m[0])
			}
		}
	}
	t.Logf("%d bytes", len(page))
}

// TestPublishIntoThousand counts what one episode published into a show of
// 1,000 renders: the index pages (each shifts by one), the new page and
// its embed, its older neighbour, its guest's and its topic's pages, the
// about page (a new topic), the Atom feed, the sitemap and the search
// index; not the other 999 episode pages, nor the other guest and topic
// pages.
func TestPublishIntoThousand(t *testing.T) {
	var eps []*pipeline.Manifest
	for i := 2; i <= 1001; i++ {
		m := episode(i, fmt.Sprintf("topic-%d", i%9))
		m.Meta.Guests = []pipeline.Guest{{Name: fmt.Sprintf("Guest %d", i%50)}}
		eps = append(eps, m)
	}
	r := new(site.Renderer)
	if _, _, err := r.Render(testShow(), eps, now); err != nil {
		t.Fatal(err)
	}
	added := episode(1, "oauth2")
	added.Meta.Guests = []pipeline.Guest{{Name: "Guest 7"}}
	files, stats, err := r.Render(testShow(), append([]*pipeline.Manifest{added}, eps...), now)
	if err != nil {
		t.Fatal(err)
	}
	var rendered []string
	pages := 0
	for path, f := range files {
		switch {
		case f.Unchanged:
		case path == "index.html" || strings.HasPrefix(path, "page/"):
			pages++
		default:
			rendered = append(rendered, path)
		}
	}
	sort.Strings(rendered)
	want := []string{"about/index.html", "atom.xml", "episodes/ep-1/embed/index.html", "episodes/ep-1/index.html", "episodes/ep-2/index.html",
		"guests/guest-7/index.html", "search/index.json", "sitemap.xml", "tags/oauth2/index.html"}
	if diff := cmp.Diff(want, rendered); diff != "" || pages != 51 {
		t.Errorf("rendered (-want +got):\n%s\nand %d index pages, want 51", diff, pages)
	}
	t.Logf("%d files rendered, %d taken as they were", stats.Rendered, stats.Reused)
}
