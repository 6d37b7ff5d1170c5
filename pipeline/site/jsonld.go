package site

import (
	"encoding/json"
	"fmt"
	"html/template"
	"time"
)

// JSONLD is the page's structured data for search engines: PodcastSeries
// on the home page, PodcastEpisode on an episode's page; "" elsewhere.
// encoding/json escapes <, > and &, so the script cannot be closed early.
func (p page) JSONLD() template.JS {
	var v any
	switch {
	case p.Episode != nil:
		v = p.episodeLD(p.Episode)
	case p.Page == 1:
		v = p.seriesLD(true)
	default:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return template.JS(b)
}

type ldSeries struct {
	Context     string    `json:"@context,omitempty"`
	Type        string    `json:"@type"`
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	Description string    `json:"description,omitempty"`
	WebFeed     string    `json:"webFeed,omitempty"`
	Image       string    `json:"image,omitempty"`
	Author      *ldPerson `json:"author,omitempty"`
	InLanguage  string    `json:"inLanguage,omitempty"`
}

type ldPerson struct {
	Type string `json:"@type"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type ldMedia struct {
	Type           string `json:"@type"`
	ContentURL     string `json:"contentUrl"`
	EncodingFormat string `json:"encodingFormat,omitempty"`
	ContentSize    int64  `json:"contentSize,omitempty"`
}

type ldEpisode struct {
	Context         string     `json:"@context"`
	Type            string     `json:"@type"`
	Name            string     `json:"name"`
	URL             string     `json:"url"`
	Description     string     `json:"description,omitempty"`
	DatePublished   string     `json:"datePublished"`
	Duration        string     `json:"duration,omitempty"`
	EpisodeNumber   int        `json:"episodeNumber,omitempty"`
	Image           string     `json:"image,omitempty"`
	AssociatedMedia ldMedia    `json:"associatedMedia"`
	PartOfSeries    ldSeries   `json:"partOfSeries"`
	Actor           []ldPerson `json:"actor,omitempty"`
}

func (p page) seriesLD(top bool) ldSeries {
	s := ldSeries{Type: "PodcastSeries", Name: p.Show.Title, URL: p.Show.URL("/")}
	if top {
		s.Context = "https://schema.org"
		s.Description, s.WebFeed, s.Image, s.InLanguage = p.Show.Description, p.Show.FeedURL(), p.Show.ArtURL(), p.Show.Language
		if p.Show.Author != "" {
			s.Author = &ldPerson{Type: "Person", Name: p.Show.Author}
		}
	}
	return s
}

func (p page) episodeLD(e *Episode) ldEpisode {
	ld := ldEpisode{Context: "https://schema.org", Type: "PodcastEpisode", Name: e.Meta.Title, URL: e.URL, Description: p.Desc,
		DatePublished: e.PubDate().UTC().Format(time.RFC3339), EpisodeNumber: e.Meta.Episode, Image: p.Image,
		PartOfSeries: p.seriesLD(false)}
	if e.MP3 != nil {
		ld.AssociatedMedia = ldMedia{Type: "MediaObject", ContentURL: e.MediaURL, EncodingFormat: e.MP3.ContentType, ContentSize: e.MP3.Bytes}
		if d := int(e.MP3.Duration + 0.5); d > 0 {
			ld.Duration = fmt.Sprintf("PT%dH%dM%dS", d/3600, d/60%60, d%60)
		}
	}
	for _, g := range e.Meta.Guests {
		ld.Actor = append(ld.Actor, ldPerson{Type: "Person", Name: g.Name, URL: g.URL})
	}
	return ld
}
