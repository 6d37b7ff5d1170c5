package watch_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
	"github.com/prodcast/prodcast/pipeline/watch"
)

// queue records what the watcher hands to the workers.
type queue struct {
	mu       sync.Mutex
	ingested []string // "show/name"
	files    [][]pipeline.BundleFile
	ensured  []string
	rebuilds []string
	refused  []string
	missing  bool // EnsureIngest finds no task, as after a wiped Redis
}

func (q *queue) EnqueueIngest(ctx context.Context, show, id, name string, files []pipeline.BundleFile) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ingested = append(q.ingested, show+"/"+name)
	q.files = append(q.files, files)
	return nil
}

func (q *queue) EnsureIngest(ctx context.Context, show, id, name string, files []pipeline.BundleFile) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ensured = append(q.ensured, show+"/"+name)
	return q.missing, nil
}

func (q *queue) EnqueueRefused(ctx context.Context, show, name, problem, fix string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.refused = append(q.refused, show+"/"+name)
	return nil
}

func (q *queue) EnqueueRebuild(ctx context.Context, show string, full bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rebuilds = append(q.rebuilds, show)
	return nil
}

func mustWatcher(tb testing.TB, show string) (*watch.Watcher, *memstore.Store, *queue) {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range watch.Folders {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "show.yaml"), []byte("title: T\ndescription: D\n"), 0o644)
	st, q := memstore.New(), &queue{}
	return &watch.Watcher{Dir: dir, Show: show, Store: st, Queue: q, Log: slog.New(slog.DiscardHandler)}, st, q
}

func drop(tb testing.TB, w *watch.Watcher, name string, files map[string]string) {
	tb.Helper()
	for f, body := range files {
		p := filepath.Join(w.Dir, "drop", name, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
}

// scanTwice lets a bundle settle (Settle is zero) and be claimed.
func scanTwice(w *watch.Watcher) {
	w.Scan(context.Background(), nil)
	w.Scan(context.Background(), nil)
}

func TestWatcher(t *testing.T) {
	ctx := context.Background()
	t.Run("OK/ClaimSendFinish", func(t *testing.T) {
		w, st, q := mustWatcher(t, "alpha")
		drop(t, w, "ep1", map[string]string{"episode.md": "---\ntitle: A\n---\n", "talk.wav": "RIFF....WAVE", ".DS_Store": "x"})
		scanTwice(w)
		if !slices.Equal(q.ingested, []string{"alpha/ep1"}) {
			t.Fatalf("ingested %v", q.ingested)
		}
		if _, err := os.Stat(filepath.Join(w.Dir, "processing", "ep1")); err != nil {
			t.Fatalf("not claimed: %v", err)
		}
		var uploaded []string
		for _, k := range st.Keys() {
			if strings.Contains(k, "/files/") {
				uploaded = append(uploaded, k[strings.LastIndex(k, "/")+1:])
				if !strings.HasPrefix(k, "private/alpha/bundles/") {
					t.Errorf("uploaded outside the show's prefix: %s", k)
				}
			}
		}
		if !slices.Equal(uploaded, []string{"episode.md"}) {
			t.Errorf("uploaded %v to the bundle's folder; dotfiles stay home, and the recording goes to its archive", uploaded)
		}
		// The notes name the episode: the recording is uploaded once,
		// straight to its archive key, which the ingest is told.
		sum := sha256.Sum256([]byte("RIFF....WAVE"))
		archive := "private/alpha/originals/a/" + hex.EncodeToString(sum[:]) + ".wav"
		if data, err := st.Get(ctx, archive); err != nil || string(data) != "RIFF....WAVE" {
			t.Errorf("the recording is not at %s: %v %q", archive, err, data)
		}
		if i := slices.IndexFunc(q.files[0], func(f pipeline.BundleFile) bool { return f.Name == "talk.wav" }); i < 0 || q.files[0][i].Key != archive {
			t.Errorf("the ingest is not told where the recording is: %+v", q.files[0])
		}
		id := bundleID(t, w, "ep1")
		catalog.ForShow(st, "alpha").PutResult(ctx, &pipeline.BundleResult{BundleID: id, Bundle: "ep1", OK: true})
		w.Poll(ctx)
		if _, err := os.Stat(filepath.Join(w.Dir, "done", "ep1", "talk.wav")); err != nil {
			t.Errorf("not moved to done/: %v", err)
		}
	})
	t.Run("OK/Refused", func(t *testing.T) {
		w, st, _ := mustWatcher(t, "")
		drop(t, w, "bad", map[string]string{"episode.md": "---\n---\n", "talk.wav": "x"})
		scanTwice(w)
		id := bundleID(t, w, "bad")
		catalog.New(st).PutResult(ctx, &pipeline.BundleResult{BundleID: id, Bundle: "bad", Problem: "no title", Fix: "add one"})
		w.Poll(ctx)
		text, err := os.ReadFile(filepath.Join(w.Dir, "failed", "bad", "ERROR.txt"))
		if err != nil || !strings.Contains(string(text), "no title") || !strings.Contains(string(text), "How to fix it:\n  add one") {
			t.Errorf("ERROR.txt: %v\n%s", err, text)
		}
		for _, k := range st.Keys() {
			if strings.Contains(k, "/files/") {
				t.Errorf("the uploaded copy of a failed bundle stays: %s", k)
			}
		}
	})
	t.Run("OK/RefusedArchived", func(t *testing.T) {
		// A bundle refused by the ingest takes back the recording it
		// archived, unless the episode is made from it.
		for _, c := range []struct {
			name   string
			before func(st *memstore.Store, key string) // the bucket before the drop
			kept   bool
		}{
			{"Fresh", func(*memstore.Store, string) {}, false},
			{"ArchivedBefore", func(st *memstore.Store, key string) {
				st.PutBytes(ctx, key, []byte("audio"), pipeline.Put{}) // an earlier version's recording
			}, true},
			{"TheEpisodes", func(st *memstore.Store, key string) {
				// A bundle of the same recording ingested since.
				catalog.New(st).PutManifest(ctx, &pipeline.Manifest{Slug: "a", Original: pipeline.Original{Key: key}})
			}, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				w, st, q := mustWatcher(t, "")
				sum := sha256.Sum256([]byte("audio"))
				key := "private/originals/a/" + hex.EncodeToString(sum[:]) + ".wav"
				if c.name != "TheEpisodes" {
					c.before(st, key)
				}
				drop(t, w, "ep", map[string]string{"episode.md": "---\ntitle: A\n---\n", "talk.wav": "audio"})
				scanTwice(w)
				if len(q.files) != 1 {
					t.Fatalf("sent %d bundles", len(q.files))
				}
				if c.name == "TheEpisodes" {
					c.before(st, key)
				}
				catalog.New(st).PutResult(ctx, &pipeline.BundleResult{BundleID: bundleID(t, w, "ep"), Bundle: "ep", Problem: "bad chapters", Fix: "fix them"})
				w.Poll(ctx)
				if _, err := os.Stat(filepath.Join(w.Dir, "failed", "ep", "talk.wav")); err != nil {
					t.Fatalf("not moved to failed/: %v", err)
				}
				if _, err := st.Stat(ctx, key); (err == nil) != c.kept {
					t.Errorf("archived recording kept: %v, want %v", err == nil, c.kept)
				}
			})
		}
	})
	t.Run("OK/RefusedArchivedBeforeACrash", func(t *testing.T) {
		// A watcher stopped after uploading the recording to its archive
		// key but before writing the claim finds it there when it
		// resumes: its mark says the upload was this bundle's, so a
		// refusal still removes it.
		w, st, _ := mustWatcher(t, "")
		sum := sha256.Sum256([]byte("audio"))
		key := "private/originals/a/" + hex.EncodeToString(sum[:]) + ".wav"
		drop(t, w, "ep", map[string]string{"episode.md": "---\ntitle: A\n---\n", "talk.wav": "audio"})
		if err := os.Rename(filepath.Join(w.Dir, "drop", "ep"), filepath.Join(w.Dir, "processing", "ep")); err != nil {
			t.Fatal(err)
		}
		st.PutBytes(ctx, key, []byte("audio"), pipeline.Put{})
		os.WriteFile(filepath.Join(w.Dir, "processing", ".ep.archiving"), []byte(key), 0o644)
		w.Resume(ctx)
		if _, err := os.Stat(filepath.Join(w.Dir, "processing", ".ep.archiving")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the mark is left after the claim: %v", err)
		}
		catalog.New(st).PutResult(ctx, &pipeline.BundleResult{BundleID: bundleID(t, w, "ep"), Bundle: "ep", Problem: "bad chapters", Fix: "fix them"})
		w.Poll(ctx)
		if _, err := st.Stat(ctx, key); err == nil {
			t.Error("the recording this bundle archived before the crash is kept")
		}
	})
	t.Run("OK/RefusedArchivedSharedInFlight", func(t *testing.T) {
		// The same recording for the same episode, dropped again while the
		// first bundle is in flight: the second finds it archived. The
		// first, refused, leaves it to the second, which removes it if it
		// is refused too.
		w, st, q := mustWatcher(t, "")
		sum := sha256.Sum256([]byte("audio"))
		key := "private/originals/a/" + hex.EncodeToString(sum[:]) + ".wav"
		drop(t, w, "ep", map[string]string{"episode.md": "---\ntitle: A\n---\n", "talk.wav": "audio"})
		drop(t, w, "ep-again", map[string]string{"episode.md": "---\ntitle: A\nsummary: Fixed.\n---\n", "talk.wav": "audio"})
		scanTwice(w)
		if len(q.files) != 2 {
			t.Fatalf("sent %d bundles", len(q.files))
		}
		cat := catalog.New(st)
		for i, name := range []string{"ep", "ep-again"} {
			cat.PutResult(ctx, &pipeline.BundleResult{BundleID: bundleID(t, w, name), Bundle: name, Problem: "bad chapters", Fix: "fix them"})
			w.Poll(ctx)
			if _, err := os.Stat(filepath.Join(w.Dir, "failed", name, "talk.wav")); err != nil {
				t.Fatalf("%s not moved to failed/: %v", name, err)
			}
			if _, err := st.Stat(ctx, key); (err == nil) != (i == 0) {
				t.Errorf("after %s was refused, the archived recording is kept: %v, want %v", name, err == nil, i == 0)
			}
		}
	})
	t.Run("OK/DroppedAgainForgetsItsPast", func(t *testing.T) {
		// A bundle moved back from failed/ has the same id: its outcome
		// and its ingested record are forgotten, so that it is ingested
		// again, not resumed.
		w, st, q := mustWatcher(t, "")
		drop(t, w, "ep", map[string]string{"episode.md": "---\ntitle: A\n---\n", "talk.wav": "audio"})
		scanTwice(w)
		id := bundleID(t, w, "ep")
		cat := catalog.New(st)
		cat.PutResult(ctx, &pipeline.BundleResult{BundleID: id, Bundle: "ep", Problem: "bad chapters", Fix: "fix them"})
		w.Poll(ctx)
		cat.PutIngested(ctx, id, "a")
		if err := os.Rename(filepath.Join(w.Dir, "failed", "ep"), filepath.Join(w.Dir, "drop", "ep")); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(w.Dir, "drop", "ep", "ERROR.txt"))
		scanTwice(w)
		if len(q.files) != 2 || bundleID(t, w, "ep") != id {
			t.Fatalf("sent %d times; the id changed: %v", len(q.files), bundleID(t, w, "ep") != id)
		}
		if _, err := cat.Ingested(ctx, id); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("the ingested record is kept: %v", err)
		}
		if _, err := cat.Result(ctx, id); !errors.Is(err, pipeline.ErrNotFound) {
			t.Errorf("the old outcome is kept: %v", err)
		}
	})
	t.Run("OK/LoneRecordingToItsBundle", func(t *testing.T) {
		// A lone recording is named by the ingest, from its tags; notes
		// that do not parse are the ingest's to refuse.
		for name, files := range map[string]map[string]string{
			"lone.wav": nil,
			"badnotes": {"episode.md": "---\ntitle: [\n---\n", "talk.wav": "audio"},
		} {
			w, st, q := mustWatcher(t, "")
			if files == nil {
				os.WriteFile(filepath.Join(w.Dir, "drop", name), []byte("audio"), 0o644)
			} else {
				drop(t, w, name, files)
			}
			scanTwice(w)
			if len(q.files) != 1 {
				t.Fatalf("%s: sent %d bundles", name, len(q.files))
			}
			for _, f := range q.files[0] {
				if f.Key != "" {
					t.Errorf("%s: %s uploaded to %s", name, f.Name, f.Key)
				}
			}
			if slices.ContainsFunc(st.Keys(), func(k string) bool { return strings.Contains(k, "originals/") }) {
				t.Errorf("%s: archived by the watcher: %v", name, st.Keys())
			}
		}
	})
	t.Run("OK/RefusedAtTheDoor", func(t *testing.T) {
		w, st, q := mustWatcher(t, "")
		os.MkdirAll(filepath.Join(w.Dir, "drop", "empty"), 0o755)
		scanTwice(w)
		if len(q.ingested) != 0 || slices.ContainsFunc(st.Keys(), func(k string) bool { return strings.Contains(k, "bundles/") }) {
			t.Errorf("an empty folder was sent: %v %v", q.ingested, st.Keys())
		}
		if text, err := os.ReadFile(filepath.Join(w.Dir, "failed", "empty", "ERROR.txt")); err != nil || !strings.Contains(string(text), "is empty") {
			t.Errorf("ERROR.txt: %v %s", err, text)
		}
		if !slices.Equal(q.refused, []string{"/empty"}) {
			t.Errorf("refusals reported: %v", q.refused)
		}
	})
	t.Run("OK/PartialKeepsWaiting", func(t *testing.T) {
		w, _, q := mustWatcher(t, "")
		drop(t, w, "ep", map[string]string{"episode.md": "x", "talk.wav.part": "x"})
		scanTwice(w)
		scanTwice(w)
		if len(q.ingested) != 0 {
			t.Errorf("a bundle with a partial download was taken")
		}
	})
	t.Run("OK/LostTaskSentAgain", func(t *testing.T) {
		w, _, q := mustWatcher(t, "")
		drop(t, w, "ep", map[string]string{"episode.md": "---\ntitle: A\n---\n", "talk.wav": "x"})
		scanTwice(w)
		q.missing = true
		w.Poll(ctx) // the claim is fresh: the task was just sent
		if len(q.ensured) != 0 {
			t.Fatalf("looked for the task of a bundle sent a moment ago")
		}
		ageClaim(t, w, "ep", time.Minute)
		w.Poll(ctx)
		w.Poll(ctx) // and not again at once
		if !slices.Equal(q.ensured, []string{"/ep"}) {
			t.Errorf("ensured %v, want the bundle once", q.ensured)
		}
	})
}

func claimPath(w *watch.Watcher, name string) string {
	return filepath.Join(w.Dir, "processing", "."+name+".claim.json")
}

func bundleID(tb testing.TB, w *watch.Watcher, name string) string {
	tb.Helper()
	var c struct{ ID string }
	data, err := os.ReadFile(claimPath(w, name))
	if err != nil {
		tb.Fatal(err)
	}
	json.Unmarshal(data, &c)
	return c.ID
}

func ageClaim(tb testing.TB, w *watch.Watcher, name string, by time.Duration) {
	tb.Helper()
	var c map[string]any
	data, _ := os.ReadFile(claimPath(w, name))
	json.Unmarshal(data, &c)
	c["sent_at"] = time.Now().Add(-by).UTC().Format(time.RFC3339Nano)
	data, _ = json.Marshal(c)
	os.WriteFile(claimPath(w, name), data, 0o644)
}

func TestShows(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []string{"alpha", "media", "Bad_Name", "no-yaml"} {
		os.MkdirAll(filepath.Join(dir, "shows", s), 0o755)
	}
	for _, s := range []string{"alpha", "media", "Bad_Name"} {
		os.WriteFile(filepath.Join(dir, "shows", s, "show.yaml"), []byte("x"), 0o644)
	}
	shows, problems := watch.Shows(dir)
	if len(shows) != 1 || shows["alpha"] == "" {
		t.Errorf("shows %v: want alpha only (no root show.yaml, and shows exist)", shows)
	}
	if !strings.Contains(problems["media"], "shadow") || !strings.Contains(problems["Bad_Name"], "not a valid name") {
		t.Errorf("problems %v", problems)
	}
	os.WriteFile(filepath.Join(dir, "show.yaml"), []byte("x"), 0o644)
	if shows, _ := watch.Shows(dir); shows[""] != dir {
		t.Errorf("the root show is not found: %v", shows)
	}
}
