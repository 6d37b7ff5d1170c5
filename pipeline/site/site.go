// Package site renders the show-notes blog as static files: the home page,
// one page per episode, and the stylesheet. The files go under the bucket's
// public/ prefix, so `prodcast serve`, a CDN or the bucket itself can serve
// them. Templates are html/template, embedded in the binary.
//
//	files, err := site.Render(show, manifests, time.Now())
//	// files["episodes/flask-patterns/index.html"] = <html>...
package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/markdown"
)

//go:embed templates/*.html templates/*.css
var templatesFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"duration": formatDuration,
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).ParseFS(templatesFS, "templates/*.html"))

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
	Notes    template.HTML
	Summary  string
}

type page struct {
	Show      *pipeline.Show
	Title     string
	Canonical string
	Desc      string
	Episodes  []Episode
	Episode   *Episode
}

// Render renders every page for the episodes live at now. Keys are paths
// under public/.
func Render(show *pipeline.Show, manifests []*pipeline.Manifest, now time.Time) (map[string]File, error) {
	var eps []Episode
	for _, m := range manifests {
		if !m.Live(now) || m.MP3 == nil {
			continue
		}
		notes := markdown.Notes(m.NotesMD, m.NotesHTML)
		summary := m.Meta.Summary
		if summary == "" {
			summary = markdown.PlainFromHTML(notes, 200)
		}
		eps = append(eps, Episode{
			Manifest: m,
			URL:      show.EpisodeURL(m.Slug),
			MediaURL: show.PublicURL(m.MP3.Key),
			Notes:    template.HTML(notes), // sanitised by bluemonday
			Summary:  summary,
		})
	}
	out := map[string]File{}
	html := func(path, tmpl string, p page) error {
		var buf bytes.Buffer
		if err := templates.ExecuteTemplate(&buf, tmpl, p); err != nil {
			return fmt.Errorf("cannot render %s: %w", path, err)
		}
		out[path] = File{Body: buf.Bytes(), ContentType: "text/html; charset=utf-8"}
		return nil
	}
	if err := html("index.html", "index.html", page{Show: show, Title: show.Title,
		Canonical: show.URL("/"), Desc: show.Description, Episodes: eps}); err != nil {
		return nil, err
	}
	for i := range eps {
		e := &eps[i]
		if err := html("episodes/"+e.Slug+"/index.html", "episode.html", page{Show: show,
			Title: e.Meta.Title + " · " + show.Title, Canonical: e.URL, Desc: e.Summary, Episode: e}); err != nil {
			return nil, err
		}
	}
	css, err := templatesFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	out["style.css"] = File{Body: css, ContentType: "text/css; charset=utf-8"}
	return out, nil
}

func formatDuration(sec float64) string {
	s := int(sec + 0.5)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
