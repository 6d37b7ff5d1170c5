package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/prodcast/prodcast/analytics"
	"github.com/prodcast/prodcast/pipeline"
)

// TestClientIP guards issue 12: X-Forwarded-For is believed only from a
// trusted proxy, so no client can fake its address.
func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct{ peer, xff, want string }{
		{"203.0.113.5:1234", "", "203.0.113.5"},
		{"203.0.113.5:1234", "198.51.100.1", "203.0.113.5"},        // not a proxy: its header is ignored
		{"10.0.0.2:1234", "198.51.100.1", "198.51.100.1"},          // the proxy's word
		{"10.0.0.2:1234", "6.6.6.6, 198.51.100.1", "198.51.100.1"}, // the client's own claim is not believed
		{"10.0.0.2:1234", "198.51.100.1, 10.0.0.3", "198.51.100.1"},
		{"[2001:db8::1]:443", "", "2001:db8::1"},
	} {
		r := httptest.NewRequest("GET", "/media/ep/a.mp3", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientIP(r, trusted); got.String() != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}

func TestEpisodeAudio(t *testing.T) {
	for key, want := range map[string]string{
		"public/media/ep/abc.mp3":       "/ep",
		"public/alpha/media/ep/abc.m4a": "alpha/ep",
		"public/media/art/abc.jpg":      "",
		"public/alpha/media/art/x.png":  "",
		"public/episodes/ep/index.html": "",
		"public/media/ep/abc.jpg":       "",
	} {
		show, slug, ok := analytics.EpisodeAudio(key)
		got := ""
		if ok {
			got = show + "/" + slug
		}
		if got != want {
			t.Errorf("episodeAudio(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestChart lays out the charts of a show's counts: a bar a day, a curve
// per episode and the median's, a bar per app.
func TestChart(t *testing.T) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(9 * 24 * time.Hour)
	eps := []*pipeline.Manifest{
		{Slug: "a", PublishedAt: from, Meta: pipeline.Meta{Title: "A"}},
		{Slug: "b", PublishedAt: from.Add(24 * time.Hour), Meta: pipeline.Meta{Title: "B"}},
	}
	days := map[string][]analytics.Count{
		"2026-11-01": {{Episode: "a", App: "Overcast", N: 3}},
		"2026-11-02": {{Episode: "a", App: "AntennaPod", N: 1}, {Episode: "b", App: "Overcast", N: 5}},
	}
	p := chart(days, eps, from, to)
	if len(p.Days) != 10 || p.DayMax != 6 || p.Total != 9 {
		t.Errorf("days %d, max %d, total %d", len(p.Days), p.DayMax, p.Total)
	}
	if len(p.Curves) != 3 || !p.Curves[2].Median || p.CurveMax != 5 {
		t.Errorf("curves %+v, max %d", p.Curves, p.CurveMax)
	}
	if len(p.Apps) != 2 || p.Apps[0].Label != "Overcast" || p.Apps[0].N != 8 {
		t.Errorf("apps %+v", p.Apps)
	}
}
