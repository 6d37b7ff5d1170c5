package bundle

import "testing"

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
}
