package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestTwoWatchersTenBundles drops ten bundles at once into a folder that
// two watchers share (as over a network mount), with two workers. Each
// bundle must become exactly one episode, and the rebuilds must coalesce.
func TestTwoWatchersTenBundles(t *testing.T) {
	env := MustEnv(t)
	MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML)
	os.MkdirAll(filepath.Join(env.Data, "drop"), 0o755)
	w1 := Start(t, env.Vars(), "worker")
	w2 := Start(t, env.Vars(), "worker")
	a := Start(t, env.Vars(), "watch")
	b := Start(t, env.Vars(), "watch")
	Start(t, env.Vars(), "serve")
	WaitFor(t, 30*time.Second, "the first (empty) feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 0 })

	staging := t.TempDir()
	const n = 10
	for i := range n {
		dir := filepath.Join(staging, fmt.Sprintf("ep%02d", i))
		MustFFmpeg(t, "-f", "lavfi", "-i", fmt.Sprintf("sine=f=%d:d=2", 200+20*i), filepath.Join(dir, "a.flac"))
		MustWrite(t, filepath.Join(dir, "episode.md"), fmt.Sprintf("---\ntitle: Episode %d on OAuth 2.0\nepisode: %d\n---\nNotes %d.\n", i, i, i))
	}
	for i := range n {
		MoveIn(t, env.Data, filepath.Join(staging, fmt.Sprintf("ep%02d", i)))
	}
	WaitFor(t, 120*time.Second, "10 bundles in done/", func() bool {
		return len(Entries(filepath.Join(env.Data, "done"))) == n
	})
	WaitFor(t, 30*time.Second, "10 items in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == n })
	f := mustFeed(t, env)
	guids := map[string]bool{}
	for _, it := range f.Items {
		guids[it.GUID] = true
	}
	if len(f.Items) != n || len(guids) != n {
		t.Errorf("feed has %d items with %d GUIDs, want %d and %d", len(f.Items), len(guids), n, n)
	}
	claims := strings.Count(a.Output(), "bundle settled and claimed") + strings.Count(b.Output(), "bundle settled and claimed")
	if claims != n {
		t.Errorf("the two watchers claimed %d bundles between them, want %d", claims, n)
	}
	rebuilds := strings.Count(w1.Output(), "feed and pages rebuilt") + strings.Count(w2.Output(), "feed and pages rebuilt")
	// One rebuild at each worker's start, then the coalesced ones.
	if rebuilds >= n {
		t.Errorf("%d rebuilds for %d bundles: rebuild requests did not coalesce", rebuilds, n)
	}
	t.Logf("%d bundles, %d rebuilds, claims split %d/%d", n, rebuilds,
		strings.Count(a.Output(), "bundle settled and claimed"), strings.Count(b.Output(), "bundle settled and claimed"))
}

// TestWipedRedisLosesNothing publishes an episode, wipes Redis and the
// public prefix's feed, and checks that a restarted worker rebuilds it from
// the catalog alone.
func TestWipedRedisLosesNothing(t *testing.T) {
	env := MustEnv(t)
	MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML)
	os.MkdirAll(filepath.Join(env.Data, "drop"), 0o755)
	worker := Start(t, env.Vars(), "worker")
	Start(t, env.Vars(), "watch")
	Start(t, env.Vars(), "serve")
	dir := filepath.Join(t.TempDir(), "docker-talk")
	MustSpeechWAV(t, filepath.Join(dir, "talk.wav"), 3, 1)
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: Docker without Kubernetes\n---\nNotes.\n")
	MoveIn(t, env.Data, dir)
	WaitFor(t, 60*time.Second, "the episode in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	guid := mustFeed(t, env).Items[0].GUID

	if err := worker.Stop(t); err != nil {
		t.Fatalf("worker did not stop cleanly: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr, DB: env.DB})
	defer rdb.Close()
	if err := rdb.FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	st := env.Store(t)
	if err := st.Delete(t.Context(), "public/feed.xml"); err != nil {
		t.Fatal(err)
	}
	// serve keeps the feed in memory and asks the bucket again within
	// seconds (web.CacheFresh) when nobody told it of the change.
	WaitFor(t, 10*time.Second, "the feed deleted by hand to answer 404", func() bool {
		code, _ := TryGet(env.URL("/feed.xml"))
		return code == 404
	})
	Start(t, env.Vars(), "worker")
	WaitFor(t, 30*time.Second, "the feed rebuilt from the catalog", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	f := mustFeed(t, env)
	if len(f.Items) != 1 || f.Items[0].GUID != guid {
		t.Errorf("after wiping Redis: %d items, GUID %q; want 1 item with GUID %q", len(f.Items), f.Items[0].GUID, guid)
	}
}
