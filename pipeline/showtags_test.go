package pipeline

import (
	"strings"
	"testing"
)

func TestSettingsValidate(t *testing.T) {
	ok := Settings{
		TXT: []TXT{{Purpose: "applepodcastsverify", Value: "abc"}}, License: License{Name: "My licence", URL: "https://example.com/l"},
		Location: Location{Name: "Berlin", Geo: "geo:52.52,13.405;u=350", OSM: "R62422"}, Medium: "podcastL",
		UpdateFrequency: UpdateFrequency{RRule: "FREQ=MONTHLY;INTERVAL=2", Text: "Every other month"},
		Podroll:         []RemoteFeed{{FeedGUID: "917393e3-1b1e-5cef-ace4-edaa54e1f810"}}, NewFeedURL: "https://new.example.com/feed.xml",
	}
	if err := ok.validate(); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	for name, tc := range map[string]struct {
		edit func(*Settings)
		want string
	}{
		"txt without value": {func(s *Settings) { s.TXT[0].Value = " " }, "txt 1 needs a value"},
		"license url only":  {func(s *Settings) { s.License.Name = "" }, "license needs a name"},
		"geo off the globe": {func(s *Settings) { s.Location.Geo = "geo:95,13" }, "off the globe"},
		"geo not a uri":     {func(s *Settings) { s.Location.Geo = "52.52,13.405" }, "not a geo URI"},
		"osm":               {func(s *Settings) { s.Location.OSM = "62422" }, "OpenStreetMap id"},
		"no location name":  {func(s *Settings) { s.Location.Name = "" }, "location needs a name"},
		"medium":            {func(s *Settings) { s.Medium = "radio" }, "not a medium"},
		"rrule":             {func(s *Settings) { s.UpdateFrequency.RRule = "weekly" }, "recurrence rule"},
		"frequency text":    {func(s *Settings) { s.UpdateFrequency.Text = "" }, "needs text"},
		"podroll guid":      {func(s *Settings) { s.Podroll[0].FeedGUID = "https://x" }, "podroll 1.feed_guid"},
		"publisher guid":    {func(s *Settings) { s.Publisher.FeedURL = "https://x.example.com/feed.xml" }, "publisher needs feed_guid"},
		"new feed url":      {func(s *Settings) { s.NewFeedURL = "ftp://x" }, "new_feed_url"},
	} {
		s := ok
		s.TXT = append([]TXT(nil), ok.TXT...)
		s.Podroll = append([]RemoteFeed(nil), ok.Podroll...)
		tc.edit(&s)
		if err := s.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
}
