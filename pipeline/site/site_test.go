package site_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
		Funding: pipeline.Funding{URL: "https://example.com/support", Text: "Support us"}}
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
