package feeds

import (
	"strings"
	"testing"
)

// Feeds from the wild: what other parsers' test suites hold, and what apps
// accept.

func TestMediaType(t *testing.T) {
	for _, tc := range []struct {
		given, url, want string
		ok               bool
	}{
		{"audio/mpeg", "https://x.test/a.mp3", "audio/mpeg", true},
		{"x-audio/mp3", "https://x.test/a.mp3", "audio/mpeg", true},
		{"audio/mp3", "https://x.test/a", "audio/mpeg", true},
		{"Audio/MPEG3", "https://x.test/a", "audio/mpeg", true},
		{"audio/m4a", "https://x.test/a.m4a", "audio/x-m4a", true},
		{"audio/x-m4a", "https://x.test/a.m4a", "audio/x-m4a", true},
		{"video/mp4", "https://x.test/a.mp4", "video/mp4", true},
		{"application/octet-stream", "https://x.test/a.mp3", "audio/mpeg", true},
		{"", "https://x.test/a.ogg", "audio/ogg", true},
		{"", "https://x.test/episode", "audio/mpeg", true},
		{"text/html", "https://x.test/episode.html", "", false},
		{"image/jpeg", "https://x.test/cover.jpg", "", false},
	} {
		got, ok := MediaType(tc.given, tc.url)
		if got != tc.want || ok != tc.ok {
			t.Errorf("MediaType(%q, %q) = %q, %v; want %q, %v", tc.given, tc.url, got, ok, tc.want, tc.ok)
		}
	}
}

// TestImportNormalisesTypes: x-audio/mp3 is imported as audio/mpeg; an
// enclosure that is no audio at all is skipped saying why, the rest come in.
func TestImportNormalisesTypes(t *testing.T) {
	feed := oldFeed(oldItem("One", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", `<enclosure url="https://cdn.old.test/a.mp3" length="100" type="x-audio/mp3"/>`) +
		oldItem("Page", "g2", "Mon, 02 Mar 2020 10:00:00 +0000", `<enclosure url="https://old.test/ep2.html" length="100" type="text/html"/>`))
	_, got, skipped, err := Import([]byte(feed), "")
	if err != nil || len(got) != 1 || got[0].Type != "audio/mpeg" {
		t.Fatalf("imported %+v, %v; want One as audio/mpeg", got, err)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0].Why, `"text/html" is not audio or video`) {
		t.Errorf("skipped %+v; want Page, saying its type is no audio", skipped)
	}
}
