package e2e

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/pipeline/bundle"
)

// roundTripShowYAML sets every show.yaml key that becomes a channel tag.
const roundTripShowYAML = `title: "Python in Production"
description: "Interviews with people who run Python services: async, Flask & Falcon, OAuth 2.0."
author: "Jo Host"
owner: {name: "Jo Host", email: "jo@example.com"}
language: en
category: Technology
subcategory: Software How-To
explicit: true
image: cover.png
funding: {url: "https://example.com/support", text: "Support the show"}
audio: {formats: [aac]}
txt:
  - {purpose: applepodcastsverify, value: "d9d9a3c1-2f6e-4f5e-9a51-7c6a1b0f3e22"}
  - {purpose: ai-content, value: "false"}
license: {name: CC-BY-4.0}
location: {name: "Berlin", geo: "geo:52.52,13.405", osm: R62422}
medium: podcast
update_frequency: {rrule: "FREQ=WEEKLY;BYDAY=TU", text: "Every Tuesday"}
podroll:
  - {feed_guid: 917393e3-1b1e-5cef-ace4-edaa54e1f810, feed_url: "https://other.example.com/feed.xml"}
publisher: {feed_guid: 003af0a0-6a45-55cf-b765-68e3d8a30f6d, feed_url: "https://network.example.com/publisher.xml"}
value:
  type: lightning
  method: keysend
  suggested: "0.00000005000"
  recipients:
    - {name: Jo Host, type: node, address: 02d5c1bf8b940dc9cadca86d1b0a3c37fbe39cee4c7e839e33bef9174531d27f52, split: 95}
    - {name: Podcast Index, type: node, address: 03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a, split: 5, fee: true}
`

// TestImportRoundTrip publishes a show that uses every field prodcast puts
// in a feed, imports its feed into a new install (as `up` leaves it: the
// starter show.yaml), and compares the two feeds tag for tag. Only what is
// made anew by the second encode may differ: the media's URLs, sizes and
// durations, and the podcast:guid, made from the feed's own URL.
func TestImportRoundTrip(t *testing.T) {
	a := MustEnv(t)
	MustWrite(t, filepath.Join(a.Data, "show.yaml"), roundTripShowYAML)
	MustFFmpeg(t, "-f", "lavfi", "-i", "color=c=0x1f4e79:s=1600x1600", "-frames:v", "1", filepath.Join(a.Data, "cover.png"))
	StartRoles(t, a)
	staging := t.TempDir()
	full := filepath.Join(staging, "full")
	MustSpeechWAV(t, filepath.Join(full, "talk.wav"), 20, 2)
	MustFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=1400x1400", "-frames:v", "1", filepath.Join(full, "cover.jpg"))
	MustWrite(t, filepath.Join(full, "episode.md"), `---
title: "OAuth 2.0 in Flask, without Kubernetes"
season: 2
episode: 7
summary: "Tokens, refresh and a small cluster of VMs."
guests:
  - {name: Ada Lovelace, url: "https://example.com/ada", img: "https://example.com/ada.jpg"}
  - {name: Grace Hopper}
soundbites:
  - {start: 4.5, duration: 5, title: "Why not Kubernetes"}
social:
  - {protocol: activitypub, uri: "https://mastodon.example/@show/1234", account_id: "@show@mastodon.example"}
license: {name: CC-BY-SA-4.0, url: "https://creativecommons.org/licenses/by-sa/4.0/"}
location: {name: "PyCon DE, Darmstadt", geo: "geo:49.8728,8.6512"}
txt:
  - {purpose: ai-content, value: "true"}
transcript_language: en-GB
---
We talk about **OAuth 2.0** in [Flask](https://flask.palletsprojects.com/) & Falcon.
`)
	MustWrite(t, filepath.Join(full, "chapters.txt"), "00:00:00 Welcome\n00:00:05 OAuth 2.0 in Flask https://oauth.net/2/\n00:00:12 Wrap-up\n")
	MustWrite(t, filepath.Join(full, "transcript.vtt"), "WEBVTT\n\n00:00.000 --> 00:04.000\n<v Jo Host>Welcome &amp; hello.\n\n"+
		"00:04.000 --> 00:10.000\n<v Ada Lovelace>Tokens expire; refresh them.\n")
	MustWrite(t, filepath.Join(full, "transcript.de.srt"), "1\n00:00:00,000 --> 00:00:04,000\nJo Host: Willkommen.\n\n"+
		"2\n00:00:04,000 --> 00:00:10,000\nAda Lovelace: Tokens laufen ab.\n")
	trailer := filepath.Join(staging, "trailer")
	MustSpeechWAV(t, filepath.Join(trailer, "talk.wav"), 8, 1)
	MustWrite(t, filepath.Join(trailer, "episode.md"), "---\ntitle: \"The trailer\"\ntype: trailer\nseason: 2\n---\nWhat the show is about.\n")
	for _, d := range []string{trailer, full} {
		MoveIn(t, a.Data, d)
		time.Sleep(1500 * time.Millisecond) // one after the other: distinct dates
	}
	feedA := a.URL("/feed.xml")
	WaitFor(t, 120*time.Second, "two episodes in the first install's feed, with art sizes", func() bool {
		_, body := TryGet(feedA)
		return bytes.Count(body, []byte("<item>")) == 2 && bytes.Count(body, []byte("<podcast:image")) >= 10
	})

	// The new install, as `up` leaves it, imports the first one's feed.
	b := MustEnv(t)
	MustWrite(t, filepath.Join(b.Data, "show.yaml"), bundle.StarterShow)
	StartRoles(t, b)
	out, err := Run(t, b.Vars(), "import", feedA)
	if err != nil || !strings.Contains(out, "now holds the old feed's show settings") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	feedB := b.URL("/feed.xml")
	_, wantBody := Get(t, feedA)
	want := feedTags(t, wantBody, a.URL(""), b.URL(""))
	var got []string
	deadline := time.Now().Add(120 * time.Second)
	for {
		_, body := TryGet(feedB)
		got = feedTags(t, body, "", "")
		if cmp.Equal(want, got) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the imported show's feed differs from the original's (-original +imported):\n%s", diff)
	}
	// The transcripts came over whole, in both languages.
	for _, name := range []string{"transcript.vtt", "transcript.de.vtt", "transcript.de.srt"} {
		_, wa := Get(t, a.URL("/episodes/oauth-2-0-in-flask-without-kubernetes/"+name))
		_, gb := Get(t, b.URL("/episodes/oauth-2-0-in-flask-without-kubernetes/"+name))
		if !bytes.Equal(wa, gb) || len(wa) == 0 {
			t.Errorf("%s differs after the move:\n%s\n---\n%s", name, wa, gb)
		}
	}
}

// masked are the values a second encode makes anew, as element or
// element@attribute (namespace prefixes as the feed writes them).
var masked = map[string]bool{
	"enclosure@url": true, "enclosure@length": true, "itunes:duration": true,
	"podcast:alternateEnclosure@length": true, "podcast:alternateEnclosure@bitrate": true, "podcast:source@uri": true,
	"podcast:trailer@url": true, "podcast:trailer@length": true, "podcast:guid": true, "lastBuildDate": true,
}

// feedTags lists a feed's elements, attributes and text, one line each, in
// document order, with from replaced by to and the masked values starred.
func feedTags(t *testing.T, data []byte, from, to string) []string {
	t.Helper()
	prefix := map[string]string{"http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes:", "http://www.w3.org/2005/Atom": "atom:",
		"http://purl.org/rss/1.0/modules/content/": "content:", "https://podcastindex.org/namespace/1.0": "podcast:",
		"http://podlove.org/simple-chapters": "psc:"}
	name := func(n xml.Name) string { return prefix[n.Space] + n.Local }
	value := func(key, v string) string {
		if masked[key] {
			return "*"
		}
		if from != "" {
			v = strings.ReplaceAll(v, from, to)
		}
		return v
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out, path []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return []string{fmt.Sprintf("not XML: %v", err)}
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			el := name(tok.Name)
			path = append(path, el)
			out = append(out, strings.Join(path, "/"))
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				out = append(out, fmt.Sprintf("  @%s=%s", name(a.Name), value(el+"@"+name(a.Name), a.Value)))
			}
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			if s := strings.TrimSpace(text.String()); s != "" {
				out = append(out, "  "+value(path[len(path)-1], s))
			}
			text.Reset()
			path = path[:len(path)-1]
		}
	}
	return out
}
