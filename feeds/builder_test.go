package feeds_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
)

func showOf(n int) []*pipeline.Manifest {
	eps := make([]*pipeline.Manifest, n)
	for i := range eps {
		eps[i] = testEpisode(fmt.Sprintf("ep-%04d", i), fmt.Sprintf("guid-%04d", i), now.Add(-time.Duration(i)*time.Hour))
		eps[i].UpdatedAt = now.Add(-time.Duration(i) * time.Hour)
		eps[i].NotesMD = fmt.Sprintf("Episode %d. ", i) + "We talk about **Flask**, Falcon and [OAuth 2.0](https://oauth.net/2/).\n\n- async\n- docker\n\n" +
			"A longer paragraph of show notes that runs for a few sentences, as real notes do, with links and code `pip install`."
	}
	return eps
}

// TestBuilderIsIncremental: a Builder that built the feed before encodes
// only what changed, and gives the same bytes and the same problems as a
// build from nothing checked by Validate, through edits, a broken value,
// new episodes, withdrawn ones and a change of the show's settings.
func TestBuilderIsIncremental(t *testing.T) {
	show := testShow()
	eps := showOf(20)
	var b feeds.Builder
	steps := []struct {
		name    string
		edit    func()
		encoded int
	}{
		{"first build", func() {}, 20},
		{"nothing changed", func() {}, 0},
		{"one episode edited", func() {
			eps[3].Meta.Title = "A new title"
			eps[3].UpdatedAt = eps[3].UpdatedAt.Add(time.Second)
		}, 1},
		{"a wrong soundbite", func() {
			eps[5].Meta.Soundbites = []pipeline.Soundbite{{Start: 10, Duration: -3, Title: "Broken"}}
			eps[5].UpdatedAt = eps[5].UpdatedAt.Add(time.Second)
		}, 1},
		{"the broken one kept, another edited", func() {
			eps[7].Meta.Summary = "New summary"
			eps[7].UpdatedAt = eps[7].UpdatedAt.Add(time.Second)
		}, 1},
		{"a new episode on top, one withdrawn", func() {
			ep := testEpisode("ep-new", "guid-new", now.Add(-time.Minute))
			ep.UpdatedAt = now
			eps[10].State = pipeline.StateUnpublished
			eps[10].UpdatedAt = eps[10].UpdatedAt.Add(time.Second)
			eps = append([]*pipeline.Manifest{ep}, eps...)
		}, 1},
		{"the duplicate GUID of another episode", func() {
			eps[2].GUID = eps[1].GUID
			eps[2].UpdatedAt = eps[2].UpdatedAt.Add(time.Second)
		}, 1},
		{"the show's author changed", func() { show.Author = "Sam Host" }, 20},
		{"a manifest never stamped, unchanged", func() { eps[4].UpdatedAt = time.Time{} }, 1},
		{"and again", func() {}, 0},
	}
	for _, s := range steps {
		s.edit()
		got, problems, stats, err := feeds.BuildStatsForTest(&b, show, eps, now)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		want, err := feeds.Build(show, eps, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Fatalf("%s: the incremental feed differs from a whole build (-whole +incremental):\n%s", s.name, diff)
		}
		if diff := cmp.Diff(feeds.Validate(want), problems); diff != "" {
			t.Fatalf("%s: the incremental problems differ from Validate's (-validate +incremental):\n%s", s.name, diff)
		}
		if stats.Encoded != s.encoded {
			t.Errorf("%s: %d items encoded, want %d", s.name, stats.Encoded, s.encoded)
		}
	}
	// The broken soundbite and the duplicate GUID were caught each time.
	var rules []string
	_, problems, _ := b.Build(show, eps, now)
	for _, p := range problems {
		rules = append(rules, p.Rule+" "+p.Where)
	}
	if diff := cmp.Diff([]string{"item-guid-unique channel", `item-podcast-soundbite item 7 "Async Falcon & <OAuth> 🎙 עברית"`}, rules); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
