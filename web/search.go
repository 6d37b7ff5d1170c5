package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/site"
)

// Search limits: what one query may ask, and how often one address may
// ask, so that a crawler cannot keep the server busy scanning transcripts.
const (
	SearchMaxQuery   = 200 // bytes
	SearchMaxHits    = 50
	searchPerMinute  = 30
	searchBurst      = 10
	searchConcurrent = 4
)

// searcher answers /search from each show's search index, which the
// worker renders next to the pages. An index is read once per version:
// it is checked with the bucket, as kept objects are, after CacheFresh or
// when a rebuild says so.
type searcher struct {
	store Store
	log   interface{ Error(string, ...any) }
	now   func() time.Time

	mu      sync.Mutex
	indexes map[string]*loadedIndex // by key
	limits  map[netip.Addr]*rate.Limiter
	swept   time.Time
	slots   chan struct{}
}

type loadedIndex struct {
	etag    string
	checked time.Time
	idx     *site.SearchIndex
}

func newSearcher(st Store, log interface{ Error(string, ...any) }) *searcher {
	return &searcher{store: st, log: log, now: time.Now, indexes: map[string]*loadedIndex{}, limits: map[netip.Addr]*rate.Limiter{},
		slots: make(chan struct{}, searchConcurrent)}
}

// expire makes every index be checked with the bucket before its next use.
func (s *searcher) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.indexes {
		l.checked = time.Time{}
	}
}

// searchPath reports whether p is a show's search page, /search or
// /<show>/search (with or without the slash), and which show's.
func searchPath(p string) (string, bool) {
	p = strings.TrimSuffix(p, "/")
	if p == "/search" {
		return "", true
	}
	show, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if ok && rest == "search" && catalog.CheckShowName(show) == nil {
		return show, true
	}
	return "", false
}

func (s *searcher) allow(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.now(); now.Sub(s.swept) > 10*time.Minute {
		for a, l := range s.limits {
			if l.Tokens() >= searchBurst {
				delete(s.limits, a)
			}
		}
		s.swept = now
	}
	l := s.limits[ip]
	if l == nil {
		l = rate.NewLimiter(rate.Every(time.Minute/searchPerMinute), searchBurst)
		s.limits[ip] = l
	}
	return l.Allow()
}

// index reads a show's search index, or takes it from memory while its
// version is the bucket's.
func (s *searcher) index(ctx context.Context, key string) (*site.SearchIndex, error) {
	s.mu.Lock()
	l := s.indexes[key]
	s.mu.Unlock()
	if l != nil && s.now().Sub(l.checked) < CacheFresh {
		return l.idx, nil
	}
	info, err := s.store.Stat(ctx, key)
	if err != nil {
		if l != nil && !errors.Is(err, pipeline.ErrNotFound) {
			return l.idx, nil // the bucket does not answer: the last one read
		}
		return nil, err
	}
	if l != nil && l.etag == info.ETag && info.ETag != "" {
		s.mu.Lock()
		l.checked = s.now()
		s.mu.Unlock()
		return l.idx, nil
	}
	rd, info, err := s.store.OpenObject(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var idx site.SearchIndex
	if err := json.NewDecoder(io.LimitReader(rd, 1<<30)).Decode(&idx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.indexes[key] = &loadedIndex{etag: info.ETag, checked: s.now(), idx: &idx}
	s.mu.Unlock()
	return &idx, nil
}

func (s *searcher) serve(w http.ResponseWriter, r *http.Request, show string, ip netip.Addr) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > SearchMaxQuery {
		http.Error(w, "the search is too long: ask with at most 200 characters", http.StatusRequestURITooLong)
		return
	}
	if q != "" && !s.allow(ip) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many searches from your address; try again in a minute", http.StatusTooManyRequests)
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-r.Context().Done():
		return
	}
	prefix := catalog.RootPublic
	if show != "" {
		prefix += show + "/"
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	idx, err := s.index(ctx, prefix+site.SearchIndexPath)
	if err != nil {
		code := http.StatusBadGateway
		if errors.Is(err, pipeline.ErrNotFound) {
			code = http.StatusNotFound
		} else {
			s.log.Error("cannot read the search index", "show", show, "err", err)
		}
		http.Error(w, "search is not ready: the show has not been published yet", code)
		return
	}
	var hits []site.Hit
	if q != "" {
		hits = idx.Search(q, SearchMaxHits)
	}
	body, err := site.SearchPage(idx.Show.Show(), q, hits)
	if err != nil {
		s.log.Error("cannot render the search page", "err", err)
		http.Error(w, "cannot show the results", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
