package site_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline/site"
)

// searchCorpus is 1,000 episodes with an hour of transcript each (60
// paragraphs of 150 words), one of them with a word said nowhere else.
func searchCorpus() *site.SearchIndex {
	words := strings.Fields("we run flask and falcon services on plain virtual machines with systemd and nginx in front " +
		"the migration from python two to three took a year because of unicode and the async rewrite came later " +
		"openapi schemas generate clients graphql resolvers batch queries oauth tokens expire and refresh docker images")
	r := rand.New(rand.NewPCG(1, 2))
	idx := &site.SearchIndex{}
	for i := range 1000 {
		d := site.SearchDoc{Path: fmt.Sprintf("/episodes/ep-%d/", i), Title: fmt.Sprintf("Episode %d", i), Notes: "Notes of the episode."}
		for p := range 60 {
			var b strings.Builder
			for range 150 {
				b.WriteString(words[r.IntN(len(words))] + " ")
			}
			if i == 617 && p == 42 {
				b.WriteString("zeppelin ")
			}
			d.Transcript = append(d.Transcript, site.SearchCue{Start: float64(p * 60), Text: b.String()})
		}
		idx.Episodes = append(idx.Episodes, d)
	}
	return idx
}

// BenchmarkSearch1000 finds a word said once in 1,000 hours of transcript.
// SEARCH_CORPUS=file writes the corpus, for `make bench` to grep as a peer.
func BenchmarkSearch1000(b *testing.B) {
	idx := searchCorpus()
	if out := os.Getenv("SEARCH_CORPUS"); out != "" {
		var all strings.Builder
		for _, d := range idx.Episodes {
			for _, c := range d.Transcript {
				all.WriteString(c.Text + "\n")
			}
		}
		if err := os.WriteFile(out, []byte(all.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	idx.Search("warm", 1) // the lower-case copy, made once per index version
	for b.Loop() {
		if hits := idx.Search("Zeppelin", 50); len(hits) != 1 || hits[0].At != 42*60 {
			b.Fatal(hits)
		}
	}
}
