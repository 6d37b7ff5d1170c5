package feeds_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
)

// BenchmarkBuild1000 builds and validates the feed of a 1,000-episode show,
// as every rebuild does.
func BenchmarkBuild1000(b *testing.B) {
	eps := make([]*pipeline.Manifest, 1000)
	for i := range eps {
		eps[i] = testEpisode(fmt.Sprintf("ep-%04d", i), fmt.Sprintf("guid-%04d", i), now.Add(-time.Duration(i)*time.Hour))
		eps[i].NotesMD = fmt.Sprintf("Episode %d. ", i) + "We talk about **Flask**, Falcon and [OAuth 2.0](https://oauth.net/2/).\n\n- async\n- docker\n\n" +
			"A longer paragraph of show notes that runs for a few sentences, as real notes do, with links and code `pip install`."
	}
	show := testShow()
	b.ReportAllocs()
	for b.Loop() {
		xml, err := feeds.Build(show, eps, now)
		if err != nil {
			b.Fatal(err)
		}
		if ps := feeds.Validate(xml); feeds.HasErrors(ps) {
			b.Fatal(ps)
		}
	}
}
