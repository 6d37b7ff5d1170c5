package workers

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
	"github.com/prodcast/prodcast/pipeline/site"
)

// RebuildLockKey is the Redis key of the lock that keeps two rebuilds of
// the root show from racing. Its value names the holder (host:pid:token).
const RebuildLockKey = "prodcast:lock:rebuild"

// RebuildLock is the key of a show's rebuild lock: shows rebuild at once,
// each one rebuild at a time.
func RebuildLock(show string) string {
	if show == "" {
		return RebuildLockKey
	}
	return RebuildLockKey + ":" + show
}

// RebuildLockTTL is how long the rebuild lock outlives a holder that
// stopped renewing it (killed, frozen, cut off from Redis).
const RebuildLockTTL = 30 * time.Second

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Rebuild handles site:rebuild, aggregated from any number of requests. It
// builds the feed, checks it, and uploads it and every page that changed.
// Then it reports the bundles waiting on it as done.
func (h *Handlers) Rebuild(ctx context.Context, t *asynq.Task) error {
	var p RebuildPayload
	if err := decode(t, &p); err != nil {
		return err
	}
	ctx, release, err := h.hold(ctx, RebuildLock(p.Show))
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	cat := h.Catalog(p.Show)
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	if err := h.showArtSizes(ctx, cat, show); err != nil {
		return err
	}
	eps, err := cat.Manifests(ctx)
	if err != nil {
		return err
	}
	now := h.now()
	// The feed is built and checked (gofeed) on one core while the pages
	// render on the other; the upload waits for both.
	built := make(chan struct{})
	var feed site.File
	var feedErr error
	go func() {
		defer close(built)
		xml, err := h.buildFeed(ctx, cat.Keys, show, eps, now)
		if err != nil {
			feedErr = err
			return
		}
		sum := md5.Sum(xml)
		feed = site.File{Body: xml, ContentType: "application/rss+xml; charset=utf-8", MD5: hex.EncodeToString(sum[:])}
	}()
	waitFeed := func() (site.File, error) { <-built; return feed, feedErr }
	r, err := h.prepareRenderer(ctx, cat, p.Full)
	if err != nil {
		<-built
		return err
	}
	stats, up, err := h.publishSite(ctx, cat.Keys, r, show, eps, now, waitFeed)
	if errors.Is(err, errStale) {
		// The bucket holds other bytes than this worker rendered last (a
		// deleted page, another version's templates): render all, again.
		h.Log.Warn("published files differ from this worker's last rebuild; rendering everything", "show", p.Show, "err", err)
		r.Forget()
		stats, up, err = h.publishSite(ctx, cat.Keys, r, show, eps, now, waitFeed)
	}
	if err != nil {
		return err
	}
	countEpisodes(p.Show, eps)
	siteFilesTotal.WithLabelValues("rendered").Add(float64(stats.Rendered))
	siteFilesTotal.WithLabelValues("reused").Add(float64(stats.Reused))
	siteFilesTotal.WithLabelValues("uploaded").Add(float64(up.files))
	rebuildSeconds.Observe(time.Since(start).Seconds())
	h.Log.Info("feed and pages rebuilt", "show", p.Show, "episodes", len(eps), "rendered", stats.Rendered, "reused", stats.Reused,
		"uploaded", up.files, "feed_changed", up.feed, "full", p.Full, "reason", p.Reason)
	published := time.Now()
	if h.Changed != nil && up.files > 0 {
		h.Changed(ctx, p.Show)
	}
	var graceOnce sync.Once
	grace := func(ctx context.Context) error {
		var err error
		graceOnce.Do(func() { err = sleepCtx(ctx, h.ServeGrace-time.Since(published)) })
		return err
	}
	if err := h.withdrawMedia(ctx, cat.Keys, eps, grace); err != nil {
		return err
	}
	if err := h.retireMedia(ctx, cat, eps, grace); err != nil {
		return err
	}
	if err := h.reportDone(ctx, cat, show, eps); err != nil {
		return err
	}
	if up.feed {
		if err := h.enqueue(ctx)(NewNotifyTask(p.Show)); err != nil {
			return err
		}
	}
	return h.noteNetwork(ctx, show, eps, now)
}

// buildFeed builds the podcast RSS and checks it against the rule table. A
// feed that breaks a rule is refused: the last good one stays, and the
// problems are kept for `prodcast status`.
func (h *Handlers) buildFeed(ctx context.Context, keys catalog.Layout, show *pipeline.Show, eps []*pipeline.Manifest, now time.Time) ([]byte, error) {
	xml, problems, err := h.feeds.Build(show, eps, now)
	if err != nil {
		return nil, err
	}
	if feeds.HasErrors(problems) {
		data, _ := json.MarshalIndent(problems, "", "  ")
		if err := h.fence(ctx); err != nil {
			return nil, err
		}
		_ = h.Store.PutBytes(ctx, keys.FeedProblemsKey(), data, s3.Put{ContentType: "application/json"})
		feedRefusedTotal.Inc()
		h.Log.Error("feed refused; the last good feed stays", "show", show.Name, "problems", len(problems), "first", problems[0].String())
		return nil, fmt.Errorf("feed breaks %d rules, first: %s: %w", len(problems), problems[0], asynq.SkipRetry)
	}
	if err := h.fence(ctx); err != nil {
		return nil, err
	}
	if err := h.Store.Delete(ctx, keys.FeedProblemsKey()); err != nil {
		return nil, err
	}
	return xml, nil
}

type leaseKey struct{}

// hold takes the lock key for a rebuild, or says errBusy. The context it
// returns ends if the lease is lost, and fences every write (see fence).
func (h *Handlers) hold(ctx context.Context, key string) (context.Context, func(), error) {
	lease, err := h.Locker.Lock(ctx, key, RebuildLockTTL)
	if err != nil {
		return nil, nil, err
	}
	if lease == nil {
		return nil, nil, errBusy
	}
	return context.WithValue(lease.Context(), leaseKey{}, lease), lease.Release, nil
}

// fence returns an error unless the rebuild lock that ctx carries is still
// this rebuild's: every write of a rebuild is preceded by it.
func (h *Handlers) fence(ctx context.Context) error {
	lease, _ := ctx.Value(leaseKey{}).(Lease)
	if lease == nil {
		return nil
	}
	return lease.Check(ctx)
}

// prepareRenderer returns the worker's renderer with the show's templates,
// made to render everything if full.
func (h *Handlers) prepareRenderer(ctx context.Context, cat *catalog.Catalog, full bool) (*site.Renderer, error) {
	r := h.siteRenderer(cat)
	if full {
		r.Forget()
	}
	overrides, err := cat.Templates(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.SetTemplates(overrides); err != nil {
		// The watcher checks templates before uploading them, so this is
		// a bucket edited by hand; the built-in ones serve meanwhile.
		h.Log.Error("the show's templates cannot be used; rendering with the built-in ones", "show", cat.ShowName(), "err", err)
		_ = r.SetTemplates(nil)
	}
	return r, nil
}

// publishSite renders the blog and uploads it with the feed, once the feed
// is built and checked.
func (h *Handlers) publishSite(ctx context.Context, keys catalog.Layout, r *site.Renderer, show *pipeline.Show, eps []*pipeline.Manifest,
	now time.Time, feed func() (site.File, error)) (site.Stats, uploaded, error) {
	files, stats, err := r.Render(show, eps, now)
	f, ferr := feed()
	if err := errors.Join(ferr, err); err != nil {
		return stats, uploaded{}, err
	}
	files["feed.xml"] = f
	if show.Name != "" {
		delete(files, "robots.txt") // crawlers read it only at the root of a host
	}
	up, err := h.upload(ctx, keys, files)
	return stats, up, err
}

// uploaded is what a rebuild's upload wrote: how many files, and whether
// the feed changed (more than its lastBuildDate).
type uploaded struct {
	files int
	feed  bool
}

// errStale says that a file the renderer did not render again, since its
// inputs had not changed, is not in the bucket as it rendered it.
var errStale = errors.New("a published file is not what was rendered")

// upload puts every file whose bytes differ from the stored object, in
// publishing order: what is linked before what links to it, so that no
// reader ever follows a link to a file not yet there. Episode pages,
// chapters and transcripts go first, then the topic and home pages, then
// the Atom feed and the sitemap, and the podcast feed last. Only then are
// the pages that are no longer rendered removed: by then nothing names them.
func (h *Handlers) upload(ctx context.Context, keys catalog.Layout, files map[string]site.File) (uploaded, error) {
	var up uploaded
	stored, err := h.Store.List(ctx, keys.Public())
	if err != nil {
		return up, err
	}
	etags := map[string]string{}
	for _, o := range stored {
		etags[o.Key] = o.ETag
	}
	for _, path := range PublishOrder(files) {
		f := files[path]
		key := keys.PublicKey(path)
		if etags[key] == f.MD5 {
			continue
		}
		if f.Unchanged {
			return up, fmt.Errorf("%w: %s", errStale, key)
		}
		if path == "feed.xml" && etags[key] != "" {
			same, err := h.sameFeed(ctx, key, f.Body)
			if err != nil {
				return up, err
			}
			if same {
				continue // only lastBuildDate moved: apps keep their 304s
			}
		}
		if err := h.fence(ctx); err != nil {
			return up, err
		}
		put := s3.Put{ContentType: f.ContentType, CacheControl: "public, max-age=60", Status: f.Status}
		if err := h.Store.PutBytes(ctx, key, f.Body, put); err != nil {
			return up, err
		}
		up.files++
		up.feed = up.feed || path == "feed.xml"
	}
	for key := range etags {
		path, _ := keys.PublicPath(key)
		if _, ok := files[path]; !ok && isPage(path) {
			if err := h.fence(ctx); err != nil {
				return up, err
			}
			if err := h.Store.Delete(ctx, key); err != nil {
				return up, err
			}
		}
	}
	return up, nil
}

var lastBuildDate = regexp.MustCompile(`<lastBuildDate>[^<]*</lastBuildDate>`)

// sameFeed reports whether the stored feed at key says what feed says,
// but for its lastBuildDate.
func (h *Handlers) sameFeed(ctx context.Context, key string, feed []byte) (bool, error) {
	stored, err := h.Store.Get(ctx, key)
	if errors.Is(err, pipeline.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return bytes.Equal(lastBuildDate.ReplaceAll(stored, nil), lastBuildDate.ReplaceAll(feed, nil)), nil
}

// PublishOrder sorts the paths of a rebuild in the order they are
// uploaded: by publishTier, then by name.
func PublishOrder(files map[string]site.File) []string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		a, b := publishTier(paths[i]), publishTier(paths[j])
		if a != b {
			return a < b
		}
		return paths[i] < paths[j]
	})
	return paths
}

// publishTier ranks a public path: files that only are linked to (0),
// pages that link to episodes (1), the home pages (2), the blog's feeds and
// the sitemap (3), and the podcast feed (4), which apps poll and follow.
func publishTier(path string) int {
	switch {
	case path == "feed.xml":
		return 4
	case path == "atom.xml" || path == "sitemap.xml":
		return 3
	case path == "index.html" || strings.HasPrefix(path, "page/"):
		return 2
	case strings.HasPrefix(path, pipeline.EpisodesDir):
		return 0
	default:
		return 1
	}
}

// reportDone tells the watcher that the bundles behind live episodes are
// published, and clears their pending marks.
func (h *Handlers) reportDone(ctx context.Context, cat *catalog.Catalog, show *pipeline.Show, eps []*pipeline.Manifest) error {
	for _, m := range eps {
		if m.Pending == "" || m.State != pipeline.StatePublished {
			continue
		}
		res := &pipeline.BundleResult{BundleID: m.Pending, Bundle: m.Bundle, Slug: m.Slug, OK: true}
		if err := cat.PutResult(ctx, res); err != nil {
			return err
		}
		bundlesTotal.WithLabelValues("published").Inc()
		if m.Announce != "" {
			if err := h.emit(ctx, show, m.Announce, m, ""); err != nil {
				return err
			}
		}
		// Re-read: an ingest may have changed the manifest since the build.
		fresh, err := cat.Manifest(ctx, m.Slug)
		if err != nil {
			return err
		}
		if fresh.Pending == m.Pending {
			if err := cat.ClearPending(ctx, fresh); err != nil {
				return err
			}
		}
	}
	return nil
}

// isPage reports whether a public path is rendered by the site for an
// episode, a topic or a home page (pages, chapters, transcripts), and so
// goes when it is no longer rendered: an episode unpublished or without its
// transcript now, a topic gone, fewer home pages.
func isPage(path string) bool {
	for _, p := range []string{pipeline.EpisodesDir, "tags/", "page/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// siteRenderer returns the worker's renderer of a show, which remembers
// the pages of its last rebuild. Transcripts are read from the catalog;
// their keys carry a content hash, so the cues are kept in memory for the
// next rebuilds.
func (h *Handlers) siteRenderer(cat *catalog.Catalog) *site.Renderer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sites == nil {
		h.sites = map[string]*site.Renderer{}
	}
	if r, ok := h.sites[cat.ShowName()]; ok {
		return r
	}
	cache := newCueCache(64)
	r := &site.Renderer{Transcript: func(ref *pipeline.TranscriptRef) ([]pipeline.Cue, error) {
		if cues, ok := cache.get(ref.Key); ok {
			return cues, nil
		}
		cues, err := cat.Transcript(context.Background(), ref)
		if err != nil {
			return nil, err
		}
		cache.put(ref.Key, cues)
		return cues, nil
	}}
	h.sites[cat.ShowName()] = r
	return r
}

// cueCache keeps the cues of the transcripts read last, up to max of them.
type cueCache struct {
	mu    sync.Mutex
	max   int
	order []string
	m     map[string][]pipeline.Cue
}

func newCueCache(max int) *cueCache { return &cueCache{max: max, m: map[string][]pipeline.Cue{}} }

func (c *cueCache) get(key string) ([]pipeline.Cue, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cues, ok := c.m[key]
	return cues, ok
}

func (c *cueCache) put(key string, cues []pipeline.Cue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.order = append(c.order, key)
	c.m[key] = cues
}
