package feeds

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
)

// Imported is one episode of an existing feed, ready to become a manifest.
type Imported struct {
	Manifest *pipeline.Manifest // GUID, date, notes and metadata as the feed has them
	MediaURL string             // the enclosure
	Type     string             // its MIME type
	Length   int64              // its length as the feed states it
	Duration float64            // itunes:duration, seconds; 0 if absent
}

// Import reads an existing podcast feed into episodes that keep their
// original GUIDs, dates, notes and media, so that apps see the same episodes
// after the move. An item without a GUID keeps the identity apps gave it:
// its enclosure URL. Slugs are made unique within the feed.
func Import(data []byte) (*gofeed.Feed, []Imported, error) {
	f, err := Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot parse the feed: %w", err)
	}
	var out []Imported
	slugs := map[string]int{}
	for n, it := range f.Items {
		if len(it.Enclosures) == 0 || it.Enclosures[0].URL == "" {
			return nil, nil, fmt.Errorf("item %d %q has no enclosure; there is no audio to import", n+1, it.Title)
		}
		enc := it.Enclosures[0]
		guid := it.GUID
		if guid == "" {
			guid = enc.URL
		}
		title := strings.TrimSpace(it.Title)
		if title == "" {
			title = "Episode " + strconv.Itoa(n+1)
		}
		slug := bundle.Slug(title)
		if slugs[slug]++; slugs[slug] > 1 {
			slug = fmt.Sprintf("%s-%d", slug, slugs[slug])
		}
		pub := time.Now().UTC()
		if it.PublishedParsed != nil {
			pub = it.PublishedParsed.UTC()
		}
		m := &pipeline.Manifest{
			Slug: slug, GUID: guid, PublishedAt: pub,
			Meta:      pipeline.Meta{Title: title, Slug: slug},
			NotesHTML: it.Content,
		}
		if m.NotesHTML == "" {
			m.NotesHTML = it.Description
		}
		length, _ := strconv.ParseInt(enc.Length, 10, 64)
		imp := Imported{Manifest: m, MediaURL: enc.URL, Type: enc.Type, Length: length}
		if x := it.ITunesExt; x != nil {
			m.Meta.Summary = strings.TrimSpace(x.Summary)
			m.Meta.Season, _ = strconv.Atoi(x.Season)
			m.Meta.Episode, _ = strconv.Atoi(x.Episode)
			if t := strings.ToLower(x.EpisodeType); t == "trailer" || t == "bonus" {
				m.Meta.Type = t
			}
			switch strings.ToLower(x.Explicit) {
			case "true", "yes", "explicit":
				m.Meta.Explicit = ptr(true)
			case "false", "no", "clean":
				m.Meta.Explicit = ptr(false)
			}
			imp.Duration = parseDuration(x.Duration)
		}
		out = append(out, imp)
	}
	return f, out, nil
}

func ptr[T any](v T) *T { return &v }

// parseDuration reads itunes:duration: seconds, MM:SS or HH:MM:SS.
func parseDuration(s string) float64 {
	parts := strings.Split(strings.TrimSpace(s), ":")
	total := 0.0
	for _, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return 0
		}
		total = total*60 + v
	}
	return total
}
