package web

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"golang.org/x/sync/singleflight"

	"github.com/prodcast/prodcast/analytics"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// The bounds of the cache of public objects.
const (
	cacheMaxSmall = 1 << 20   // any object up to this size is kept
	cacheMaxText  = 16 << 20  // text (the feed, pages, transcripts) up to this
	cacheMaxTotal = 512 << 20 // all kept bodies and their compressed forms
)

// CacheFresh is how long a kept object is answered without asking the
// bucket. A rebuild's message (Config.Changes) ends it at once; a process
// that missed the message serves the old version at most this long.
const CacheFresh = 3 * time.Second

// ChangesChannel is the Redis channel on which workers say that a
// rebuild changed public objects of a bucket; every serve process of that
// bucket listens. (Channels span Redis's databases, hence the bucket.)
func ChangesChannel(bucket string) string { return "prodcast:public-changed:" + bucket }

// cache keeps the feed, the pages and the small public objects in memory,
// with their gzip and brotli forms, made once per version: a 200 or a 304
// of a kept object touches no storage.
type cache struct {
	https  bool    // the public URL is https: answers carry HSTS
	outage *outage // nil: the bucket is always asked
	st     Store
	now    func() time.Time
	log    *slog.Logger
	group  singleflight.Group

	mu      sync.Mutex
	entries map[string]*list.Element // of *cached
	lru     *list.List
	bytes   int64 // bodies, compressed forms and memory files
	files   int   // memory files
}

// cached is one object as kept.
type cached struct {
	key     string
	info    pipeline.Object
	body    []byte
	checked atomic.Int64 // unix nanoseconds when the bucket last said this is current
	route   string       // its metric label
	counted bool         // episode audio, whose downloads are counted
	https   bool         // its answers carry HSTS

	// The forms it is answered in: as it is, gzip and brotli; the
	// compressed ones made the first time a client accepts them (once,
	// by their index; identity's is made with the entry).
	forms [3]form
	once  [3]sync.Once
}

// The forms of a kept object, by index.
const (
	identity = iota
	gzipped
	brotlied
)

// form is a kept object in one encoding, with its answer's headers made
// once: as a map for net/http, and as the bytes the front writes.
type form struct {
	body    []byte
	etag    string
	header  http.Header // a 200's, less Date
	header3 http.Header // a 304's
	raw     []byte      // header as the front writes it
	raw3    []byte
	file    *memFile // for a body of sendfileMin bytes or more
}

// memFile is a form's body in a file in memory, for sendfile: made the
// first time the front answers with it, closed when its object leaves.
type memFile struct {
	once sync.Once
	f    *os.File // nil when none could be made
}

// The front sends bodies of sendfileMin bytes or more from memory files,
// at most maxMemFiles of them.
const (
	sendfileMin = 16 << 10
	maxMemFiles = 256
)

var memFileBytes = promauto.NewGauge(prometheus.GaugeOpts{
	Name: "prodcast_http_memfile_bytes",
	Help: "Bytes of kept objects held, besides the heap, in memory files that the front sends with sendfile.",
})

func newCached(key string, info pipeline.Object, body []byte, now time.Time, https bool) *cached {
	e := &cached{key: key, info: info, body: body, https: https, route: route("/" + strings.TrimSuffix(strings.TrimPrefix(key, catalog.RootPublic), "index.html"))}
	e.checked.Store(now.UnixNano())
	_, _, e.counted = analytics.EpisodeAudio(key)
	e.forms[identity] = e.makeForm(identity, body)
	return e
}

// fresh reports whether e was checked with the bucket less than
// CacheFresh before now.
func (e *cached) fresh(now time.Time) bool {
	return now.UnixNano()-e.checked.Load() < int64(CacheFresh)
}

// makeForm makes the form of index enc from its body.
func (e *cached) makeForm(enc int, body []byte) form {
	f := form{body: body}
	if len(body) >= sendfileMin {
		f.file = &memFile{}
	}
	if e.info.ETag != "" {
		f.etag = `"` + e.info.ETag + [...]string{"", "-gz", "-br"}[enc] + `"`
	}
	var fields [][2]string
	add := func(k, v string) {
		if v != "" {
			fields = append(fields, [2]string{k, headerValue.Replace(v)})
		}
	}
	add("Access-Control-Allow-Origin", "*")
	for _, f := range securityFields(e.key, e.https) {
		add(f[0], f[1])
	}
	add("Cache-Control", e.info.CacheControl)
	if !e.info.LastModified.IsZero() {
		add("Last-Modified", e.info.LastModified.UTC().Format(http.TimeFormat))
	}
	if compressible(e.info.ContentType) {
		add("Vary", "Accept-Encoding")
	}
	add("Content-Encoding", [...]string{"", "gzip", "br"}[enc])
	add("Etag", f.etag)
	f.header3, f.raw3 = headers(fields)
	add("Content-Type", e.info.ContentType)
	add("Content-Length", strconv.Itoa(len(body)))
	f.header, f.raw = headers(fields)
	return f
}

// headerValue keeps a value from the bucket's metadata on its line.
var headerValue = strings.NewReplacer("\r", " ", "\n", " ")

// headers returns fields as a map and as lines.
func headers(fields [][2]string) (http.Header, []byte) {
	h := make(http.Header, len(fields))
	var b bytes.Buffer
	for _, f := range fields {
		h[f[0]] = []string{f[1]}
		b.WriteString(f[0] + ": " + f[1] + "\r\n")
	}
	return h, b.Bytes()
}

func newCache(st Store, log *slog.Logger) *cache {
	return &cache{st: st, now: time.Now, log: log, entries: map[string]*list.Element{}, lru: list.New()}
}

func keepable(info pipeline.Object) bool {
	return info.Status < 300 && (info.Size <= cacheMaxSmall || (compressible(info.ContentType) && info.Size <= cacheMaxText))
}

// get returns the object at key: kept (c != nil), or, when it is too big
// to keep, open for streaming (r != nil, to be closed).
func (c *cache) get(ctx context.Context, key string) (*cached, pipeline.Reader, pipeline.Object, error) {
	if e := c.lookup(key); e != nil {
		if e.fresh(c.now()) {
			return e, nil, e.info, nil
		}
		if c.outage.down() {
			// The bucket is down: what it last said, without asking.
			return e, nil, e.info, nil
		}
		// Stale: one question to the bucket, for everyone asking now,
		// answered quickly or not waited for.
		v, err, _ := c.group.Do("stat\x00"+key, func() (any, error) { return c.outage.check(ctx, c.st, key) })
		if errors.Is(err, pipeline.ErrNotFound) {
			c.drop(key)
			return nil, nil, pipeline.Object{}, err
		}
		if err != nil {
			// The bucket does not answer: the last version it gave is
			// better than a 502, and it is asked again next time.
			return e, nil, e.info, nil
		}
		if info := v.(pipeline.Object); info.ETag == e.info.ETag && info.ETag != "" {
			c.touch(e)
			return e, nil, e.info, nil
		}
		c.drop(key)
	}
	type loaded struct {
		e    *cached
		r    pipeline.Reader
		info pipeline.Object
	}
	if c.outage.down() {
		return nil, nil, pipeline.Object{}, errStorageDown
	}
	v, err, shared := c.group.Do("get\x00"+key, func() (any, error) {
		r, info, err := openQuickly(ctx, c.st, key)
		if err != nil {
			c.outage.failed(ctx, err)
			return nil, err
		}
		if !keepable(info) {
			return loaded{r: r, info: info}, nil
		}
		defer r.Close()
		body, err := io.ReadAll(io.LimitReader(r, info.Size+1))
		if err != nil {
			return nil, err
		}
		e := newCached(key, info, body, c.now(), c.https)
		c.add(e)
		return loaded{e: e, info: info}, nil
	})
	if err != nil && shared && ctx.Err() == nil && !pipeline.IsUnavailable(err) && !errors.Is(err, pipeline.ErrNotFound) {
		// The request that loaded it went away mid-way: try on our own.
		r, info, err := openQuickly(ctx, c.st, key)
		return nil, r, info, err
	}
	if err != nil {
		return nil, nil, pipeline.Object{}, err
	}
	l := v.(loaded)
	if l.r != nil && shared {
		// Another request got this reader; open one of our own.
		r, info, err := openQuickly(ctx, c.st, key)
		c.outage.failed(ctx, err)
		return nil, r, info, err
	}
	return l.e, l.r, l.info, nil
}

func (c *cache) lookup(key string) *cached {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*cached)
	}
	return nil
}

func (c *cache) touch(e *cached) {
	e.checked.Store(c.now().UnixNano())
}

func (c *cache) add(e *cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		c.remove(el)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.bytes += int64(len(e.body))
	for c.bytes > cacheMaxTotal && c.lru.Len() > 1 {
		c.remove(c.lru.Back())
	}
}

func (c *cache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
}

// remove takes an entry out; c.mu is held.
func (c *cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cached)
	delete(c.entries, e.key)
	c.bytes -= int64(len(e.body) + len(e.forms[gzipped].body) + len(e.forms[brotlied].body))
	for i := range e.forms {
		if mf := e.forms[i].file; mf != nil && mf.f != nil {
			// A sendfile under way keeps it open until it ends.
			mf.f.Close()
			c.files--
			c.bytes -= int64(len(e.forms[i].body))
			memFileBytes.Sub(float64(len(e.forms[i].body)))
		}
	}
}

// memFile returns a memory file holding f's body, made the first time;
// nil when f is too small, e has left the cache, or too many are held.
func (c *cache) memFile(e *cached, f *form) *os.File {
	mf := f.file
	if mf == nil {
		return nil
	}
	mf.once.Do(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if el, ok := c.entries[e.key]; !ok || el.Value != e || c.files >= maxMemFiles {
			return
		}
		file, err := newMemFile(e.key, f.body)
		if err != nil {
			if !errors.Is(err, errors.ErrUnsupported) {
				c.log.Warn("the front writes this object's body itself", "key", e.key, "err", err)
			}
			return
		}
		mf.f = file
		c.files++
		c.bytes += int64(len(f.body))
		memFileBytes.Add(float64(len(f.body)))
	})
	return mf.f
}

// expire makes every kept object ask the bucket again before it is next
// answered: a rebuild changed some of them.
func (c *cache) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.entries {
		el.Value.(*cached).checked.Store(0)
	}
}

// form returns e in the compressed encoding of index enc (gzipped or
// brotlied), compressing it the first time.
func (c *cache) form(e *cached, enc int) *form {
	e.once[enc].Do(func() {
		var buf bytes.Buffer
		var w io.WriteCloser
		if enc == brotlied {
			w = brotli.NewWriterLevel(&buf, 6)
		} else {
			w, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
		}
		w.Write(e.body)
		w.Close()
		f := e.makeForm(enc, buf.Bytes())
		c.mu.Lock()
		e.forms[enc] = f
		if _, ok := c.entries[e.key]; ok {
			c.bytes += int64(buf.Len())
		}
		c.mu.Unlock()
	})
	return &e.forms[enc]
}

// answer picks what to send of a kept object: the smallest form the client
// accepts (of its Range and Accept-Encoding), and whether the client
// already has that version (of its If-None-Match and If-Modified-Since).
func (c *cache) answer(e *cached, rng, acceptEncoding, ifNoneMatch, ifModifiedSince string) (f *form, notModified bool) {
	f = &e.forms[identity]
	if compressible(e.info.ContentType) {
		if enc := encoding(rng, acceptEncoding); enc != identity {
			f = c.form(e, enc)
		}
	}
	return f, unchanged(ifNoneMatch, ifModifiedSince, f.etag, e.info.LastModified)
}
