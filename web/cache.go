package web

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"golang.org/x/sync/singleflight"

	"github.com/prodcast/prodcast/pipeline"
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
	st    Store
	now   func() time.Time
	group singleflight.Group

	mu      sync.Mutex
	entries map[string]*list.Element // of *cached
	lru     *list.List
	bytes   int64
}

// cached is one object as kept.
type cached struct {
	key     string
	info    pipeline.Object
	body    []byte
	checked time.Time // when the bucket last said this is current

	gzOnce, brOnce sync.Once
	gz, br         []byte
	// Content-Length of each form, made with it.
	length, lengthGz, lengthBr []string

	// The answer's headers, made once.
	etag, etagGz, etagBr, lastModified []string
}

func newCached(key string, info pipeline.Object, body []byte, now time.Time) *cached {
	e := &cached{key: key, info: info, body: body, checked: now, length: []string{strconv.Itoa(len(body))}}
	if info.ETag != "" {
		e.etag = []string{`"` + info.ETag + `"`}
		e.etagGz = []string{`"` + info.ETag + `-gz"`}
		e.etagBr = []string{`"` + info.ETag + `-br"`}
	}
	if !info.LastModified.IsZero() {
		e.lastModified = []string{info.LastModified.UTC().Format(http.TimeFormat)}
	}
	return e
}

func newCache(st Store) *cache {
	return &cache{st: st, now: time.Now, entries: map[string]*list.Element{}, lru: list.New()}
}

func keepable(info pipeline.Object) bool {
	return info.Status < 300 && (info.Size <= cacheMaxSmall || (compressible(info.ContentType) && info.Size <= cacheMaxText))
}

// get returns the object at key: kept (c != nil), or, when it is too big
// to keep, open for streaming (r != nil, to be closed).
func (c *cache) get(ctx context.Context, key string) (*cached, pipeline.Reader, pipeline.Object, error) {
	if e := c.lookup(key); e != nil {
		if c.now().Sub(e.checked) < CacheFresh {
			return e, nil, e.info, nil
		}
		// Stale: one question to the bucket, for everyone asking now.
		v, err, _ := c.group.Do("stat\x00"+key, func() (any, error) { return c.st.Stat(ctx, key) })
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
	v, err, shared := c.group.Do("get\x00"+key, func() (any, error) {
		r, info, err := c.st.OpenObject(ctx, key)
		if err != nil {
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
		e := newCached(key, info, body, c.now())
		c.add(e)
		return loaded{e: e, info: info}, nil
	})
	if err != nil && shared && ctx.Err() == nil {
		// The request that loaded it went away mid-way: try on our own.
		r, info, err := c.st.OpenObject(ctx, key)
		return nil, r, info, err
	}
	if err != nil {
		return nil, nil, pipeline.Object{}, err
	}
	l := v.(loaded)
	if l.r != nil && shared {
		// Another request got this reader; open one of our own.
		r, info, err := c.st.OpenObject(ctx, key)
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
	c.mu.Lock()
	e.checked = c.now()
	c.mu.Unlock()
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
	c.bytes -= int64(len(e.body) + len(e.gz) + len(e.br))
}

// expire makes every kept object ask the bucket again before it is next
// answered: a rebuild changed some of them.
func (c *cache) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.entries {
		el.Value.(*cached).checked = time.Time{}
	}
}

// variant returns the body in the encoding the client prefers of those it
// accepts ("br", "gzip" or "" for identity), computing it the first time,
// and its Content-Length.
func (c *cache) variant(e *cached, enc string) ([]byte, []string) {
	var once *sync.Once
	var out *[]byte
	var length *[]string
	var compress func(io.Writer) io.WriteCloser
	switch enc {
	case "br":
		once, out, length = &e.brOnce, &e.br, &e.lengthBr
		compress = func(w io.Writer) io.WriteCloser { return brotli.NewWriterLevel(w, 6) }
	case "gzip":
		once, out, length = &e.gzOnce, &e.gz, &e.lengthGz
		compress = func(w io.Writer) io.WriteCloser { z, _ := gzip.NewWriterLevel(w, gzip.BestCompression); return z }
	default:
		return e.body, e.length
	}
	once.Do(func() {
		var buf bytes.Buffer
		w := compress(&buf)
		w.Write(e.body)
		w.Close()
		*out = buf.Bytes()
		*length = []string{strconv.Itoa(buf.Len())}
		c.mu.Lock()
		if _, ok := c.entries[e.key]; ok {
			c.bytes += int64(buf.Len())
		}
		c.mu.Unlock()
	})
	return *out, *length
}
