package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// episodesJSON runs `prodcast episodes --json` and maps slug to state and
// GUID.
func episodesJSON(t *testing.T, env []string, data string) map[string][2]string {
	t.Helper()
	out, err := Run(t, env, "episodes", "--data", data, "--json")
	if err != nil {
		t.Fatalf("episodes --json: %v\n%s", err, out)
	}
	var eps []map[string]any
	if err := json.Unmarshal([]byte(out), &eps); err != nil {
		t.Fatalf("episodes --json is not a JSON array: %v\n%s", err, out)
	}
	got := map[string][2]string{}
	for _, e := range eps {
		for _, k := range []string{"slug", "state", "guid", "title", "publish_at"} {
			if _, ok := e[k]; !ok {
				t.Errorf("episodes --json: an episode lacks %q: %v", k, e)
			}
		}
		got[e["slug"].(string)] = [2]string{e["state"].(string), e["guid"].(string)}
	}
	return got
}

// encodesDone reads, from `prodcast status`, how many tasks the root
// show's encode queue has done today.
func encodesDone(t *testing.T, env []string, data string) string {
	t.Helper()
	out, err := Run(t, env, "status", "--data", data)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 7 && f[0] == "encode" {
			return f[6]
		}
	}
	t.Fatalf("status shows no encode queue:\n%s", out)
	return ""
}

// TestLifecycle runs an episode's life on `prodcast up`: published,
// unpublished (out of the feed, its page 410, its media gone), republished
// (same GUID, same enclosure URL), deleted, and dropped again (same GUID).
func TestLifecycle(t *testing.T) {
	data := filepath.Join(t.TempDir(), "prodcast-data")
	listen := FreeAddr(t)
	url := func(p string) string { return "http://" + listen + p }
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT=", "TMPDIR=" + t.TempDir()}
	up := Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(url("/feed.xml")) == 0 })
	MoveIn(t, data, MustEpisode(t, "withdrawn", "An episode to withdraw"))
	MoveIn(t, data, MustEpisode(t, "stays", "An episode that stays"))
	WaitFor(t, 60*time.Second, "two episodes in the feed", func() bool { return FeedItems(url("/feed.xml")) == 2 })
	f := feedOf(t, url("/feed.xml"))
	guid, media := itemBy(f, "An episode to withdraw")
	page := url("/episodes/withdrawn/")
	if got := episodesJSON(t, env, data)["withdrawn"]; got != [2]string{"published", guid} {
		t.Fatalf("episodes: %v, want published %s", got, guid)
	}

	t.Run("NotesOnly", func(t *testing.T) {
		sg, sm := itemBy(f, "An episode that stays")
		encodes := strings.Count(up.Output(), "episode encoded")
		queued := encodesDone(t, env, data)
		fix := filepath.Join(t.TempDir(), "stays-fix")
		MustWrite(t, filepath.Join(fix, "episode.md"), "---\ntitle: An episode that stays, fixed\nslug: stays\ntags: [async]\n---\nFixed notes.\n")
		MustWrite(t, filepath.Join(fix, "chapters.txt"), "00:00:00 Start\n00:00:02 Fixed chapter\n")
		MoveIn(t, data, fix)
		WaitFor(t, 60*time.Second, "the fixed title in the feed", func() bool {
			g, m := itemBy(feedOf(t, url("/feed.xml")), "An episode that stays, fixed")
			return g == sg && m == sm
		})
		if _, body := Get(t, url("/episodes/stays/")); !strings.Contains(string(body), "An episode that stays, fixed") || !strings.Contains(string(body), "Fixed chapter") {
			t.Errorf("the page does not show the fixed title and chapters")
		}
		if n := strings.Count(up.Output(), "episode encoded"); n != encodes || !strings.Contains(up.Output(), "not encoding") {
			t.Errorf("a drop without a recording ran an encode (%d encodes, were %d)", n, encodes)
		}
		if n := encodesDone(t, env, data); n != queued {
			t.Errorf("the encode queue's history went from %s to %s tasks done", queued, n)
		}
	})

	if out, err := Run(t, env, "unpublish", "--data", data, "withdrawn"); err != nil {
		t.Fatalf("unpublish: %v\n%s", err, out)
	}
	WaitFor(t, 60*time.Second, "the item out of the feed", func() bool { return FeedItems(url("/feed.xml")) == 1 })
	WaitFor(t, 30*time.Second, "the page 410 and the media gone", func() bool {
		code, _ := TryGet(page)
		mcode, _ := TryGet(media)
		return code == 410 && mcode == 404
	})
	_, body := Get(t, page)
	if !strings.Contains(string(body), "withdrawn") {
		t.Errorf("the 410 page does not say the episode was withdrawn:\n%s", body)
	}
	for _, p := range []string{"/", "/atom.xml", "/sitemap.xml", "/tags/async/"} {
		if _, body := Get(t, url(p)); strings.Contains(string(body), "episodes/withdrawn/") {
			t.Errorf("%s still names the withdrawn episode", p)
		}
	}
	if code, _ := TryGet(url("/episodes/withdrawn/chapters.json")); code != 404 {
		t.Errorf("the withdrawn episode's chapters answer %d", code)
	}
	if got := episodesJSON(t, env, data)["withdrawn"]; got[0] != "unpublished" {
		t.Errorf("episodes: %v, want unpublished", got)
	}

	if out, err := Run(t, env, "republish", "--data", data, "withdrawn"); err != nil {
		t.Fatalf("republish: %v\n%s", err, out)
	}
	WaitFor(t, 60*time.Second, "the item back in the feed", func() bool { return FeedItems(url("/feed.xml")) == 2 })
	g2, m2 := itemBy(feedOf(t, url("/feed.xml")), "An episode to withdraw")
	if g2 != guid || m2 != media {
		t.Errorf("republished with GUID %s and media %s; want %s and %s", g2, m2, guid, media)
	}
	if code, _ := TryGet(media); code != 200 {
		t.Errorf("the republished media answers %d", code)
	}
	if code, _ := TryGet(page); code != 200 {
		t.Errorf("the republished page answers %d", code)
	}

	if out, err := Run(t, env, "delete", "--data", data, "withdrawn"); err == nil || !strings.Contains(out, "--yes") {
		t.Errorf("delete without --yes: %v\n%s", err, out)
	}
	if out, err := Run(t, env, "delete", "--data", data, "withdrawn", "--yes"); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	WaitFor(t, 60*time.Second, "the deleted item out of the feed, its page 410", func() bool {
		code, _ := TryGet(page)
		return FeedItems(url("/feed.xml")) == 1 && code == 410
	})
	if code, _ := TryGet(media); code != 404 {
		t.Errorf("the deleted episode's media answers %d", code)
	}
	if _, ok := episodesJSON(t, env, data)["withdrawn"]; ok {
		t.Errorf("episodes lists the deleted episode")
	}

	again := MustEpisode(t, "withdrawn", "An episode to withdraw, back")
	MoveIn(t, data, again)
	WaitFor(t, 90*time.Second, "the episode back", func() bool { return FeedItems(url("/feed.xml")) == 2 })
	g3, _ := itemBy(feedOf(t, url("/feed.xml")), "An episode to withdraw, back")
	if g3 != guid {
		t.Errorf("dropped again after delete under GUID %s; the tombstone kept %s", g3, guid)
	}
}
