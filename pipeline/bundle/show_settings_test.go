package bundle

import (
	"testing"

	"github.com/prodcast/prodcast/pipeline"
)

// TestParseShowSettings reads the channel settings of show.yaml, which sit
// at its top level beside title and description.
func TestParseShowSettings(t *testing.T) {
	s, err := ParseShow([]byte(`title: T
description: D
txt: [{purpose: applepodcastsverify, value: abc}]
license: {name: CC-BY-4.0}
location: {name: Berlin, geo: "geo:52.52,13.405"}
medium: podcast
update_frequency: {rrule: "FREQ=WEEKLY", text: Weekly}
podroll: [{feed_guid: 917393e3-1b1e-5cef-ace4-edaa54e1f810}]
block: true
complete: true
new_feed_url: https://new.example.com/feed.xml
`), "https://pod.example.com")
	if err != nil {
		t.Fatal(err)
	}
	st := s.Settings
	if st.TXT[0].Value != "abc" || st.License.Name != "CC-BY-4.0" || st.Location.Geo != "geo:52.52,13.405" || st.Medium != "podcast" ||
		st.UpdateFrequency.Text != "Weekly" || len(st.Podroll) != 1 || !st.Block || !st.Complete || st.NewFeedURL == "" {
		t.Errorf("settings %+v", st)
	}
	if _, err := ParseShow([]byte("title: T\ndescription: D\nmedium: radio\n"), "https://pod.example.com"); err == nil {
		t.Errorf("medium: radio was taken")
	}
	if s, err := ParseShow([]byte("title: T\ndescription: D\napple_id: 1234567\n"), "https://pod.example.com"); err != nil || s.AppleID != "1234567" {
		t.Errorf("apple_id: %v %+v", err, s)
	}
	if _, err := ParseShow([]byte("title: T\ndescription: D\napple_id: id1234567\n"), "https://pod.example.com"); !pipeline.IsInput(err) {
		t.Errorf("apple_id: id1234567 was taken")
	}
}

func TestSoundbitesFrontMatter(t *testing.T) {
	meta, _, err := ParseNotes([]byte("---\ntitle: T\nguests: [{name: Ada, img: 'https://example.com/ada.jpg'}]\n" +
		"soundbites:\n  - {start: 65.5, duration: 30, title: Why}\n  - {start: '00:01:05.500', duration: '0:30'}\n  - {start: '1:05', duration: 12}\n---\n"))
	if err != nil {
		t.Fatal(err)
	}
	sb := meta.Soundbites
	if len(sb) != 3 || sb[0].Start != 65.5 || sb[1].Start != 65.5 || sb[1].Duration != 30 || sb[2].Start != 65 || meta.Guests[0].Img == "" {
		t.Errorf("soundbites %+v, guests %+v", sb, meta.Guests)
	}
	for name, front := range map[string]string{
		"no duration":  "soundbites: [{start: 10}]",
		"not a time":   "soundbites: [{start: 'soon', duration: 10}]",
		"too long":     "soundbites: [{start: 10, duration: 600}]",
		"img not http": "guests: [{name: Ada, img: 'javascript:alert(1)'}]",
	} {
		if _, _, err := ParseNotes([]byte("---\ntitle: T\n" + front + "\n---\n")); err == nil {
			t.Errorf("%s: taken", name)
		}
	}
}

func TestEpisodeOverrides(t *testing.T) {
	meta, _, err := ParseNotes([]byte("---\ntitle: T\nlicense: {name: CC-BY-4.0}\nlocation: {name: Darmstadt, geo: 'geo:49.87,8.65'}\ntxt: [{purpose: ai-content, value: 'false'}]\n---\n"))
	if err != nil || meta.License.Name != "CC-BY-4.0" || meta.Location.Geo != "geo:49.87,8.65" || meta.TXT[0].Value != "false" {
		t.Fatalf("%v %+v", err, meta)
	}
	for _, front := range []string{"location: {name: X, geo: 'geo:200,1'}", "license: {url: 'https://x.example/l'}", "txt: [{purpose: x, value: ''}]"} {
		if _, _, err := ParseNotes([]byte("---\ntitle: T\n" + front + "\n---\n")); err == nil {
			t.Errorf("%s: taken", front)
		}
	}
}
