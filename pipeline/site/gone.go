package site

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/prodcast/prodcast/pipeline"
)

var gonePage = template.Must(template.New("gone").Parse(`<!doctype html>
<html lang="{{.Show.Language}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Episode withdrawn · {{.Show.Title}}</title>
<link rel="stylesheet" href="{{.Show.Path "/style.css"}}">
</head>
<body>
<main id="main">
<h1>This episode was withdrawn</h1>
<p>“{{.Title}}” is no longer available from {{.Show.Title}}.</p>
<p><a href="{{.Show.Path "/"}}">Other episodes</a></p>
</main>
</body>
</html>
`))

// gone renders the page of a withdrawn (unpublished or deleted) episode,
// served with 410 Gone, so that apps and search engines drop it.
func (r *renderer) gone(m *pipeline.Manifest) {
	path := pipeline.EpisodeDir(m.Slug) + "index.html"
	r.file(path, "text/html; charset=utf-8", "gone:"+m.Slug+":"+m.Meta.Title, func() ([]byte, error) {
		var b bytes.Buffer
		err := gonePage.Execute(&b, struct {
			Show  *pipeline.Show
			Title string
		}{r.show, m.Meta.Title})
		return b.Bytes(), err
	})
	if f, ok := r.out[path]; ok {
		f.Status = http.StatusGone
		r.out[path] = f
	}
}
