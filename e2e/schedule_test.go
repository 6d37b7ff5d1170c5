package e2e

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// TestScheduledEpisode drops a bundle whose publish_at lies ahead: until
// then nothing of it is public (no item, no page, no media, no art, no
// transcript), its encodes wait in private/staged/; at the time, asynq's
// scheduled publish releases them and the episode goes live.
func TestScheduledEpisode(t *testing.T) {
	env := MustShowEnv(t, "")
	StartRoles(t, env)
	WaitFor(t, 30*time.Second, "the empty feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 0 })

	at := time.Now().Add(30 * time.Second).UTC().Truncate(time.Second)
	dir := filepath.Join(t.TempDir(), "later")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=4", filepath.Join(dir, "talk.wav"))
	MustFFmpeg(t, "-f", "lavfi", "-i", "color=c=teal:s=1400x1400", "-frames:v", "1", filepath.Join(dir, "cover.png"))
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: Docker without Kubernetes\npublish_at: "+at.Format(time.RFC3339)+"\n---\nSoon.\n")
	MustWrite(t, filepath.Join(dir, "transcript.vtt"), "WEBVTT\n\n00:00.000 --> 00:03.000\n<v Jo>Soon.\n")
	MoveIn(t, env.Data, dir)
	WaitFor(t, 60*time.Second, "the bundle in done/", func() bool { return len(Entries(filepath.Join(env.Data, "done"))) == 1 })

	st := env.Store(t)
	ctx := context.Background()
	m, err := catalog.New(st).Manifest(ctx, "docker-without-kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	if m.State != pipeline.StateScheduled || m.MP3 == nil || m.Art == "" {
		t.Fatalf("manifest: state %s, mp3 %v, art %q; want scheduled, encoded, with art", m.State, m.MP3, m.Art)
	}
	if time.Now().After(at) {
		t.Fatalf("the test machine took longer than the schedule; nothing to check before %s", at)
	}
	// Before the time: nothing public.
	if n := FeedItems(env.URL("/feed.xml")); n != 0 {
		t.Errorf("the feed has %d items before publish_at", n)
	}
	if code, _ := TryGet(env.URL("/episodes/docker-without-kubernetes/")); code != 404 {
		t.Errorf("the page answers %d before publish_at", code)
	}
	public, err := st.List(ctx, catalog.RootPublic)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range public {
		if strings.Contains(o.Key, "docker-without-kubernetes") || o.Key == m.Art {
			t.Errorf("%s is public before publish_at", o.Key)
		}
	}
	for _, key := range []string{m.MP3.Key, m.Art} {
		if _, err := st.Stat(ctx, catalog.Layout{}.StagedKey(key)); err != nil {
			t.Errorf("%s is not staged: %v", key, err)
		}
	}
	out, err := Run(t, env.Vars(), "status")
	if err != nil || !strings.Contains(out, "scheduled") {
		t.Errorf("prodcast status does not show the episode scheduled (%v):\n%s", err, out)
	}

	// At the time: live, with its media released.
	WaitFor(t, 60*time.Second, "the episode in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	if time.Now().Before(at) {
		t.Errorf("published before %s", at)
	}
	f := mustFeed(t, env)
	resp, body := Get(t, f.Items[0].Enclosures[0].URL)
	if resp.StatusCode != 200 || f.Items[0].Enclosures[0].Length != strconv.Itoa(len(body)) ||
		resp.Header.Get("Content-Type") != "audio/mpeg" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("released MP3: %d, %d bytes (feed says %s), %s, %s", resp.StatusCode, len(body),
			f.Items[0].Enclosures[0].Length, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if code, _ := TryGet(env.URL("/episodes/docker-without-kubernetes/transcript.vtt")); code != 200 {
		t.Errorf("the transcript answers %d once published", code)
	}
	for _, key := range []string{m.MP3.Key, m.Art} {
		if _, err := st.Stat(ctx, catalog.Layout{}.StagedKey(key)); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("%s is still staged after release: %v", key, err)
		}
		if _, err := st.Stat(ctx, key); err != nil {
			t.Errorf("%s is not public after release: %v", key, err)
		}
	}
}
