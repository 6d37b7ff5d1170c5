package workers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// mustNetwork fills st with shows × episodes shaped as `prodcast import
// --keep-media-urls` leaves them (media linked where it is), each show
// rebuilt once, as a running install has them.
func mustNetwork(tb testing.TB, st *memstore.Store, h *Handlers, shows, episodes int) {
	tb.Helper()
	ctx := context.Background()
	for s := range shows {
		show := fmt.Sprintf("show-%02d", s)
		cat := catalog.ForShow(st, show)
		cat.PutShow(ctx, []byte(showYAML))
		for e := range episodes {
			slug := fmt.Sprintf("episode-%03d", e)
			m := &pipeline.Manifest{Slug: slug, GUID: show + slug, State: pipeline.StatePublished,
				PublishedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(e) * 24 * time.Hour),
				Meta:        pipeline.Meta{Title: "Episode " + slug + " on async Python", Slug: slug, Tags: []string{"async", "flask"}},
				NotesMD:     "We talk about **Flask**, Falcon and [OAuth 2.0](https://oauth.net/2/).\n\n" + strings.Repeat("Notes run on. ", 20),
				MP3: &pipeline.Media{Key: "https://old.example.com/" + show + "/" + slug + ".mp3", ContentType: "audio/mpeg",
					Bytes: 30_000_000, Duration: 3600}}
			if err := cat.PutManifest(ctx, m); err != nil {
				tb.Fatal(err)
			}
		}
		if err := h.Rebuild(ctx, rebuildTask(tb, show)); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkPublishIntoNetwork publishes one more episode into one show of
// a network of 50 shows × 200 episodes: the publish task, then the show's
// rebuild (feed, validation, the pages whose inputs changed). It reports
// the object writes of one publish. The goal is 50 ms of work, as for one
// show; the ratio to BenchmarkPublishIntoOneShow (the same show alone) is
// what the other 49 shows cost.
func BenchmarkPublishIntoNetwork(b *testing.B) { benchPublish(b, 50) }

// BenchmarkPublishIntoOneShow is the peer: the same publish into a lone
// show of 200 episodes.
func BenchmarkPublishIntoOneShow(b *testing.B) { benchPublish(b, 1) }

func benchPublish(b *testing.B, shows int) {
	ctx := context.Background()
	st, q := memstore.New(), &queue{}
	h := mustHandlers(st, q, &memLocker{})
	h.Now = time.Now
	mustNetwork(b, st, h, shows, 200)
	cat := catalog.ForShow(st, "show-00")
	writes := 0
	n := 0
	for b.Loop() {
		slug := fmt.Sprintf("new-%05d", n)
		n++
		m := &pipeline.Manifest{Slug: slug, State: pipeline.StateEncoded, BundleID: "b" + slug, Bundle: slug,
			Meta: pipeline.Meta{Title: "A new episode " + slug, Slug: slug, Tags: []string{"async"}},
			MP3:  &pipeline.Media{Key: "https://old.example.com/" + slug + ".mp3", ContentType: "audio/mpeg", Bytes: 1000, Duration: 60}}
		b.StopTimer()
		cat.PutManifest(ctx, m)
		st.ResetWrites()
		pt, _ := NewPublishTask("show-00", slug, m.BundleID, time.Time{})
		b.StartTimer()
		if err := h.Publish(ctx, pt); err != nil {
			b.Fatal(err)
		}
		if err := h.Rebuild(ctx, rebuildTask(b, "show-00")); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, w := range st.Writes() {
			if !strings.Contains(w, "show-00/") {
				b.Fatalf("a publish into show-00 wrote %s", w)
			}
		}
		writes += len(st.Writes())
		b.StartTimer()
	}
	b.ReportMetric(float64(writes)/float64(n), "writes/op")
}
