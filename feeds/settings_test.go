package feeds_test

import (
	"fmt"
	"mime"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
)

func settingsShow() *pipeline.Show {
	s := testShow()
	s.Settings = pipeline.Settings{
		TXT:             []pipeline.TXT{{Purpose: "applepodcastsverify", Value: "d9d9a3c1-2f6e-4f5e-9a51-7c6a1b0f3e22"}, {Purpose: "ai-content", Value: "false"}},
		License:         pipeline.License{Name: "CC-BY-4.0"},
		Location:        pipeline.Location{Name: "Berlin & Brandenburg", Geo: "geo:52.52,13.405", OSM: "R62422"},
		Medium:          "podcast",
		UpdateFrequency: pipeline.UpdateFrequency{RRule: "FREQ=WEEKLY;BYDAY=TU", Text: "Every Tuesday"},
		Podroll:         []pipeline.RemoteFeed{{FeedGUID: "917393e3-1b1e-5cef-ace4-edaa54e1f810", FeedURL: "https://other.example.com/feed.xml"}},
		Publisher:       pipeline.RemoteFeed{FeedGUID: "003af0a0-6a45-55cf-b765-68e3d8a30f6d", FeedURL: "https://network.example.com/publisher.xml"},
		Block:           true,
		Complete:        true,
		NewFeedURL:      "https://new.example.com/feed.xml",
		Value: &pipeline.Value{Type: "lightning", Method: "keysend", Suggested: "0.00000005000", Recipients: []pipeline.ValueRecipient{
			{Name: "Jo Host", Type: "node", Address: "02d5c1bf8b940dc9cadca86d1b0a3c37fbe39cee4c7e839e33bef9174531d27f52", Split: 95},
			{Name: "Podcast Index", Type: "node", Address: "03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a", Split: 5, Fee: true}}},
	}
	s.ArtSizes = artSizes(s.Art, 3000)
	return s
}

// artSizes are the sizes a worker makes of square art of side px.
func artSizes(art string, px int) []pipeline.Image {
	base := strings.TrimSuffix(art, path.Ext(art))
	out := []pipeline.Image{{Key: art, Width: px, Height: px, Type: mime.TypeByExtension(path.Ext(art))}}
	for _, w := range []int{1400, 600, 300, 150} {
		if w >= px {
			continue
		}
		out = append(out, pipeline.Image{Key: fmt.Sprintf("%s-%d.jpg", base, w), Width: w, Height: w, Type: "image/jpeg"},
			pipeline.Image{Key: fmt.Sprintf("%s-%d.webp", base, w), Width: w, Height: w, Type: "image/webp"})
	}
	return out
}

// TestBuildSettings pins the channel tags show.yaml sets, each only when
// set (feed.golden.xml has none of them), and a trailer.
func TestBuildSettings(t *testing.T) {
	trailer := testEpisode("trailer", "guid-t", now.Add(-72*time.Hour))
	trailer.Meta.Type = "trailer"
	ep := testEpisode("ep-1", "guid-1", now.Add(-time.Hour))
	ep.Meta.Soundbites = []pipeline.Soundbite{{Start: 65.5, Duration: 30, Title: "Why <not> Kubernetes"}}
	ep.Meta.Guests[0].Img = "https://example.com/ada.jpg"
	ep.Meta.Social = []pipeline.Social{{Protocol: "activitypub", URI: "https://mastodon.example/@show/1234", AccountID: "@show@mastodon.example"}}
	ep.Meta.License = &pipeline.License{Name: "CC-BY-SA-4.0"}
	ep.Meta.Location = &pipeline.Location{Name: "PyCon DE, Darmstadt", Geo: "geo:49.8728,8.6512"}
	ep.Meta.TXT = []pipeline.TXT{{Purpose: "ai-content", Value: "true"}}
	ep.ArtSizes = artSizes(ep.Art, 1400)
	ep.Meta.TranscriptLanguage = "en-GB"
	ep.Translations = []pipeline.TranscriptRef{{Key: "private/transcripts/ep-1/de.json", Name: "transcript.de.vtt", SHA256: "de", Cues: 9, Language: "de"}}
	xml, err := feeds.Build(settingsShow(), []*pipeline.Manifest{ep, trailer}, now)
	if err != nil {
		t.Fatal(err)
	}
	MustMatchGolden(t, "feed-settings.golden.xml", xml)
	if ps := append(feeds.CheckXML(xml), feeds.Validate(xml)...); len(ps) != 0 {
		t.Errorf("the feed breaks rules: %v", ps)
	}
	for _, tag := range []string{"podcast:txt", "podcast:license", "podcast:location", "podcast:medium", "podcast:updateFrequency",
		"podcast:podroll", "podcast:remoteItem", "podcast:publisher", "podcast:block", "podcast:trailer", "podcast:soundbite", "podcast:value", "podcast:valueRecipient", "podcast:socialInteract", "podcast:image", "itunes:block",
		"itunes:complete", "itunes:new-feed-url"} {
		if !strings.Contains(string(xml), "<"+tag) {
			t.Errorf("no <%s>", tag)
		}
	}
	plain, err := feeds.Build(testShow(), []*pipeline.Manifest{testEpisode("ep-1", "guid-1", now.Add(-time.Hour))}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"podcast:txt", "podcast:license", "podcast:medium", "itunes:block", "podcast:trailer", "podcast:image"} {
		if strings.Contains(string(plain), "<"+tag) {
			t.Errorf("<%s> written without a value", tag)
		}
	}
}

// TestValidateSettings breaks each new tag and expects its rule to say so.
func TestValidateSettings(t *testing.T) {
	ep := testEpisode("ep-1", "guid-1", now.Add(-time.Hour))
	ep.Meta.Soundbites = []pipeline.Soundbite{{Start: 65.5, Duration: 30, Title: "Why"}}
	ep.Meta.Guests[0].Img = "https://example.com/ada.jpg"
	ep.Meta.Social = []pipeline.Social{{Protocol: "activitypub", URI: "https://mastodon.example/@show/1234"}}
	ep.Meta.Location = &pipeline.Location{Name: "Darmstadt", Geo: "geo:49.8728,8.6512"}
	ep.ArtSizes = artSizes(ep.Art, 1400)
	ep.Translations = []pipeline.TranscriptRef{{Key: "private/transcripts/ep-1/de.json", Name: "transcript.de.vtt", SHA256: "de", Cues: 9, Language: "de"}}
	ep.Meta.License = &pipeline.License{Name: "CC-BY-SA-4.0"}
	ep.Meta.TXT = []pipeline.TXT{{Purpose: "ai-content", Value: "true"}}
	trailer := testEpisode("trailer", "guid-t", now.Add(-72*time.Hour))
	trailer.Meta.Type = "trailer"
	xml, err := feeds.Build(settingsShow(), []*pipeline.Manifest{ep, trailer}, now)
	if err != nil {
		t.Fatal(err)
	}
	for rule, edit := range map[string][2]string{
		"channel-podcast-medium":          {"<podcast:medium>podcast<", "<podcast:medium>radio<"},
		"channel-podcast-location":        {`geo="geo:52.52,13.405"`, `geo="52.52 N, 13.4 E"`},
		"channel-podcast-updatefrequency": {`rrule="FREQ=WEEKLY;BYDAY=TU"`, `rrule="every tuesday"`},
		"channel-podcast-remoteitem":      {`feedGuid="917393e3-1b1e-5cef-ace4-edaa54e1f810"`, `feedGuid="not-a-guid"`},
		"channel-podcast-txt-purpose":     {`purpose="ai-content"`, `purpose="horoscope"`},
		"channel-podcast-license":         {"<podcast:license>CC-BY-4.0<", "<podcast:license><"},
		"channel-podcast-block":           {"<podcast:block>yes<", "<podcast:block>maybe<"},
		"item-podcast-soundbite":          {`duration="30"`, `duration="-3"`},
		"item-podcast-person-img":         {`img="https://example.com/ada.jpg"`, `img="ada.jpg"`},
		"channel-podcast-value":           {`split="95"`, `split="ninety"`},
		"item-podcast-socialinteract":     {`protocol="activitypub"`, `protocol="myspace"`},
		"item-podcast-location":           {`geo="geo:49.8728,8.6512"`, `geo="geo:149.8728,8.6512"`},
		"channel-podcast-image":           {`aspect-ratio="1/1" width="3000"`, `aspect-ratio="16/9" width="3000"`},
		"item-podcast-transcript":         {`language="de"`, `language="deutsch!"`},
		"channel-podcast-trailer":         {`length="123456" type="audio/mpeg" season="1"`, `length="0" type="audio/mpeg" season="1"`},
		"channel-podcast-txt":             {`<podcast:txt purpose="applepodcastsverify">d9d9a3c1-2f6e-4f5e-9a51-7c6a1b0f3e22<`, `<podcast:txt purpose="applepodcastsverify"> <`},
		"item-podcast-txt":                {`<podcast:txt purpose="ai-content">true<`, `<podcast:txt purpose="ai-content"><`},
		"item-podcast-license":            {`<podcast:license>CC-BY-SA-4.0<`, `<podcast:license url="not a url">CC-BY-SA-4.0<`},
		"item-podcast-image":              {`href="https://pod.example.com/media/art/ep-600.jpg"`, `href="ep-600.jpg"`},
	} {
		broken := strings.Replace(string(xml), edit[0], edit[1], 1)
		if broken == string(xml) {
			t.Fatalf("%s: %q is not in the feed", rule, edit[0])
		}
		var got []string
		for _, p := range feeds.Validate([]byte(broken)) {
			got = append(got, p.Rule)
		}
		if !strings.Contains(strings.Join(got, ","), rule) {
			t.Errorf("%s: a wrong value (%s) gives %v", rule, edit[1], got)
		}
	}
}

// TestChaptersInDescription: three or more chapters end the description
// and content:encoded as "(HH:MM:SS) Title" lines from 00:00:00, which
// Apple, Spotify and YouTube read; two do not.
func TestChaptersInDescription(t *testing.T) {
	m := testEpisode("ep-1", "guid-1", now.Add(-time.Hour))
	m.Meta.Summary = "Async Falcon."
	m.Chapters = []pipeline.Chapter{{Start: 5, Title: "Hello"}, {Start: 61.5, Title: "Falcon & <async>"}, {Start: 3725, Title: "Bye"}}
	xml, err := feeds.Build(testShow(), []*pipeline.Manifest{m}, now)
	if err != nil {
		t.Fatal(err)
	}
	f, err := feeds.Parse(xml)
	if err != nil {
		t.Fatal(err)
	}
	it := f.Items[0]
	want := "Async Falcon.\n\n(00:00:00) Start\n(00:00:05) Hello\n(00:01:01) Falcon & <async>\n(01:02:05) Bye"
	if it.Description != want {
		t.Errorf("description:\n%s\nwant:\n%s", it.Description, want)
	}
	if !strings.HasSuffix(it.Content, "<p>(00:00:00) Start<br>\n(00:00:05) Hello<br>\n(00:01:01) Falcon &amp; &lt;async&gt;<br>\n(01:02:05) Bye</p>") {
		t.Errorf("content:encoded ends %q", it.Content[max(0, len(it.Content)-120):])
	}
	m.Chapters = m.Chapters[:2]
	xml, _ = feeds.Build(testShow(), []*pipeline.Manifest{m}, now)
	if strings.Contains(string(xml), "(00:00:05) Hello") {
		t.Errorf("two chapters were listed in the description")
	}
}

// TestImportOwnFeed reads a feed prodcast built back through Import: the
// episode keeps its GUID, date, season and number, type, guests with their
// pictures, chapters (from psc:chapters), soundbites and socialInteract.
func TestImportOwnFeed(t *testing.T) {
	ep := testEpisode("ep-1", "guid-1", now.Add(-time.Hour))
	ep.Meta.Type = "bonus"
	ep.Meta.Soundbites = []pipeline.Soundbite{{Start: 65.5, Duration: 30, Title: "Why not Kubernetes"}}
	ep.Meta.Social = []pipeline.Social{{Protocol: "activitypub", URI: "https://mastodon.example/@show/1234", AccountID: "@show@mastodon.example"}}
	ep.Meta.Guests[0].Img = "https://example.com/ada.jpg"
	xml, err := feeds.Build(testShow(), []*pipeline.Manifest{ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	_, got, skipped, err := feeds.Import(xml, "https://pod.example.com/feed.xml")
	if err != nil || len(got) != 1 || len(skipped) != 0 {
		t.Fatalf("import: %v %d %v", err, len(got), skipped)
	}
	m := got[0].Manifest
	if m.GUID != "guid-1" || !m.PublishedAt.Equal(ep.PubDate()) || m.Meta.Season != 1 || m.Meta.Episode != 3 || m.Meta.Type != "bonus" {
		t.Errorf("identity and numbers: %+v", m)
	}
	wantGuests := []pipeline.Guest{{Name: "Ada", URL: "https://example.com/ada", Img: "https://example.com/ada.jpg"}, {Name: "Grace & Co"}}
	if diff := cmp.Diff(wantGuests, m.Meta.Guests); diff != "" {
		t.Errorf("guests (-want +got):\n%s", diff)
	}
	wantChapters := []pipeline.Chapter{{Start: 0, Title: "Intro"}, {Start: 61.5, Title: "Async & Falcon", URL: "https://falcon.readthedocs.io"}}
	if diff := cmp.Diff(wantChapters, m.Chapters); diff != "" {
		t.Errorf("chapters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ep.Meta.Soundbites, m.Meta.Soundbites); diff != "" {
		t.Errorf("soundbites (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ep.Meta.Social, m.Meta.Social); diff != "" {
		t.Errorf("social (-want +got):\n%s", diff)
	}
	if got[0].ChaptersURL != "https://pod.example.com/episodes/ep-1/chapters.json" {
		t.Errorf("chapters URL %q", got[0].ChaptersURL)
	}
}

// TestImportShowSettings: the channel of prodcast's own feed reads back
// into the show.yaml it came from, but for what belongs to the old host
// (itunes:new-feed-url), and items keep their license, location, txt,
// transcripts by language and own art.
func TestImportShowSettings(t *testing.T) {
	show := settingsShow()
	show.Subcategory = "Software How-To"
	show.Explicit = true
	show.UpdateFrequency.Complete = true
	show.Audio.Formats = []string{"aac"}
	ep := testEpisode("ep-1", "guid-1", now.Add(-time.Hour))
	ep.Meta.License = &pipeline.License{Name: "CC-BY-SA-4.0", URL: "https://creativecommons.org/licenses/by-sa/4.0/"}
	ep.Meta.Location = &pipeline.Location{Name: "PyCon DE, Darmstadt", Geo: "geo:49.8728,8.6512", OSM: "W123"}
	ep.Meta.TXT = []pipeline.TXT{{Purpose: "ai-content", Value: "true"}}
	ep.Meta.TranscriptLanguage = "en-GB"
	ep.Translations = []pipeline.TranscriptRef{{Key: "k", Name: "transcript.de.vtt", SHA256: "de", Language: "de"}}
	ep.Chapters = append(ep.Chapters, pipeline.Chapter{Start: 120, Title: "Wrap-up"})
	xml, err := feeds.Build(show, []*pipeline.Manifest{ep}, now)
	if err != nil {
		t.Fatal(err)
	}
	f, got, _, err := feeds.Import(xml, show.FeedURL())
	if err != nil || len(got) != 1 {
		t.Fatal(err, len(got))
	}
	imported := feeds.ImportShow(f)
	want := *show
	want.BaseURL, want.Art, want.ArtSizes, want.NewFeedURL = "", "", nil, ""
	if diff := cmp.Diff(want, imported.Show); diff != "" {
		t.Errorf("show.yaml from the feed (-want +got):\n%s", diff)
	}
	if imported.ImageURL != "https://pod.example.com/media/art/abc.png" {
		t.Errorf("show art %q", imported.ImageURL)
	}
	m, it := got[0].Manifest, got[0]
	if strings.Contains(m.NotesHTML, "(00:00:00)") || !strings.Contains(string(xml), "(00:00:00) Intro") {
		t.Errorf("the chapter list the feed adds to the notes is imported as notes: %q", m.NotesHTML)
	}
	if diff := cmp.Diff(ep.Meta.License, m.Meta.License); diff != "" {
		t.Errorf("license (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ep.Meta.Location, m.Meta.Location); diff != "" {
		t.Errorf("location (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ep.Meta.TXT, m.Meta.TXT); diff != "" {
		t.Errorf("txt (-want +got):\n%s", diff)
	}
	wantTr := []feeds.ImportedTranscript{
		{URL: "https://pod.example.com/episodes/ep-1/transcript.vtt", Name: "transcript.vtt", Language: "en-GB"},
		{URL: "https://pod.example.com/episodes/ep-1/transcript.de.vtt", Name: "transcript.vtt", Language: "de"}}
	if diff := cmp.Diff(wantTr, it.Transcripts); diff != "" {
		t.Errorf("transcripts (-want +got):\n%s", diff)
	}
	if it.ArtURL != "https://pod.example.com/media/art/ep.jpg" {
		t.Errorf("episode art %q", it.ArtURL)
	}
	// And as a show.yaml that prodcast reads back to the same show.
	data, err := imported.YAML("imported from the test", "cover.png")
	if err != nil {
		t.Fatal(err)
	}
	back, err := bundle.ParseShow(data, "https://pod.example.com")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	want.Image, want.BaseURL = "cover.png", "https://pod.example.com"
	back.Audio.LoudnessMono, back.Audio.LoudnessStereo, back.Audio.TruePeak, back.Audio.MP3MonoKbps, back.Audio.MP3StereoKbps = 0, 0, 0, 0, 0
	if diff := cmp.Diff(want, *back); diff != "" {
		t.Errorf("show.yaml read back (-want +got):\n%s\n%s", diff, data)
	}
	if strings.Contains(string(data), `""`) || strings.Contains(string(data), "new_feed_url") {
		t.Errorf("show.yaml has empty or old-host keys:\n%s", data)
	}
}

// TestRules: `prodcast validate --rules` lists every rule once, and each
// tag prodcast writes from a setting has one.
func TestRules(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range feeds.Rules() {
		if seen[r.ID] || r.Source == "" || (r.Severity != feeds.Error && r.Severity != feeds.Warning) {
			t.Errorf("rule %+v is listed twice or without source and severity", r)
		}
		seen[r.ID] = true
	}
	for _, id := range []string{"channel-podcast-txt", "channel-podcast-license", "channel-podcast-location", "channel-podcast-medium",
		"channel-podcast-updatefrequency", "channel-podcast-remoteitem", "channel-podcast-block", "channel-podcast-trailer",
		"channel-podcast-value", "channel-podcast-image", "item-podcast-image", "item-podcast-soundbite", "item-podcast-socialinteract",
		"item-podcast-person-img", "item-podcast-transcript", "item-podcast-license", "item-podcast-location", "item-podcast-txt"} {
		if !seen[id] {
			t.Errorf("no rule %s", id)
		}
	}
}
