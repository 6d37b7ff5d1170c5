package feeds_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
)

// BenchmarkBuild1000 builds and checks the feed of a 1,000-episode show
// from nothing, as the first rebuild after a worker starts does.
func BenchmarkBuild1000(b *testing.B) {
	eps, show := showOf(1000), testShow()
	b.ReportAllocs()
	for b.Loop() {
		_, problems, err := new(feeds.Builder).Build(show, eps, now)
		if err != nil || feeds.HasErrors(problems) {
			b.Fatal(err, problems)
		}
	}
}

// BenchmarkRebuild1000 is every later rebuild: one episode published into
// a 1,000-episode show, the feed built and checked again.
func BenchmarkRebuild1000(b *testing.B) {
	eps, show := showOf(1000), testShow()
	var fb feeds.Builder
	if _, _, err := fb.Build(show, eps, now); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		ep := testEpisode(fmt.Sprintf("new-%d", n), fmt.Sprintf("new-guid-%d", n), now.Add(-time.Minute))
		ep.UpdatedAt = now.Add(time.Duration(n))
		_, problems, err := fb.Build(show, append([]*pipeline.Manifest{ep}, eps[:999]...), now)
		if err != nil || feeds.HasErrors(problems) {
			b.Fatal(err, problems)
		}
	}
}

// BenchmarkGofeed1000 is the peer: gofeed parsing the same feed, which any
// app or directory does when it reads the show.
func BenchmarkGofeed1000(b *testing.B) {
	xml, err := feeds.Build(testShow(), showOf(1000), now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(xml)); err != nil {
			b.Fatal(err)
		}
	}
}
