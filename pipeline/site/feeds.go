package site

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"time"

	"github.com/prodcast/prodcast/pipeline"
)

// atomEntries is how many of the newest episodes the Atom feed carries.
const atomEntries = 50

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href   string `xml:"href,attr"`
	Rel    string `xml:"rel,attr,omitempty"`
	Type   string `xml:"type,attr,omitempty"`
	Length int64  `xml:"length,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string     `xml:"title"`
	ID        string     `xml:"id"`
	Published string     `xml:"published"`
	Updated   string     `xml:"updated"`
	Links     []atomLink `xml:"link"`
	Summary   string     `xml:"summary"`
	Content   atomText   `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// atom renders the blog's Atom feed, for feed readers: the newest 50
// episodes, their notes as HTML and the audio as an enclosure link.
func atom(show *pipeline.Show, eps []*Episode, now time.Time) ([]byte, error) {
	updated := now
	if len(eps) > 0 {
		updated = eps[0].UpdatedAt
	}
	f := atomFeed{
		Title: show.Title, ID: show.URL("/"), Updated: updated.UTC().Format(time.RFC3339),
		Links: []atomLink{{Href: show.URL("/atom.xml"), Rel: "self", Type: "application/atom+xml"},
			{Href: show.URL("/"), Rel: "alternate", Type: "text/html"}},
		Author: atomAuthor{Name: show.Author},
	}
	for _, e := range eps[:min(atomEntries, len(eps))] {
		f.Entries = append(f.Entries, atomEntry{
			Title: e.Meta.Title, ID: "urn:uuid:" + e.GUID,
			Published: e.PubDate().UTC().Format(time.RFC3339), Updated: e.UpdatedAt.UTC().Format(time.RFC3339),
			Links: []atomLink{{Href: e.URL, Rel: "alternate", Type: "text/html"},
				{Href: e.MediaURL, Rel: "enclosure", Type: e.MP3.ContentType, Length: e.MP3.Bytes}},
			Summary: e.Summary,
			Content: atomText{Type: "html", Body: string(e.Notes)},
		})
	}
	return encodeXML(f)
}

type urlset struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL
}

type sitemapURL struct {
	XMLName xml.Name `xml:"url"`
	Loc     string   `xml:"loc"`
	LastMod string   `xml:"lastmod,omitempty"`
}

// sitemap lists every page.
func sitemap(show *pipeline.Show, eps []*Episode, tags []tagCount, guests []string) ([]byte, error) {
	s := urlset{URLs: []sitemapURL{{Loc: show.URL("/")}, {Loc: show.URL("/about/")}}}
	for _, e := range eps {
		s.URLs = append(s.URLs, sitemapURL{Loc: e.URL, LastMod: e.UpdatedAt.UTC().Format("2006-01-02")})
	}
	for _, t := range tags {
		s.URLs = append(s.URLs, sitemapURL{Loc: show.URL("/tags/" + t.Tag + "/")})
	}
	for _, g := range guests {
		s.URLs = append(s.URLs, sitemapURL{Loc: show.URL("/guests/" + g + "/")})
	}
	return encodeXML(s)
}

func encodeXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("cannot encode XML: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
