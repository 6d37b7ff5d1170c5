package analytics

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

func TestClassify(t *testing.T) {
	for ua, want := range map[string]Client{
		"de.danoeh.antennapod/1.7.3b (Linux;Android 8.0.0) ExoPlayerLib/2.9.3":     {Name: "AntennaPod", Kind: "app", Category: "mobile"},
		"Overcast/3.0 (+http://overcast.fm/; iOS podcast app)":                     {Name: "Overcast", Kind: "app"},
		"Podcasts/1410.53 CFNetwork/1111 Darwin/19.0.0 (x86_64)":                   {Name: "Apple Podcasts", Kind: "app"},
		"gPodder/3.10.8 (+http://gpodder.org/) Windows/10":                         {Name: "gPodder", Kind: "app"},
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": {Kind: "bot"},
		"": {Kind: "bot", Name: "(no User-Agent)"},
	} {
		got := Classify(ua)
		if got.Kind != want.Kind || (want.Name != "" && got.Name != want.Name) || (want.Category != "" && got.Category != want.Category) {
			t.Errorf("Classify(%q) = %+v, want %+v", ua, got, want)
		}
	}
}

func TestMinuteOfAudio(t *testing.T) {
	if got := MinuteOfAudio(3600*16000, 3600); got != 960000 {
		t.Errorf("an hour at 128 kbit/s: %d", got)
	}
	if got := MinuteOfAudio(500000, 30); got != 500000 {
		t.Errorf("a 30 s file: %d, want all of it", got)
	}
	if got := MinuteOfAudio(10_000_000, 0); got != 960000 {
		t.Errorf("unknown duration: %d", got)
	}
}

func TestListenerKey(t *testing.T) {
	salt := []byte("s")
	a := listenerKey(salt, netip.MustParseAddr("2001:db8::1"), "ua")
	b := listenerKey(salt, netip.MustParseAddr("2001:db8::ffff:1"), "ua")
	c := listenerKey(salt, netip.MustParseAddr("2001:db8:0:1::1"), "ua")
	if a != b || a == c {
		t.Error("IPv6 addresses are not cut to their /64")
	}
	if listenerKey([]byte("other"), netip.MustParseAddr("2001:db8::1"), "ua") == a {
		t.Error("the salt does not change the key")
	}
}

// TestRecord guards the IAB rules on an in-memory Redis (the e2e test
// replays real requests through serve on redis-server).
func TestRecord(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	c := NewCounter(rdb)
	now := time.Date(2026, 11, 29, 23, 50, 0, 0, time.UTC)
	app := "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"
	hit := func(ip string, ua string, bytes int64, at time.Time) bool {
		counted, _, err := c.Record(ctx, Hit{Episode: "ep", IP: netip.MustParseAddr(ip), UA: ua, Bytes: bytes,
			Size: 1_000_000, Duration: 600, At: at})
		if err != nil {
			t.Fatal(err)
		}
		return counted
	}
	// A minute of a 600 s, 1 MB file is 100 kB.
	if hit("10.0.0.1", app, 60_000, now) || !hit("10.0.0.1", app, 50_000, now) {
		t.Error("two ranges adding up to a minute did not count once")
	}
	if hit("10.0.0.1", app, 1_000_000, now.Add(20*time.Minute)) {
		t.Error("the same listener counted twice within 24 hours, across midnight")
	}
	if hit("10.0.0.2", "Googlebot/2.1", 1_000_000, now) || hit("10.0.0.3", app, 2, now) || hit("10.0.0.4", app, 99_999, now) {
		t.Error("a bot, a 2-byte probe or less than a minute counted")
	}
	counts, err := c.Day(ctx, "", "2026-11-29")
	if err != nil || len(counts) != 1 || counts[0].N != 1 || counts[0].App != "Overcast" {
		t.Errorf("day counts %+v %v", counts, err)
	}
}

func TestParseLogs(t *testing.T) {
	at := time.Date(2019, 2, 6, 0, 0, 38, 0, time.UTC)
	s3, ok := ParseS3(`79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.OBJECT public/media/ep/a%20b.mp3 "GET /awsexamplebucket1/public/media/ep/a%20b.mp3 HTTP/1.1" 206 - 1000 5000 7 - "-" "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2`)
	want := LogHit{Key: "public/media/ep/a b.mp3", Method: "GET", Status: 206, Bytes: 1000, Size: 5000,
		IP: netip.MustParseAddr("192.0.2.3"), UA: "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", At: at}
	if !ok || s3 != want {
		t.Errorf("ParseS3: %+v, %v", s3, ok)
	}
	c, ok := ParseCombined(`2001:db8::7 - - [06/Feb/2019:00:00:38 +0000] "GET /alpha/media/ep/x.mp3?a=1 HTTP/2.0" 200 31337 "-" "-"`)
	if !ok || c.Key != "public/alpha/media/ep/x.mp3" || c.Bytes != 31337 || c.UA != "" || c.IP.String() != "2001:db8::7" {
		t.Errorf("ParseCombined: %+v, %v", c, ok)
	}
	if _, ok := ParseCombined("garbage"); ok {
		t.Error("a line that is not a log line was read")
	}
	if show, slug, ok := EpisodeAudio(c.Key); !ok || show != "alpha" || slug != "ep" {
		t.Errorf("EpisodeAudio: %q %q %v", show, slug, ok)
	}
}
