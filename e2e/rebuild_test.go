package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRebuildRestoresDeletedPage deletes a published page behind the
// worker's back: the next rebuild, which would not render that page again
// since its inputs did not change, finds it missing, renders everything
// and puts it back.
func TestRebuildRestoresDeletedPage(t *testing.T) {
	env := MustShowEnv(t, "")
	worker := StartRoles(t, env).Worker
	drop := func(slug string) {
		dir := filepath.Join(t.TempDir(), slug)
		MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=2", filepath.Join(dir, "talk.wav"))
		MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: "+slug+"\ntags: [graphql]\n---\nNotes.\n")
		MoveIn(t, env.Data, dir)
	}
	drop("openapi")
	WaitFor(t, 60*time.Second, "the first episode", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	drop("oauth2")
	WaitFor(t, 60*time.Second, "the second episode", func() bool { return FeedItems(env.URL("/feed.xml")) == 2 })
	// The oldest page shows only itself and its newer neighbour: a third
	// episode does not change it.
	_, before := Get(t, env.URL("/episodes/openapi/"))
	if err := env.Store(t).Delete(context.Background(), "public/episodes/openapi/index.html"); err != nil {
		t.Fatal(err)
	}
	// serve keeps pages in memory and asks the bucket again within
	// seconds (web.CacheFresh) when nobody told it of the change.
	WaitFor(t, 10*time.Second, "the page deleted by hand to answer 404", func() bool {
		code, _ := TryGet(env.URL("/episodes/openapi/"))
		return code == 404
	})
	drop("graphql")
	WaitFor(t, 60*time.Second, "the third episode", func() bool { return FeedItems(env.URL("/feed.xml")) == 3 })
	WaitFor(t, 30*time.Second, "the deleted page back", func() bool {
		code, body := TryGet(env.URL("/episodes/openapi/"))
		return code == 200 && string(body) == string(before)
	})
	if !strings.Contains(worker.Output(), "rendering everything") {
		t.Errorf("the worker did not say why it rendered everything:\n%s", worker.Output())
	}
}
