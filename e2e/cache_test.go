package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

// TestServersFollowRebuilds runs two serve processes that keep the feed
// in memory, one told of rebuilds over Redis and one without Redis (it
// asks the bucket every few seconds), and publishes a second episode: both
// answer the new feed within seconds of the rebuild.
func TestServersFollowRebuilds(t *testing.T) {
	env := MustShowEnv(t, "")
	Start(t, env.Vars(), "worker")
	Start(t, env.Vars(), "watch")
	Start(t, env.Vars(), "serve")
	told, untold := FreeAddr(t), FreeAddr(t)
	Start(t, append(env.Vars(), "PRODCAST_LISTEN="+told), "serve")
	Start(t, append(env.Vars(), "PRODCAST_LISTEN="+untold, "PRODCAST_REDIS_URL="), "serve")
	drop := func(slug string) {
		dir := filepath.Join(t.TempDir(), slug)
		MustSpeechWAV(t, filepath.Join(dir, "talk.wav"), 5, 1)
		MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: "+slug+"\n---\n")
		MoveIn(t, env.Data, dir)
	}
	drop("first")
	WaitFor(t, 60*time.Second, "the first episode", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	for _, addr := range []string{told, untold} {
		for i := 0; i < 3; i++ { // kept in memory now
			if n := FeedItems("http://" + addr + "/feed.xml"); n != 1 {
				t.Fatalf("%s: %d items", addr, n)
			}
		}
	}
	drop("second")
	WaitFor(t, 60*time.Second, "the rebuild with the second episode", func() bool {
		st := env.Store(t)
		b, err := st.Get(t.Context(), "public/feed.xml")
		return err == nil && bytes.Count(b, []byte("<item>")) == 2
	})
	rebuilt := time.Now()
	var toldAfter, untoldAfter time.Duration
	WaitFor(t, 10*time.Second, "both servers to answer the new feed", func() bool {
		if toldAfter == 0 && FeedItems("http://"+told+"/feed.xml") == 2 {
			toldAfter = time.Since(rebuilt)
		}
		if untoldAfter == 0 && FeedItems("http://"+untold+"/feed.xml") == 2 {
			untoldAfter = time.Since(rebuilt)
		}
		return toldAfter > 0 && untoldAfter > 0
	})
	if untoldAfter > 5*time.Second {
		t.Errorf("the server without news answered the old feed for %s after the rebuild", untoldAfter)
	}
	t.Logf("new feed served %s after the rebuild by the server told over Redis, %s by the one without Redis", toldAfter.Round(time.Millisecond), untoldAfter.Round(time.Millisecond))
}
