package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/pipeline/catalog"
)

// TestBadInput drops every kind of bad bundle we know of. Each must end in
// failed/ with an ERROR.txt that says in plain words what is wrong and how
// to fix it, its bytes untouched, nothing of it uploaded when it was
// refused at the door, and the service alive for the next good bundle.
func TestBadInput(t *testing.T) {
	env := MustShowEnv(t, "")
	roles := StartRoles(t, env)
	staging := t.TempDir()
	outside := t.TempDir()
	wav := func(dir, name string, secs int) string {
		p := filepath.Join(staging, dir, name)
		MustSpeechWAV(t, p, secs, 1)
		return p
	}
	notes := func(dir, text string) { MustWrite(t, filepath.Join(staging, dir, "episode.md"), text) }

	cases := map[string]string{} // bundle -> what ERROR.txt must say

	cases["huge-summary"] = "episode.md is 2.0 MB; the limit is 1024 KB"
	notes("huge-summary", "---\ntitle: Huge summary\nsummary: \""+strings.Repeat("a", 2_000_000)+"\"\n---\n")
	wav("huge-summary", "a.wav", 2)

	cases["long-summary"] = "summary is 5000 characters long; the limit is 4000"
	notes("long-summary", "---\ntitle: Long summary\nsummary: \""+strings.Repeat("b", 5000)+"\"\n---\n")
	wav("long-summary", "a.wav", 2)

	cases["long-title"] = "title is 2000 characters long; the limit is 255"
	notes("long-title", "---\ntitle: \""+strings.Repeat("Python", 2000/6)+"Py\"\n---\n")
	wav("long-title", "a.wav", 2)

	cases["link-folder"] = `"extras" in bundle "link-folder" is a symbolic link`
	notes("link-folder", "---\ntitle: Linked folder\n---\n")
	wav("link-folder", "a.wav", 2)
	must(t, os.Symlink(outside, filepath.Join(staging, "link-folder", "extras")))

	secret := filepath.Join(outside, "secret.wav")
	MustSpeechWAV(t, secret, 2, 1)
	cases["link-recording"] = `"talk.wav" in bundle "link-recording" is a symbolic link`
	notes("link-recording", "---\ntitle: Linked recording\n---\n")
	must(t, os.Symlink(secret, filepath.Join(staging, "link-recording", "talk.wav")))

	cases["unfinished-wav"] = "looks unfinished"
	notes("unfinished-wav", "---\ntitle: Unfinished WAV\n---\n")
	full := wav("unfinished-wav", "talk.wav", 8)
	truncate(t, full, 0.4)

	cases["unfinished-flac"] = "looks unfinished"
	notes("unfinished-flac", "---\ntitle: Unfinished FLAC\n---\n")
	flac := filepath.Join(staging, "unfinished-flac", "talk.flac")
	MustFFmpeg(t, "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:d=60", "-ac", "1", flac)
	truncate(t, flac, 0.3)

	cases["windows-1252"] = "save the file as UTF-8"
	notes("windows-1252", "---\ntitle: Caf\xe9 talk \x93async\x94\n---\nNotes.\n")
	wav("windows-1252", "a.wav", 2)

	cases["empty-wav"] = `the recording "a.wav" is empty (0 bytes)`
	notes("empty-wav", "---\ntitle: Empty\n---\n")
	MustWrite(t, filepath.Join(staging, "empty-wav", "a.wav"), "")

	cases["next-tuesday"] = "publish_at: \"next tuesday\" is not a date and time"
	notes("next-tuesday", "---\ntitle: Someday\npublish_at: next tuesday\n---\n")
	wav("next-tuesday", "a.wav", 2)

	cases["nested"] = `the recording "raw/talk.wav" is in a sub-folder`
	notes("nested", "---\ntitle: Nested\n---\n")
	wav("nested", "raw/talk.wav", 2)

	cases["empty-folder"] = `the folder "empty-folder" is empty`
	must(t, os.MkdirAll(filepath.Join(staging, "empty-folder"), 0o755))

	cases["bad-guest-url"] = "is not an http(s) address"
	notes("bad-guest-url", "---\ntitle: Guest\nguests: [{name: Mallory, url: \"javascript:alert(1)\"}]\n---\n")
	wav("bad-guest-url", "a.wav", 2)

	cases["season-word"] = "season: \"one\" is not a whole number"
	notes("season-word", "---\ntitle: Season one\nseason: one\n---\n")
	wav("season-word", "a.wav", 2)

	cases["silent"] = "is silent"
	notes("silent", "---\ntitle: Silence\n---\n")
	MustFFmpeg(t, "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "3", filepath.Join(staging, "silent", "a.wav"))

	// Recordings that are really playlists would have the worker's ffmpeg
	// fetch what they name (cloud metadata, Redis, the LAN): refused, with
	// no request made. The listener counts the requests.
	var fetched atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched.Add(1) }))
	defer target.Close()
	cases["hls-mp3"] = `"talk.mp3" is an HLS playlist, not a recording`
	notes("hls-mp3", "---\ntitle: HLS in an MP3\n---\n")
	MustWrite(t, filepath.Join(staging, "hls-mp3", "talk.mp3"),
		"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n"+target.URL+"/seg0.ts\n#EXT-X-ENDLIST\n")
	cases["dash-m4a"] = `"talk.m4a" is a playlist (a DASH manifest), not a recording`
	notes("dash-m4a", "---\ntitle: DASH in an M4A\n---\n")
	MustWrite(t, filepath.Join(staging, "dash-m4a", "talk.m4a"), `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period><AdaptationSet><Representation id="a" bandwidth="1"><BaseURL>`+target.URL+`/a.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>`)

	before := map[string]map[string]string{}
	for name := range cases {
		before[name] = TreeHashes(t, filepath.Join(staging, name))
		MoveIn(t, env.Data, filepath.Join(staging, name))
	}
	lone := filepath.Join(staging, "lone-link.mp3")
	must(t, os.Symlink(secret, lone))
	MoveIn(t, env.Data, lone)

	WaitFor(t, 2*time.Minute, "every bad bundle in failed/", func() bool {
		return len(Entries(filepath.Join(env.Data, "failed"))) == len(cases)+1
	})
	checkFailed(t, env.Data, cases, before)
	if n := fetched.Load(); n != 0 {
		t.Errorf("the workers made %d requests to URLs that a recording named; want none", n)
	}
	if text, err := os.ReadFile(filepath.Join(env.Data, "failed", "lone-link", "ERROR.txt")); err != nil ||
		!strings.Contains(string(text), `"lone-link.mp3" is a symbolic link`) {
		t.Errorf("lone-link: %v\n%s", err, text)
	}
	st := env.Store(t)
	objs, err := st.List(t.Context(), catalog.Layout{}.BundlesPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if strings.Contains(o.Key, "/files/") {
			t.Errorf("an uploaded copy of a refused bundle is left in the bucket: %s", o.Key)
		}
	}
	// The watcher uploads a recording straight to its archive key when the
	// notes name the episode; the ingest refused this one before it became
	// an episode, and the watcher takes it back.
	WaitFor(t, 10*time.Second, "the refused recording out of the archive", func() bool {
		objs, err := st.List(t.Context(), catalog.RootPrivate+"originals/unfinished-wav/")
		return err == nil && len(objs) == 0
	})
	for _, e := range []string{"link-recording", "lone-link"} {
		if strings.Contains(roles.Watch.Output(), "bundle sent to the workers\" role=watch bundle="+e) {
			t.Errorf("%s was uploaded before it was refused", e)
		}
	}

	// Alive: the next good bundle is published.
	good := filepath.Join(staging, "good")
	MustSpeechWAV(t, filepath.Join(good, "talk.wav"), 3, 2)
	MustWrite(t, filepath.Join(good, "episode.md"), "---\ntitle: After all that, a good one\n---\nNotes.\n")
	MoveIn(t, env.Data, good)
	WaitFor(t, 60*time.Second, "the good bundle in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// checkFailed checks that every bundle in want is in failed/ with an
// ERROR.txt that says what is wrong (want's text) and how to fix it, and
// that its files are the bytes dropped (before, by bundle).
func checkFailed(t *testing.T, data string, want map[string]string, before map[string]map[string]string) {
	t.Helper()
	for name, says := range want {
		dir := filepath.Join(data, "failed", name)
		text, err := os.ReadFile(filepath.Join(dir, "ERROR.txt"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(string(text), says) || !strings.Contains(string(text), "How to fix it") {
			t.Errorf("%s/ERROR.txt does not say %q and how to fix it:\n%s", name, says, text)
		}
		after := TreeHashes(t, dir)
		delete(after, "ERROR.txt")
		if diff := cmp.Diff(before[name], after); diff != "" {
			t.Errorf("%s: bytes changed in failed/ (-before +after):\n%s", name, diff)
		}
	}
}

// truncate cuts a file to a fraction of its length, as an interrupted copy
// would.
func truncate(tb testing.TB, path string, keep float64) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	must(tb, os.Truncate(path, int64(float64(fi.Size())*keep)))
}
