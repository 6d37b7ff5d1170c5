// Package site renders the show-notes blog as static files: the home pages,
// one page per episode and per topic tag, an about page, the blog's Atom
// feed, the sitemap, robots.txt and the stylesheet. The files go under the
// bucket's public/ prefix, so `prodcast serve`, a CDN or the bucket itself
// can serve them. Templates are html/template, embedded in the binary.
//
//	files, err := site.Render(show, manifests, time.Now())
//	// files["episodes/flask-patterns/index.html"] = <html>...
package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/chapters"
	"github.com/prodcast/prodcast/pipeline/markdown"
)

//go:embed templates/*.html templates/*.css
var templatesFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"duration": formatDuration,
	"stamp":    chapters.Format,
	"secs":     func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).ParseFS(templatesFS, "templates/*.html"))

// PerPage is how many episodes a home page lists.
const PerPage = 20

// File is one rendered file and its content type.
type File struct {
	Body        []byte
	ContentType string
}

// Episode is what an episode page shows.
type Episode struct {
	*pipeline.Manifest
	URL      string
	MediaURL string
	ArtURL   string
	Notes    template.HTML
	Summary  string
	Newer    *Episode
	Older    *Episode
}

type page struct {
	Show      *pipeline.Show
	Title     string
	Canonical string
	Desc      string
	Image     string
	Episodes  []*Episode
	Episode   *Episode
	Tag       string
	Tags      []tagCount
	Page      int
	Prev      string // URL of the newer page
	Next      string // URL of the older page
}

type tagCount struct {
	Tag string
	N   int
}

// Render renders every file of the blog for the episodes live at now. Keys
// are paths under public/.
func Render(show *pipeline.Show, manifests []*pipeline.Manifest, now time.Time) (map[string]File, error) {
	eps := episodes(show, manifests, now)
	r := &renderer{show: show, out: map[string]File{}}
	r.home(eps)
	for _, e := range eps {
		img := e.ArtURL
		if img == "" {
			img = show.ArtURL()
		}
		r.html("episodes/"+e.Slug+"/index.html", "episode.html", page{Show: show,
			Title: e.Meta.Title + " · " + show.Title, Canonical: e.URL, Desc: e.Summary, Image: img, Episode: e})
		if len(e.Chapters) > 0 {
			data, err := chapters.JSON(e.Chapters)
			if err != nil {
				return nil, err
			}
			r.out["episodes/"+e.Slug+"/chapters.json"] = File{Body: data, ContentType: "application/json+chapters"}
		}
	}
	byTag := map[string][]*Episode{}
	for _, e := range eps {
		for _, t := range e.Meta.Tags {
			byTag[t] = append(byTag[t], e)
		}
	}
	tags := make([]tagCount, 0, len(byTag))
	for t, list := range byTag {
		tags = append(tags, tagCount{t, len(list)})
		r.html("tags/"+t+"/index.html", "tag.html", page{Show: show, Title: "#" + t + " · " + show.Title,
			Canonical: show.URL("/tags/" + t + "/"), Desc: fmt.Sprintf("Episodes of %s about %s.", show.Title, t),
			Image: show.ArtURL(), Episodes: list, Tag: t})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Tag < tags[j].Tag })
	r.html("about/index.html", "about.html", page{Show: show, Title: "About · " + show.Title,
		Canonical: show.URL("/about/"), Desc: show.Description, Image: show.ArtURL(), Tags: tags})
	if r.err != nil {
		return nil, r.err
	}
	css, err := templatesFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	r.out["style.css"] = File{Body: css, ContentType: "text/css; charset=utf-8"}
	a, err := atom(show, eps, now)
	if err != nil {
		return nil, err
	}
	sm, err := sitemap(show, eps, tags)
	if err != nil {
		return nil, err
	}
	r.out["atom.xml"] = File{Body: a, ContentType: "application/atom+xml; charset=utf-8"}
	r.out["sitemap.xml"] = File{Body: sm, ContentType: "application/xml; charset=utf-8"}
	r.out["robots.txt"] = File{Body: []byte("User-agent: *\nDisallow: /media/\n\nSitemap: " + show.URL("/sitemap.xml") + "\n"),
		ContentType: "text/plain; charset=utf-8"}
	return r.out, nil
}

func episodes(show *pipeline.Show, manifests []*pipeline.Manifest, now time.Time) []*Episode {
	var live []*pipeline.Manifest
	for _, m := range manifests {
		if m.Live(now) && m.MP3 != nil {
			live = append(live, m)
		}
	}
	// Rendering the notes is most of the work: spread it over the cores.
	rendered := make([]string, len(live))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				rendered[i] = markdown.Notes(live[i].NotesMD, live[i].NotesHTML)
			}
		})
	}
	for i := range live {
		next <- i
	}
	close(next)
	wg.Wait()
	eps := make([]*Episode, 0, len(live))
	for i, m := range live {
		notes := rendered[i]
		summary := m.Meta.Summary
		if summary == "" {
			summary = markdown.PlainFromHTML(notes, 200)
		}
		e := &Episode{
			Manifest: m,
			URL:      show.EpisodeURL(m.Slug),
			MediaURL: show.PublicURL(m.MP3.Key),
			Notes:    template.HTML(notes), // sanitised by bluemonday
			Summary:  summary,
		}
		if m.Art != "" {
			e.ArtURL = show.PublicURL(m.Art)
		}
		eps = append(eps, e)
	}
	for i, e := range eps { // newest first
		if i > 0 {
			e.Newer = eps[i-1]
		}
		if i+1 < len(eps) {
			e.Older = eps[i+1]
		}
	}
	return eps
}

type renderer struct {
	show *pipeline.Show
	out  map[string]File
	err  error
}

func (r *renderer) html(path, tmpl string, p page) {
	if r.err != nil {
		return
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, tmpl, p); err != nil {
		r.err = fmt.Errorf("cannot render %s: %w", path, err)
		return
	}
	r.out[path] = File{Body: buf.Bytes(), ContentType: "text/html; charset=utf-8"}
}

// home renders the home page and its older pages, PerPage episodes each.
func (r *renderer) home(eps []*Episode) {
	pages := max(1, (len(eps)+PerPage-1)/PerPage)
	url := func(n int) string {
		if n == 1 {
			return "/"
		}
		return fmt.Sprintf("/page/%d/", n)
	}
	for n := 1; n <= pages; n++ {
		list := eps[(n-1)*PerPage : min(n*PerPage, len(eps))]
		p := page{Show: r.show, Title: r.show.Title, Canonical: r.show.URL(url(n)), Desc: r.show.Description,
			Image: r.show.ArtURL(), Episodes: list, Page: n}
		if n > 1 {
			p.Prev = url(n - 1)
			p.Title = fmt.Sprintf("%s · page %d", r.show.Title, n)
		}
		if n < pages {
			p.Next = url(n + 1)
		}
		path := "index.html"
		if n > 1 {
			path = fmt.Sprintf("page/%d/index.html", n)
		}
		r.html(path, "index.html", p)
	}
}

func formatDuration(sec float64) string {
	s := int(sec + 0.5)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
