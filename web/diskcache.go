package web

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/prodcast/prodcast/pipeline"
)

// diskCache keeps the public objects too big to keep in memory (the media)
// in files of a local folder, as a caching proxy would, so that ranges and
// whole files are answered from disk, not from the bucket. The first
// request for an object is answered from the bucket while a copy is made;
// the later ones from the copy. A copy is checked with the bucket as kept
// objects are (after CacheFresh, or when a rebuild says so): a withdrawn
// episode's media stops being served as soon as the memory cache's would.
// The folder holds at most max bytes; the least recently used copies go.
type diskCache struct {
	outage *outage         // nil: the bucket is always asked
	ctx    context.Context // the server's: copies stop at its Shutdown
	dir    string
	max    int64
	st     Store
	log    interface{ Error(string, ...any) }
	now    func() time.Time
	group  singleflight.Group

	mu      sync.Mutex
	entries map[string]*list.Element // of *diskEntry, by key
	lru     *list.List               // front: most recently used
	size    int64
	seq     int
	skipped map[string]time.Time // keys not copied (too big), and when
}

type diskEntry struct {
	key     string
	path    string
	info    pipeline.Object
	checked time.Time
	readers int  // open files: the copy is removed when the last closes
	dropped bool // no longer in entries
}

func newDiskCache(dir string, max int64, st Store, log interface{ Error(string, ...any) }) (*diskCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot make the media cache folder: %w", err)
	}
	// Copies of an earlier run are not trusted: their versions are unknown.
	for _, pattern := range []string{"obj-*", "tmp-*"} {
		old, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range old {
			os.Remove(p)
		}
	}
	return &diskCache{dir: dir, max: max, st: st, log: log, now: time.Now, entries: map[string]*list.Element{}, lru: list.New(),
		skipped: map[string]time.Time{}}, nil
}

// expire makes every copy be checked with the bucket before its next use.
func (d *diskCache) expire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for el := d.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*diskEntry).checked = time.Time{}
	}
}

// open returns the copy of key, open, and how to close it; ok is false
// when there is none to serve (the caller asks the bucket, and a copy is
// made meanwhile). A copy whose object is gone or changed is dropped.
func (d *diskCache) open(ctx context.Context, key string) (f *os.File, info pipeline.Object, done func(), ok bool) {
	d.mu.Lock()
	el := d.entries[key]
	var e *diskEntry
	if el != nil {
		e = el.Value.(*diskEntry)
	}
	d.mu.Unlock()
	if e == nil {
		if !d.outage.down() {
			d.fill(key)
		}
		return nil, pipeline.Object{}, nil, false
	}
	if d.now().Sub(e.checked) >= CacheFresh && !d.outage.down() {
		v, err, _ := d.group.Do("stat\x00"+key, func() (any, error) { return d.outage.check(ctx, d.st, key) })
		switch {
		case errors.Is(err, pipeline.ErrNotFound):
			d.drop(e)
			return nil, pipeline.Object{}, nil, false
		case err != nil:
			// The bucket does not answer: the copy is what it last said.
		case v.(pipeline.Object).ETag != e.info.ETag || e.info.ETag == "":
			d.drop(e)
			d.fill(key)
			return nil, pipeline.Object{}, nil, false
		default:
			d.mu.Lock()
			e.checked = d.now()
			d.mu.Unlock()
		}
	}
	d.mu.Lock()
	if e.dropped {
		d.mu.Unlock()
		return nil, pipeline.Object{}, nil, false
	}
	e.readers++
	d.lru.MoveToFront(d.entries[key])
	d.mu.Unlock()
	f, err := os.Open(e.path)
	if err != nil {
		d.release(e)
		d.drop(e)
		return nil, pipeline.Object{}, nil, false
	}
	return f, e.info, func() { f.Close(); d.release(e) }, true
}

func (d *diskCache) release(e *diskEntry) {
	d.mu.Lock()
	e.readers--
	gone := e.dropped && e.readers == 0
	d.mu.Unlock()
	if gone {
		os.Remove(e.path)
	}
}

// drop forgets a copy; its file goes once nobody reads it.
func (d *diskCache) drop(e *diskEntry) {
	d.mu.Lock()
	if e.dropped {
		d.mu.Unlock()
		return
	}
	e.dropped = true
	if el := d.entries[e.key]; el != nil && el.Value.(*diskEntry) == e {
		delete(d.entries, e.key)
		d.lru.Remove(el)
	}
	d.size -= e.info.Size
	gone := e.readers == 0
	d.mu.Unlock()
	if gone {
		os.Remove(e.path)
	}
}

// fill copies key from the bucket in the background, once however many
// ask.
func (d *diskCache) fill(key string) {
	d.mu.Lock()
	at, skip := d.skipped[key]
	if skip && d.now().Sub(at) > time.Minute {
		delete(d.skipped, key) // it may have changed: look again
		skip = false
	}
	d.mu.Unlock()
	if skip {
		return
	}
	go d.group.Do("fill\x00"+key, func() (any, error) {
		base := d.ctx
		if base == nil {
			base = context.Background()
		}
		ctx, cancel := context.WithTimeout(base, 30*time.Minute)
		defer cancel()
		if err := d.copy(ctx, key); err != nil && !errors.Is(err, pipeline.ErrNotFound) {
			d.log.Error("cannot keep a copy of a media file", "key", key, "err", err)
		}
		return nil, nil
	})
}

func (d *diskCache) copy(ctx context.Context, key string) error {
	r, info, err := d.st.OpenObject(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	if info.Status >= 300 || info.Size <= cacheMaxSmall || info.Size > d.max/2 {
		// Kept in memory instead, or more than half the folder: not asked
		// again for a minute.
		d.mu.Lock()
		if len(d.skipped) > 10000 {
			clear(d.skipped)
		}
		d.skipped[key] = d.now()
		d.mu.Unlock()
		return nil
	}
	d.mu.Lock()
	d.seq++
	name := fmt.Sprintf("%d-%d", os.Getpid(), d.seq)
	d.mu.Unlock()
	tmp, path := filepath.Join(d.dir, "tmp-"+name), filepath.Join(d.dir, "obj-"+name)
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != info.Size {
		err = fmt.Errorf("copied %d bytes of %d", n, info.Size)
	}
	if err == nil {
		err = os.Rename(tmp, path) // whole, or not there
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	e := &diskEntry{key: key, path: path, info: info, checked: d.now()}
	d.mu.Lock()
	if el := d.entries[key]; el != nil {
		d.mu.Unlock()
		d.drop(el.Value.(*diskEntry))
		d.mu.Lock()
	}
	d.entries[key] = d.lru.PushFront(e)
	d.size += info.Size
	var evict []*diskEntry
	over := d.size - d.max
	for el := d.lru.Back(); over > 0 && el != nil; el = el.Prev() {
		if old := el.Value.(*diskEntry); old != e {
			evict = append(evict, old)
			over -= old.info.Size
		}
	}
	d.mu.Unlock()
	for _, old := range evict {
		d.drop(old)
	}
	return nil
}
