package feeds

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	ext "github.com/mmcdole/gofeed/extensions"
	gorss "github.com/mmcdole/gofeed/rss"

	"github.com/prodcast/prodcast/pipeline"
)

// tagRules check the channel tags of the podcast namespace that show.yaml
// sets: each value as the namespace defines it.
var tagRules = []rule{
	{id: "channel-podcast-medium", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		for _, e := range podcastTags(f, "medium") {
			if err := pipeline.CheckMedium(strings.TrimSpace(e.Value)); err != nil {
				return "<podcast:medium>: " + err.Error()
			}
		}
		return ""
	}},
	{id: "channel-podcast-location", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		return checkLocations(podcastTags(f, "location"))
	}},
	{id: "item-podcast-location", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return checkLocations(i.Extensions["podcast"]["location"])
	}},
	{id: "channel-podcast-updatefrequency", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		for _, e := range podcastTags(f, "updateFrequency") {
			if strings.TrimSpace(e.Value) == "" {
				return "<podcast:updateFrequency> needs a text, such as Weekly"
			}
			if r := e.Attrs["rrule"]; r != "" {
				if err := pipeline.CheckRRule(r); err != nil {
					return "<podcast:updateFrequency rrule>: " + err.Error()
				}
			}
			if c := e.Attrs["complete"]; c != "" && c != "true" && c != "false" {
				return fmt.Sprintf("<podcast:updateFrequency complete> is %q; use true or false", c)
			}
		}
		return ""
	}},
	{id: "channel-podcast-remoteitem", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		var items []ext.Extension
		for _, parent := range append(podcastTags(f, "podroll"), podcastTags(f, "publisher")...) {
			items = append(items, parent.Children["remoteItem"]...)
		}
		for _, e := range items {
			if err := pipeline.CheckFeedGUID(e.Attrs["feedGuid"]); err != nil {
				return "<podcast:remoteItem feedGuid>: " + err.Error()
			}
			if u := e.Attrs["feedUrl"]; u != "" && !isHTTPURL(u) {
				return fmt.Sprintf("<podcast:remoteItem feedUrl> %q is not an http(s) URL", u)
			}
		}
		return ""
	}},
	{id: "channel-podcast-txt", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		return checkTXT(podcastTags(f, "txt"))
	}},
	{id: "item-podcast-txt", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return checkTXT(i.Extensions["podcast"]["txt"])
	}},
	{id: "channel-podcast-txt-purpose", source: "podcast namespace", sev: Warning, channel: func(f *gorss.Feed) string {
		for _, e := range podcastTags(f, "txt") {
			if p := e.Attrs["purpose"]; p != "" && !slices.Contains(pipeline.TXTPurposes, p) {
				return fmt.Sprintf("<podcast:txt purpose=%q> is not a purpose apps know (%s)", p, strings.Join(pipeline.TXTPurposes, ", "))
			}
		}
		return ""
	}},
	{id: "channel-podcast-license", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		return checkLicenses(podcastTags(f, "license"))
	}},
	{id: "item-podcast-license", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return checkLicenses(i.Extensions["podcast"]["license"])
	}},
	{id: "channel-podcast-block", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		for _, e := range podcastTags(f, "block") {
			if v := strings.TrimSpace(e.Value); v != "yes" && v != "no" {
				return fmt.Sprintf("<podcast:block> is %q; use yes or no", v)
			}
		}
		return ""
	}},
	{id: "channel-podcast-trailer", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		for _, e := range podcastTags(f, "trailer") {
			if !isHTTPURL(e.Attrs["url"]) {
				return fmt.Sprintf("<podcast:trailer> has url %q; it needs the trailer's enclosure, an http(s) URL", e.Attrs["url"])
			}
			if _, err := time.Parse(time.RFC1123Z, e.Attrs["pubdate"]); err != nil {
				if _, err := time.Parse(time.RFC1123, e.Attrs["pubdate"]); err != nil {
					return fmt.Sprintf("<podcast:trailer pubdate> %q is not an RFC 2822 date", e.Attrs["pubdate"])
				}
			}
			if l := e.Attrs["length"]; l != "" {
				if n, err := strconv.ParseInt(l, 10, 64); err != nil || n <= 0 {
					return fmt.Sprintf("<podcast:trailer length> %q must be the file's size in bytes", l)
				}
			}
		}
		return ""
	}},
	{id: "item-podcast-soundbite", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		for _, e := range i.Extensions["podcast"]["soundbite"] {
			start, err1 := strconv.ParseFloat(e.Attrs["startTime"], 64)
			dur, err2 := strconv.ParseFloat(e.Attrs["duration"], 64)
			if err1 != nil || err2 != nil || start < 0 || dur <= 0 {
				return fmt.Sprintf("<podcast:soundbite startTime=%q duration=%q>: both must be seconds, the duration above 0", e.Attrs["startTime"], e.Attrs["duration"])
			}
		}
		return ""
	}},
	{id: "item-podcast-person-img", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		for _, e := range i.Extensions["podcast"]["person"] {
			if img := e.Attrs["img"]; img != "" && !isHTTPURL(img) {
				return fmt.Sprintf("<podcast:person img> %q is not an http(s) URL", img)
			}
		}
		return ""
	}},
	{id: "channel-podcast-value", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		for _, e := range podcastTags(f, "value") {
			v, err := valueOf(e)
			if err != nil {
				return err.Error()
			}
			if err := pipeline.CheckValue(v); err != nil {
				return "<podcast:value>: " + err.Error()
			}
		}
		return ""
	}},
	{id: "channel-podcast-image", source: "podcast namespace", sev: Error, channel: func(f *gorss.Feed) string {
		return checkImages(podcastTags(f, "image"))
	}},
	{id: "item-podcast-image", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return checkImages(i.Extensions["podcast"]["image"])
	}},
	{id: "item-podcast-socialinteract", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		for _, e := range i.Extensions["podcast"]["socialInteract"] {
			p := e.Attrs["protocol"]
			if !slices.Contains(pipeline.SocialProtocols, p) {
				return fmt.Sprintf("<podcast:socialInteract protocol=%q> is not one of %s", p, strings.Join(pipeline.SocialProtocols, ", "))
			}
			if p != "disabled" && !isHTTPURL(e.Attrs["uri"]) {
				return fmt.Sprintf("<podcast:socialInteract uri=%q> needs the post's http(s) address", e.Attrs["uri"])
			}
		}
		return ""
	}},
}

// valueOf reads a podcast:value element and its recipients.
func valueOf(e ext.Extension) (pipeline.Value, error) {
	v := pipeline.Value{Type: e.Attrs["type"], Method: e.Attrs["method"], Suggested: e.Attrs["suggested"]}
	for _, r := range e.Children["valueRecipient"] {
		split, err := strconv.Atoi(r.Attrs["split"])
		if err != nil {
			return v, fmt.Errorf("<podcast:valueRecipient split=%q> is not a whole number", r.Attrs["split"])
		}
		v.Recipients = append(v.Recipients, pipeline.ValueRecipient{Name: r.Attrs["name"], Type: r.Attrs["type"], Address: r.Attrs["address"],
			Split: split, CustomKey: r.Attrs["customKey"], CustomValue: r.Attrs["customValue"], Fee: r.Attrs["fee"] == "true"})
	}
	return v, nil
}

func checkLocations(es []ext.Extension) string {
	for _, e := range es {
		if strings.TrimSpace(e.Value) == "" || len(e.Value) > 128 {
			return "<podcast:location> needs a name of 1 to 128 characters"
		}
		if g := e.Attrs["geo"]; g != "" {
			if err := pipeline.CheckGeo(g); err != nil {
				return "<podcast:location geo>: " + err.Error()
			}
		}
	}
	return ""
}

// checkImages checks podcast:image: an http(s) href, sizes in whole
// pixels, an aspect ratio such as 1/1 that the sizes agree with, and an
// image MIME type.
func checkImages(es []ext.Extension) string {
	for _, e := range es {
		a := e.Attrs
		if !isHTTPURL(a["href"]) {
			return fmt.Sprintf("<podcast:image href=%q> needs the image's http(s) URL", a["href"])
		}
		var w, h int
		for _, d := range []struct {
			name string
			n    *int
		}{{"width", &w}, {"height", &h}} {
			name, n := d.name, d.n
			if v, ok := a[name]; ok {
				x, err := strconv.Atoi(v)
				if err != nil || x <= 0 {
					return fmt.Sprintf("<podcast:image %s=%q> must be the image's %s in pixels, a whole number above 0", name, v, name)
				}
				*n = x
			}
		}
		if r, ok := a["aspect-ratio"]; ok {
			// width/height (1/1, 16/9, 1.91/1) or one decimal (1.91).
			num, den, found := strings.Cut(r, "/")
			if !found {
				den = "1"
			}
			rw, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
			rh, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
			if err1 != nil || err2 != nil || rw <= 0 || rh <= 0 || math.IsInf(rw/rh, 0) || math.IsNaN(rw/rh) {
				return fmt.Sprintf("<podcast:image aspect-ratio=%q> must be width/height, such as 1/1 or 16/9, or a decimal such as 1.91", r)
			}
			if w > 0 && h > 0 && math.Abs(float64(w)/float64(h)-rw/rh) > 0.02*rw/rh {
				return fmt.Sprintf("<podcast:image aspect-ratio=%q> does not match its size %dx%d", r, w, h)
			}
		}
		if t, ok := a["type"]; ok && !strings.HasPrefix(t, "image/") {
			return fmt.Sprintf("<podcast:image type=%q> is not an image MIME type (image/jpeg, image/png...)", t)
		}
	}
	return ""
}

func checkTXT(es []ext.Extension) string {
	for _, e := range es {
		if v := strings.TrimSpace(e.Value); v == "" || len(v) > 4000 {
			return "<podcast:txt> needs a value of 1 to 4,000 characters"
		}
		if len(e.Attrs["purpose"]) > 128 {
			return "<podcast:txt purpose> is longer than 128 characters"
		}
	}
	return ""
}

func checkLicenses(es []ext.Extension) string {
	for _, e := range es {
		if strings.TrimSpace(e.Value) == "" || len(e.Value) > 128 {
			return "<podcast:license> needs a name (an SPDX identifier, or your own with a url) of 1 to 128 characters"
		}
		if u := e.Attrs["url"]; u != "" && !isHTTPURL(u) {
			return fmt.Sprintf("<podcast:license url> %q is not an http(s) URL", u)
		}
	}
	return ""
}

// podcastTags are the channel's <podcast:NAME> elements.
func podcastTags(f *gorss.Feed, name string) []ext.Extension {
	return f.Extensions["podcast"][name]
}
