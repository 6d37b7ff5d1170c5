package feeds_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
)

// TestBuildWithAliasType: an episode imported before the normalisation,
// whose manifest holds x-audio/mp3, no longer makes the feed fail.
func TestBuildWithAliasType(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	m := &pipeline.Manifest{Slug: "old", GUID: "g", State: pipeline.StatePublished, PublishedAt: now,
		Meta: pipeline.Meta{Title: "Old one"},
		MP3:  &pipeline.Media{Key: "https://cdn.old.test/a.mp3", Bytes: 100, ContentType: "x-audio/mp3", Duration: 60}}
	xml, err := feeds.Build(testShow(), []*pipeline.Manifest{m}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(xml), `type="audio/mpeg"`) {
		t.Errorf("the enclosure's type is not audio/mpeg:\n%s", xml)
	}
	for _, p := range feeds.Validate(xml) {
		if p.Severity == feeds.Error {
			t.Errorf("the feed fails validation: %s", p)
		}
	}
}

// TestValidateFromTheWild: valid RSS that strict rules once refused.
func TestValidateFromTheWild(t *testing.T) {
	good, err := feeds.Build(testShow(), []*pipeline.Manifest{{Slug: "x", GUID: "g", State: pipeline.StatePublished,
		PublishedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Meta: pipeline.Meta{Title: "X"},
		MP3: &pipeline.Media{Key: "public/media/x/0123456789abcdef.mp3", Bytes: 100, ContentType: "audio/mpeg", Duration: 60}}},
		time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ from, to string }{
		// RFC 822 allows two-digit years; RSS 2.0 dates are RFC 822.
		"TwoDigitYear": {"<pubDate>Wed, 25 Nov 2026 12:00:00 +0000</pubDate>", "<pubDate>Wed, 25 Nov 26 12:00:00 GMT</pubDate>"},
		// The podcast namespace's own example: a decimal aspect ratio.
		"DecimalAspectRatio":  {"</channel>", `<podcast:image href="https://example.com/images/pci_avatar-massive.jpg" alt="A wide banner" aspect-ratio="1.91" width="1200" height="628" type="image/jpeg"/></channel>`},
		"FractionAspectRatio": {"</channel>", `<podcast:image href="https://example.com/images/banner.jpg" aspect-ratio="1.91/1" width="1200" height="628"/></channel>`},
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(string(good), tc.from) {
				t.Fatalf("the built feed lacks %q", tc.from)
			}
			feed := strings.Replace(string(good), tc.from, tc.to, 1)
			for _, p := range feeds.Validate([]byte(feed)) {
				if p.Severity == feeds.Error {
					t.Errorf("refused: %s", p)
				}
			}
		})
	}
	bad := strings.Replace(string(good), "</channel>", `<podcast:image href="https://example.com/b.jpg" aspect-ratio="wide"/></channel>`, 1)
	if !feeds.HasErrors(feeds.Validate([]byte(bad))) {
		t.Error(`aspect-ratio="wide" passed`)
	}
}
