package site

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html/template"
	"time"
)

// NetworkShow is what the network's pages say of one show.
type NetworkShow struct {
	Name        string          `json:"name"` // "" for the root show
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Language    string          `json:"language"`
	FeedURL     string          `json:"feed_url"`
	SiteURL     string          `json:"site_url"`
	ArtURL      string          `json:"art_url,omitempty"`
	Latest      *NetworkEpisode `json:"latest,omitempty"`
	// Episodes, Live and Scheduled count the show's episodes as of its
	// last rebuild, for `prodcast status` on a large network.
	Episodes  int `json:"episodes"`
	Live      int `json:"live"`
	Scheduled int `json:"scheduled"`
}

// NetworkEpisode is a show's latest episode.
type NetworkEpisode struct {
	Title string    `json:"title"`
	URL   string    `json:"url"`
	Date  time.Time `json:"date"`
}

type opml struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	Title   string   `xml:"head>title"`
	Body    []struct {
		Type    string `xml:"type,attr"`
		Text    string `xml:"text,attr"`
		Title   string `xml:"title,attr"`
		XMLURL  string `xml:"xmlUrl,attr"`
		HTMLURL string `xml:"htmlUrl,attr"`
	} `xml:"body>outline"`
}

// OPML lists every show's feed as OPML 2.0, for apps that subscribe to a
// whole network at once.
func OPML(title string, shows []NetworkShow) ([]byte, error) {
	o := opml{Version: "2.0", Title: title}
	for _, s := range shows {
		o.Body = append(o.Body, struct {
			Type    string `xml:"type,attr"`
			Text    string `xml:"text,attr"`
			Title   string `xml:"title,attr"`
			XMLURL  string `xml:"xmlUrl,attr"`
			HTMLURL string `xml:"htmlUrl,attr"`
		}{"rss", s.Title, s.Title, s.FeedURL, s.SiteURL})
	}
	out, err := xml.MarshalIndent(o, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot encode the OPML: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

var networkPage = template.Must(template.New("network").Funcs(funcs).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="alternate" type="text/x-opml" title="Every show" href="/shows.opml">
<style>
body{font:1rem/1.5 system-ui,sans-serif;max-width:48rem;margin:0 auto;padding:1rem;color:#222;background:#fff}
@media (prefers-color-scheme:dark){body{color:#eee;background:#111}a{color:#8cf}}
.show{display:flex;gap:1rem;margin:1.5rem 0;align-items:flex-start}
.show img{width:96px;height:96px;border-radius:6px;flex:none}
.show h2{margin:0 0 .25rem;font-size:1.25rem}
.show p{margin:.25rem 0}
.latest{font-size:.9rem}
</style>
</head>
<body>
<main id="main">
<h1>{{.Title}}</h1>
<p>Every show's feed, for podcast apps: <a href="/shows.opml">shows.opml</a>.</p>
{{range .Shows}}<section class="show">
{{with .ArtURL}}<img src="{{.}}" alt="" width="96" height="96" loading="lazy">{{end}}
<div><h2><a href="{{.SiteURL}}/">{{.Title}}</a></h2>
<p>{{.Description}}</p>
{{with .Latest}}<p class="latest">Latest: <a href="{{.URL}}">{{.Title}}</a> · <time datetime="{{iso .Date}}">{{date .Date}}</time></p>{{end}}
<p><a href="{{.FeedURL}}">Podcast feed</a> · <a href="{{.SiteURL}}/pitch/">Be a guest</a></p></div>
</section>
{{else}}<p>No show has published yet.</p>
{{end}}</main>
</body>
</html>
`))

// NetworkIndex renders the front page of an install without a root show:
// each show with its art, description and latest episode.
func NetworkIndex(title string, shows []NetworkShow) ([]byte, error) {
	var b bytes.Buffer
	if err := networkPage.Execute(&b, struct {
		Title string
		Shows []NetworkShow
	}{title, shows}); err != nil {
		return nil, fmt.Errorf("cannot render the network page: %w", err)
	}
	return b.Bytes(), nil
}
