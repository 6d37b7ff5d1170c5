package workers

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// queue records the tasks a handler sends.
type queue struct {
	mu    sync.Mutex
	tasks []*asynq.Task
}

func (q *queue) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = append(q.tasks, t)
	return &asynq.TaskInfo{}, nil
}

func (q *queue) types() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, t := range q.tasks {
		out = append(out, t.Type())
	}
	return out
}

// memLocker is a Locker in memory; lost makes every lease fail its check
// after n checks, as a lease that expired under a frozen holder does.
type memLocker struct {
	mu   sync.Mutex
	held map[string]bool
	lost int // checks a lease passes before it is lost; 0 never
}

func (l *memLocker) Lock(ctx context.Context, key string, ttl time.Duration) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[string]bool{}
	}
	if l.held[key] {
		return nil, nil
	}
	l.held[key] = true
	lctx, cancel := context.WithCancelCause(ctx)
	return &memLease{l: l, key: key, ctx: lctx, cancel: cancel, left: l.lost}, nil
}

type memLease struct {
	l      *memLocker
	key    string
	ctx    context.Context
	cancel context.CancelCauseFunc
	left   int
}

func (s *memLease) Context() context.Context { return s.ctx }
func (s *memLease) Check(ctx context.Context) error {
	if s.left > 0 {
		if s.left--; s.left == 0 {
			s.cancel(ErrLeaseLost)
		}
	}
	return context.Cause(s.ctx)
}
func (s *memLease) Release() {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	delete(s.l.held, s.key)
	s.cancel(context.Canceled)
}

const showYAML = "title: Python in Production\ndescription: Interviews.\nauthor: Jo\nowner: {name: Jo, email: jo@example.com}\ncategory: Technology\n"

// mustShow puts a show with one published episode into st.
func mustShow(tb testing.TB, st *memstore.Store, show, slug string) {
	tb.Helper()
	ctx := context.Background()
	cat := catalog.ForShow(st, show)
	if err := cat.PutShow(ctx, []byte(showYAML)); err != nil {
		tb.Fatal(err)
	}
	media := cat.Keys.MediaKey(slug, strings.Repeat("a", 64), ".mp3")
	st.PutBytes(ctx, media, []byte("ID3 audio"), pipeline.Put{ContentType: "audio/mpeg"})
	m := &pipeline.Manifest{Slug: slug, GUID: "guid-" + show + slug, State: pipeline.StatePublished,
		PublishedAt: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), Pending: "bundle-1", Bundle: slug,
		Meta:     pipeline.Meta{Title: "Episode " + slug, Slug: slug, Tags: []string{"async"}},
		Chapters: []pipeline.Chapter{{Start: 0, Title: "Hello"}, {Start: 5, Title: "Async"}},
		MP3:      &pipeline.Media{Key: media, ContentType: "audio/mpeg", Bytes: 9, Duration: 60}}
	if err := cat.PutManifest(ctx, m); err != nil {
		tb.Fatal(err)
	}
}

func mustHandlers(st *memstore.Store, q *queue, l Locker) *Handlers {
	return &Handlers{Store: st, Client: q, Locker: l, BaseURL: "http://pod.test",
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }}
}

func rebuildTask(tb testing.TB, show string) *asynq.Task {
	tb.Helper()
	t, err := NewRebuildTask(show, "test")
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// TestRebuild guards issue 9 and 10: a rebuild uploads the feed last, after
// every page and file it names; it reports the bundle done; and it writes
// nothing outside its own show.
func TestRebuild(t *testing.T) {
	ctx := context.Background()
	t.Run("OK/Order", func(t *testing.T) {
		st, q := memstore.New(), &queue{}
		mustShow(t, st, "", "flask")
		st.ResetWrites()
		if err := mustHandlers(st, q, &memLocker{}).Rebuild(ctx, rebuildTask(t, "")); err != nil {
			t.Fatal(err)
		}
		var public []string
		for _, w := range st.Writes() {
			if strings.HasPrefix(w, "put public/") {
				public = append(public, strings.TrimPrefix(w, "put public/"))
			}
		}
		if len(public) < 5 || public[len(public)-1] != "feed.xml" {
			t.Fatalf("public writes %v: the feed must come last", public)
		}
		page, chapters, feed := slices.Index(public, "episodes/flask/index.html"), slices.Index(public, "episodes/flask/chapters.json"), len(public)-1
		index := slices.Index(public, "index.html")
		if page < 0 || chapters < 0 || index < page || feed < index {
			t.Errorf("public writes %v: episode files, then home page, then feed", public)
		}
		if _, err := catalog.New(st).Result(ctx, "bundle-1"); err != nil {
			t.Errorf("the bundle was not reported: %v", err)
		}
		if !slices.Contains(q.types(), TypeNetworkRebuild) {
			t.Errorf("no network rebuild asked for: %v", q.types())
		}
	})
	t.Run("OK/ShowIsolation", func(t *testing.T) {
		st, q := memstore.New(), &queue{}
		mustShow(t, st, "", "root-ep")
		mustShow(t, st, "alpha", "a-ep")
		mustShow(t, st, "beta", "b-ep")
		st.ResetWrites()
		if err := mustHandlers(st, q, &memLocker{}).Rebuild(ctx, rebuildTask(t, "alpha")); err != nil {
			t.Fatal(err)
		}
		writes := st.Writes()
		if len(writes) == 0 {
			t.Fatal("no writes")
		}
		for _, w := range writes {
			key := strings.SplitN(w, " ", 2)[1]
			if !strings.HasPrefix(key, "public/alpha/") && !strings.HasPrefix(key, "private/alpha/") {
				t.Errorf("a rebuild of alpha wrote %s", w)
			}
		}
		feed, _ := st.Get(ctx, "public/alpha/feed.xml")
		if !strings.Contains(string(feed), "http://pod.test/alpha/media/a-ep/") || strings.Contains(string(feed), "b-ep") {
			t.Errorf("alpha's feed does not name alpha's media only:\n%s", feed)
		}
		page, _ := st.Get(ctx, "public/alpha/index.html")
		if !strings.Contains(string(page), `href="/alpha/episodes/a-ep/"`) || !strings.Contains(string(page), `href="/alpha/style.css"`) {
			t.Errorf("alpha's home page does not link within /alpha/")
		}
		if _, err := st.Get(ctx, "public/alpha/robots.txt"); !errors.Is(err, pipeline.ErrNotFound) {
			t.Error("a show under shows/ got a robots.txt, which crawlers read only at the root")
		}
	})
	t.Run("ErrLeaseLost", func(t *testing.T) {
		st, q := memstore.New(), &queue{}
		mustShow(t, st, "", "flask")
		st.ResetWrites()
		err := mustHandlers(st, q, &memLocker{lost: 3}).Rebuild(ctx, rebuildTask(t, ""))
		if !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("Rebuild: %v, want ErrLeaseLost", err)
		}
		for _, w := range st.Writes() {
			if w == "put public/feed.xml" {
				t.Error("a rebuild that lost its lock wrote the feed")
			}
		}
	})
	t.Run("ErrBusy", func(t *testing.T) {
		st, l := memstore.New(), &memLocker{}
		mustShow(t, st, "", "flask")
		lease, _ := l.Lock(ctx, RebuildLock(""), time.Minute)
		defer lease.Release()
		if err := mustHandlers(st, &queue{}, l).Rebuild(ctx, rebuildTask(t, "")); !errors.Is(err, errBusy) {
			t.Fatalf("Rebuild: %v, want errBusy", err)
		}
		if err := mustHandlers(st, &queue{}, l).Rebuild(ctx, rebuildTask(t, "alpha")); errors.Is(err, errBusy) {
			t.Fatal("another show's rebuild waits for the root show's lock")
		}
	})
	t.Run("ErrUnavailable", func(t *testing.T) {
		st := memstore.New()
		mustShow(t, st, "", "flask")
		st.SetFail(errors.New("connection refused"))
		err := mustHandlers(st, &queue{}, &memLocker{}).Rebuild(ctx, rebuildTask(t, ""))
		if !pipeline.IsUnavailable(err) || retryDelay(20, err, nil) > 30*time.Second {
			t.Fatalf("Rebuild during an outage: %v; want an outage, retried within 30 s", err)
		}
	})
}

// TestNetworkRebuild guards issue 10: /shows.opml lists every show, and
// without a root show the front page is the network's.
func TestNetworkRebuild(t *testing.T) {
	ctx := context.Background()
	st, q := memstore.New(), &queue{}
	h := mustHandlers(st, q, &memLocker{})
	for _, show := range []string{"alpha", "beta"} {
		mustShow(t, st, show, show+"-ep")
		if err := h.Rebuild(ctx, rebuildTask(t, show)); err != nil {
			t.Fatal(err)
		}
	}
	nt, _ := NewNetworkTask("test")
	if err := h.NetworkRebuild(ctx, nt); err != nil {
		t.Fatal(err)
	}
	data, err := st.Get(ctx, catalog.OPMLKey)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Outlines []struct {
			XMLURL string `xml:"xmlUrl,attr"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(data, &o); err != nil || len(o.Outlines) != 2 || o.Outlines[0].XMLURL != "http://pod.test/alpha/feed.xml" {
		t.Errorf("shows.opml: %v\n%s", err, data)
	}
	page, err := st.Get(ctx, catalog.NetworkIndexKey)
	if err != nil || !strings.Contains(string(page), "Episode beta-ep") || !strings.Contains(string(page), "http://pod.test/alpha/feed.xml") {
		t.Errorf("the network page: %v\n%s", err, page)
	}
	// A root show's home page is the front page: the network leaves it.
	mustShow(t, st, "", "root-ep")
	if err := h.Rebuild(ctx, rebuildTask(t, "")); err != nil {
		t.Fatal(err)
	}
	if err := h.NetworkRebuild(ctx, nt); err != nil {
		t.Fatal(err)
	}
	page, _ = st.Get(ctx, catalog.NetworkIndexKey)
	if !strings.Contains(string(page), "Episode root-ep") || strings.Contains(string(page), "http://pod.test/alpha/feed.xml\"") {
		t.Errorf("the root show's home page was replaced by the network's")
	}
	var sum map[string]any
	raw, _ := st.Get(ctx, catalog.Layout{Show: "alpha"}.SummaryKey())
	if json.Unmarshal(raw, &sum) != nil || sum["feed_url"] != "http://pod.test/alpha/feed.xml" {
		t.Errorf("alpha's summary: %s", raw)
	}
}

// TestReconcile guards issue 9: from the catalog alone, the reconciler
// re-sends the work a wiped Redis lost, for every show.
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	st, q := memstore.New(), &queue{}
	h := mustHandlers(st, q, &memLocker{})
	mustShow(t, st, "", "live")
	mustShow(t, st, "alpha", "live")
	cat := catalog.ForShow(st, "alpha")
	at := time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)
	for _, m := range []*pipeline.Manifest{
		{Slug: "to-encode", State: pipeline.StateIngested, Original: pipeline.Original{SHA256: strings.Repeat("b", 64)}},
		{Slug: "to-publish", State: pipeline.StateEncoded},
		{Slug: "later", State: pipeline.StateScheduled, Meta: pipeline.Meta{PublishAt: &at}},
		{Slug: "refused", State: pipeline.StateIngested, Original: pipeline.Original{SHA256: "c"}, RefusedSHA256: "c"},
	} {
		if err := cat.PutManifest(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	r := &Reconciler{Handlers: h, Log: h.Log}
	if err := r.Once(ctx, false); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, task := range q.tasks {
		var p struct{ Show, Slug, Reason string }
		json.Unmarshal(task.Payload(), &p)
		got = append(got, task.Type()+" "+p.Show+" "+p.Slug)
	}
	slices.Sort(got)
	want := []string{
		"episode:encode alpha to-encode", "episode:publish alpha later", "episode:publish alpha to-publish",
		"site:rebuild  ", "site:rebuild alpha ", // the live episodes' bundles are not yet reported
	}
	if !slices.Equal(got, want) {
		t.Errorf("reconcile sent\n%v\nwant\n%v", got, want)
	}
}

// TestRetiredMedia guards issue 11: media a new encode replaced is removed
// once the feed names the new one, and a scheduled episode's old media
// waits until its new version is live.
func TestRetiredMedia(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	mustShow(t, st, "", "ep")
	cat := catalog.New(st)
	old := cat.Keys.MediaKey("ep", strings.Repeat("0", 64), ".mp3")
	st.PutBytes(ctx, old, []byte("old"), pipeline.Put{})
	m, _ := cat.Manifest(ctx, "ep")
	m.Retired = []string{old}
	cat.PutManifest(ctx, m)
	h := mustHandlers(st, &queue{}, &memLocker{})
	if err := h.Rebuild(ctx, rebuildTask(t, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(ctx, old); !errors.Is(err, pipeline.ErrNotFound) {
		t.Error("the replaced media is still public")
	}
	writes := st.Writes()
	if slices.Index(writes, "delete "+old) < slices.Index(writes, "put public/feed.xml") {
		t.Errorf("the old media went before the feed that no longer names it: %v", writes)
	}
	if m, _ := cat.Manifest(ctx, "ep"); len(m.Retired) != 0 {
		t.Errorf("the manifest still lists %v", m.Retired)
	}
}

func TestGarbage(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	mustShow(t, st, "alpha", "ep") // its media is referenced
	keys := catalog.Layout{Show: "alpha"}
	orphan := keys.MediaKey("gone", strings.Repeat("1", 64), ".mp3")
	staged := keys.StagedKey(keys.MediaKey("gone", strings.Repeat("2", 64), ".mp3"))
	st.PutBytes(ctx, orphan, []byte("x"), pipeline.Put{})
	st.PutBytes(ctx, staged, []byte("y"), pipeline.Put{})
	// An encode in pieces still waited for, and one abandoned.
	long := &pipeline.Manifest{Slug: "long", State: pipeline.StateIngested,
		Original: pipeline.Original{Key: keys.OriginalKey("long", strings.Repeat("3", 64), "a.wav"), SHA256: strings.Repeat("3", 64)}}
	if err := catalog.ForShow(st, "alpha").PutManifest(ctx, long); err != nil {
		t.Fatal(err)
	}
	st.PutBytes(ctx, keys.PiecesPrefix("long", strings.Repeat("3", 64))+"plan.json", []byte("{}"), pipeline.Put{})
	abandoned := keys.PiecesPrefix("long", strings.Repeat("4", 64)) + "r1-000.mp3"
	st.PutBytes(ctx, abandoned, []byte("z"), pipeline.Put{})
	later := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC) // memstore's clock starts on 1 January
	got, err := Garbage(ctx, st, "alpha", later, GCGrace)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range got {
		names = append(names, o.Key)
	}
	slices.Sort(names)
	if want := []string{abandoned, staged, orphan}; !slices.Equal(names, want) {
		t.Errorf("garbage %v, want %v", names, want)
	}
	if got, _ := Garbage(ctx, st, "alpha", time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), GCGrace); len(got) != 0 {
		t.Errorf("objects younger than the grace period were taken: %v", got)
	}
}
