package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/site"
)

func putIndex(t *testing.T, st interface {
	PutBytes(context.Context, string, []byte, pipeline.Put) error
}, key string, idx *site.SearchIndex) {
	t.Helper()
	data, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutBytes(context.Background(), key, data, pipeline.Put{ContentType: "application/json"}); err != nil {
		t.Fatal(err)
	}
}

// TestSearch: /search and /<show>/search answer from the show's index: a
// word said only in a transcript finds its episode, linked at the time it
// is said; the query is escaped; too long a query, too many searches from
// one address and a show without an index are refused, saying why.
func TestSearch(t *testing.T) {
	srv, st := mustServer(t)
	show := site.SearchShow{Title: "Python in Production", Language: "en", BaseURL: srv.URL}
	putIndex(t, st, "public/search/index.json", &site.SearchIndex{Show: show, Episodes: []site.SearchDoc{
		{Path: "/episodes/oauth/", Title: "OAuth 2.0 in Flask", Date: "1 May 2026", Guests: []string{"Ada"}, Notes: "Tokens and Flask."},
		{Path: "/episodes/k8s/", Title: "Life without Kubernetes", Date: "2 May 2026", Notes: "Plain VMs.",
			Transcript: []site.SearchCue{{Start: 0, Text: "Welcome."}, {Start: 754, Text: "We moved everything to systemd units and never looked back."}}},
	}})
	alpha := show
	alpha.Name, alpha.Title = "alpha", "Alpha"
	putIndex(t, st, "public/alpha/search/index.json", &site.SearchIndex{Show: alpha, Episodes: []site.SearchDoc{
		{Path: "/alpha/episodes/one/", Title: "Alpha one", Notes: "systemd everywhere"}}})

	resp, body := get(t, srv.URL+"/search?q=SYSTEMD+units")
	if resp.StatusCode != 200 || !strings.Contains(body, `<a href="/episodes/k8s/">Life without Kubernetes</a>`) ||
		!strings.Contains(body, `in the transcript at <a href="/episodes/k8s/?t=754">00:12:34</a>`) ||
		!strings.Contains(body, "We moved everything to <mark>systemd</mark> units") || strings.Contains(body, "OAuth 2.0 in Flask</a>") {
		t.Errorf("a word of the transcript: %s\n%s", resp.Status, body)
	}
	if _, body := get(t, srv.URL+"/search?q=flask"); strings.Index(body, "OAuth 2.0 in Flask") < 0 || !strings.Contains(body, "1 episode with") {
		t.Errorf("a word of a title:\n%s", body)
	}
	if _, body := get(t, srv.URL+"/alpha/search/?q=systemd"); !strings.Contains(body, "Alpha one") || strings.Contains(body, "Life without Kubernetes") {
		t.Errorf("a show's own search:\n%s", body)
	}
	if _, body := get(t, srv.URL+"/search?q=%3Cscript%3Ealert(1)%3C/script%3E"); strings.Contains(body, "<script>alert") {
		t.Errorf("the query is not escaped:\n%s", body)
	}
	if _, body := get(t, srv.URL+"/search"); !strings.Contains(body, `<input id="q" name="q" type="search"`) {
		t.Errorf("no form without a query:\n%s", body)
	}
	if resp, body := get(t, srv.URL+"/search?q="+strings.Repeat("a", 201)); resp.StatusCode != http.StatusRequestURITooLong || !strings.Contains(body, "at most 200") {
		t.Errorf("a long query: %s %s", resp.Status, body)
	}
	if resp, body := get(t, srv.URL+"/beta/search?q=x"); resp.StatusCode != 404 || !strings.Contains(body, "not been published") {
		t.Errorf("a show without an index: %s %s", resp.Status, body)
	}
	limited := 0
	for range 40 {
		if resp, _ := get(t, srv.URL+"/search?q=flask"); resp.StatusCode == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Error("40 searches in a row from one address were all answered")
	}
}
