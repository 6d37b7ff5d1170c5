package feeds

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"gopkg.in/yaml.v3"

	"github.com/prodcast/prodcast/pipeline"
)

// ImportedShow is what an old feed says of the show as a whole: the keys
// of a show.yaml, and the URL of its art.
type ImportedShow struct {
	Show     pipeline.Show
	ImageURL string
}

// ImportShow reads the channel of an old feed into show.yaml's keys. It
// leaves out what belongs to the old host: itunes:new-feed-url (which
// would send apps away from the new home), podcast:guid and podcast:locked
// (made from the new feed URL and the owner).
func ImportShow(f *gofeed.Feed) *ImportedShow {
	s := pipeline.Show{
		Title:       strings.TrimSpace(f.Title),
		Description: strings.TrimSpace(f.Description),
		Language:    strings.TrimSpace(f.Language),
	}
	out := &ImportedShow{ImageURL: channelArt(f)}
	if x := f.ITunesExt; x != nil {
		s.Author = strings.TrimSpace(x.Author)
		if x.Owner != nil {
			s.Owner = pipeline.Owner{Name: strings.TrimSpace(x.Owner.Name), Email: strings.TrimSpace(x.Owner.Email)}
		}
		if len(x.Categories) > 0 && x.Categories[0] != nil {
			s.Category = x.Categories[0].Text
			if sub := x.Categories[0].Subcategory; sub != nil {
				s.Subcategory = sub.Text
			}
		}
		s.Explicit = isYes(x.Explicit)
		s.Block = isYes(x.Block)
		s.Complete = isYes(x.Complete)
	}
	pod := f.Extensions["podcast"]
	for _, e := range pod["funding"] {
		if isHTTPURL(e.Attrs["url"]) {
			s.Funding = pipeline.Funding{URL: e.Attrs["url"], Text: strings.TrimSpace(e.Value)}
			break
		}
	}
	s.TXT = txtOf(pod["txt"])
	if l := licenseOf(pod["license"]); l != nil {
		s.License = *l
	}
	if l := locationOf(pod["location"]); l != nil {
		s.Location = *l
	}
	if m := firstValue(pod["medium"]); pipeline.CheckMedium(m) == nil {
		s.Medium = m
	}
	for _, e := range pod["updateFrequency"] {
		s.UpdateFrequency = pipeline.UpdateFrequency{RRule: e.Attrs["rrule"], Text: strings.TrimSpace(e.Value),
			Complete: e.Attrs["complete"] == "true"}
	}
	for _, e := range pod["podroll"] {
		for _, r := range e.Children["remoteItem"] {
			s.Podroll = append(s.Podroll, pipeline.RemoteFeed{FeedGUID: r.Attrs["feedGuid"], FeedURL: r.Attrs["feedUrl"]})
		}
	}
	for _, e := range pod["publisher"] {
		for _, r := range e.Children["remoteItem"] {
			s.Publisher = pipeline.RemoteFeed{FeedGUID: r.Attrs["feedGuid"], FeedURL: r.Attrs["feedUrl"]}
		}
	}
	for _, e := range pod["value"] {
		if v, err := valueOf(e); err == nil && pipeline.CheckValue(v) == nil {
			s.Value = &v
		}
		break
	}
	// Extra encodings the old feed offered, which the new one makes too.
	seen := map[string]bool{}
	for _, it := range f.Items {
		for _, a := range it.Extensions["podcast"]["alternateEnclosure"] {
			format := map[string]string{"audio/mp4": "aac", "audio/aac": "aac", "audio/ogg": "opus", "audio/opus": "opus"}[a.Attrs["type"]]
			if format != "" && !seen[format] {
				seen[format] = true
				s.Audio.Formats = append(s.Audio.Formats, format)
			}
		}
	}
	out.Show = s
	return out
}

func isYes(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "explicit":
		return true
	}
	return false
}

func firstValue(es []ext.Extension) string {
	if len(es) == 0 {
		return ""
	}
	return strings.TrimSpace(es[0].Value)
}

// txtOf reads podcast:txt elements.
func txtOf(es []ext.Extension) []pipeline.TXT {
	var out []pipeline.TXT
	for _, e := range es {
		if v := strings.TrimSpace(e.Value); v != "" {
			out = append(out, pipeline.TXT{Purpose: e.Attrs["purpose"], Value: v})
		}
	}
	return out
}

// licenseOf reads the first podcast:license.
func licenseOf(es []ext.Extension) *pipeline.License {
	for _, e := range es {
		if n := strings.TrimSpace(e.Value); n != "" {
			return &pipeline.License{Name: n, URL: e.Attrs["url"]}
		}
	}
	return nil
}

// locationOf reads the first podcast:location.
func locationOf(es []ext.Extension) *pipeline.Location {
	for _, e := range es {
		if n := strings.TrimSpace(e.Value); n != "" {
			return &pipeline.Location{Name: n, Geo: e.Attrs["geo"], OSM: e.Attrs["osm"]}
		}
	}
	return nil
}

// YAML writes the imported show as a show.yaml: only the keys the old
// feed had, in show.yaml's order, under a comment that says where they
// came from.
func (s *ImportedShow) YAML(header, image string) ([]byte, error) {
	show := s.Show
	show.Image = image
	var doc yaml.Node
	if err := doc.Encode(&show); err != nil {
		return nil, fmt.Errorf("cannot write show.yaml: %w", err)
	}
	prune(&doc, true)
	var buf bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		buf.WriteString("# " + l + "\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("cannot write show.yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// prune drops the empty keys of a mapping (and of the mappings in it):
// empty strings, zero numbers, false (but for explicit, which says
// something either way), empty lists and mappings left empty.
func prune(n *yaml.Node, top bool) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			prune(c, top)
		}
		return false
	case yaml.MappingNode:
		var kept []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if prune(v, false) && !(top && k.Value == "explicit") {
				continue
			}
			kept = append(kept, k, v)
		}
		n.Content = kept
		return len(kept) == 0
	case yaml.SequenceNode:
		for _, c := range n.Content {
			prune(c, false)
		}
		return len(n.Content) == 0
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return true
		case "!!bool":
			return n.Value == "false"
		case "!!int", "!!float":
			return n.Value == "0"
		}
		return n.Value == ""
	}
	return false
}
