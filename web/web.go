package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/prodcast/prodcast/analytics"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Store is the bucket as the web server reads it.
type Store interface {
	OpenObject(ctx context.Context, key string) (pipeline.Reader, pipeline.Object, error)
	Stat(ctx context.Context, key string) (pipeline.Object, error)
	Ping(ctx context.Context) error
}

var _ Store = (*s3.Store)(nil)

// Desk is the producer's desk and the guest's door (package desk).
type Desk interface {
	// Admin serves /admin/, with extra pages behind the same login.
	Admin(extra map[string]http.Handler) http.Handler
	// Pitch serves /pitch/ and /<show>/pitch/, the show in PathValue("show").
	Pitch() http.Handler
}

// Config is what the web server needs.
type Config struct {
	Store Store
	Redis asynq.RedisConnOpt // for the queue metrics; may be nil
	// Desk serves /admin/ and the pitch forms; nil turns them off.
	Desk Desk
	Log  *slog.Logger
	// Hits takes the answered requests for episode audio, to count;
	// nil counts nothing.
	Hits *analytics.Recorder
	// Counter reads the counts, for /admin/stats; nil reads the bucket's.
	Counter *analytics.Counter
	// Changes tells of rebuilds that changed public objects (any
	// process's): what is kept in memory is checked with the bucket before
	// it is answered again. Without it, kept objects are checked every
	// few seconds.
	Changes <-chan struct{}
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MediaCacheDir, when set, is a local folder where serve keeps copies
	// of the media (at most MediaCacheSize bytes), to answer them, ranges
	// included, from disk rather than from the bucket.
	MediaCacheDir  string
	MediaCacheSize int64
	// MetricsToken, when set, opens /metrics on this server to a request
	// that carries it as "Authorization: Bearer TOKEN". Without it /metrics
	// answers 401 here: the download counts, queues and versions it shows
	// are not for the public (serve Server.Metrics on a listener of its
	// own instead).
	MetricsToken string
	// HTTPS says that the public URL is https (PRODCAST_BASE_URL or a
	// show's base_url, behind a proxy that ends TLS): every answer then
	// carries HSTS.
	HTTPS bool
	// Checks are what /healthz asks besides the bucket: the machine's
	// faults, the room of the data folder, the clock.
	Checks []Check
}

var requests = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "prodcast_http_requests_total",
	Help: "HTTP requests served, by route and status code.",
}, []string{"route", "code"})

// New returns the HTTP handler. (NewServer serves it, faster.)
func New(cfg Config) http.Handler {
	_, h := newServer(cfg)
	return h
}

func newServer(cfg Config) (*server, http.Handler) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &server{cfg: cfg, cache: newCache(cfg.Store, cfg.Log), search: newSearcher(cfg.Store, cfg.Log)}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.cache.https = cfg.HTTPS
	s.outage = &outage{st: cfg.Store, now: time.Now, done: s.ctx.Done()}
	s.cache.outage = s.outage
	if cfg.MediaCacheDir != "" {
		d, err := newDiskCache(cfg.MediaCacheDir, cfg.MediaCacheSize, cfg.Store, cfg.Log)
		if err != nil {
			cfg.Log.Error("media is served from the bucket", "err", err)
		} else {
			d.outage, d.ctx = s.outage, s.ctx
			s.disk = d
		}
	}
	if cfg.Changes != nil {
		go func() {
			for {
				select {
				case <-s.ctx.Done():
					return
				case _, ok := <-cfg.Changes:
					if !ok {
						return
					}
					s.cache.expire()
					s.search.expire()
					if s.disk != nil {
						s.disk.expire()
					}
				}
			}
		}()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	reg := prometheus.NewRegistry()
	if cfg.Redis != nil {
		reg.MustRegister(&queueCollector{insp: asynq.NewInspector(cfg.Redis)})
	}
	s.metrics = promhttp.HandlerFor(prometheus.Gatherers{prometheus.DefaultGatherer, reg}, promhttp.HandlerOpts{})
	mux.Handle("GET /metrics", requireToken(cfg.MetricsToken, s.metrics))
	if cfg.Desk != nil {
		mux.Handle("/admin/", cfg.Desk.Admin(map[string]http.Handler{"GET /admin/stats": http.HandlerFunc(s.stats)}))
		s.pitch = cfg.Desk.Pitch()
	} else {
		mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "the desk is off on this server", http.StatusNotFound)
		})
	}
	mux.HandleFunc("/", s.public)
	// The public objects, the path apps poll all day, skip the mux's
	// pattern matching, a good part of a kept feed's 304.
	return s, withSecurity(cfg.HTTPS, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.HasPrefix(p, "/admin/") && p != "/admin" &&
			p != "/healthz" && p != "/metrics" && r.URL.RawPath == "" && !strings.Contains(p, "..") && !strings.Contains(p, "//") {
			s.public(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

type server struct {
	// ctx ends at Shutdown, and with it every goroutine the server started
	// (the rebuild notices, the bucket's probe, the media copies).
	ctx     context.Context
	stop    context.CancelFunc
	outage  *outage // the bucket's health, as found
	cfg     Config
	metrics http.Handler // /metrics, before its token check
	pitch   http.Handler // nil without a desk
	cache   *cache       // the feed, pages and small objects, in memory
	disk    *diskCache   // media, on local disk; nil without MediaCacheDir
	search  *searcher    // /search
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	checks := append([]Check{{Name: "storage", Run: s.cfg.Store.Ping}}, s.cfg.Checks...)
	Health(checks).ServeHTTP(w, r)
}

// Check is one thing /healthz asks: Run returns what is wrong, or nil.
type Check struct {
	Name string
	Run  func(context.Context) error
}

// Health answers /healthz for a role: 200 while every check passes, else
// 503 with a JSON body that names each problem (for systemd, compose and
// load balancers). Each check gets 3 s.
func Health(checks []Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type problem struct {
			Check   string `json:"check"`
			Message string `json:"message"`
		}
		body := struct {
			Status   string    `json:"status"`
			Problems []problem `json:"problems,omitempty"`
		}{Status: "ok"}
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			err := c.Run(ctx)
			cancel()
			if err != nil {
				body.Problems = append(body.Problems, problem{Check: c.Name, Message: err.Error()})
			}
		}
		code := http.StatusOK
		if len(body.Problems) > 0 {
			body.Status, code = "unavailable", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(body)
	})
}

// public serves an object under public/: "/" and "/x/" map to index.html.
// Range, HEAD, ETag and conditional requests come from http.ServeContent.
func (s *server) public(w http.ResponseWriter, r *http.Request) {
	if show, ok := pitchPath(r.URL.Path); ok && s.pitch != nil {
		r.SetPathValue("show", show)
		s.pitch.ServeHTTP(w, r)
		return
	}
	if show, ok := searchPath(r.URL.Path); ok {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		s.search.serve(rec, r, show, ClientIP(r, s.cfg.TrustedProxies))
		counter("search", rec.code).Inc()
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(r.URL.Path, "/") && p != "/" {
		p += "/"
	}
	key := catalog.RootPublic + strings.TrimPrefix(p, "/")
	if strings.HasSuffix(p, "/") {
		key += "index.html"
	}
	if s.disk != nil && isMedia(key) && s.cache.lookup(key) == nil {
		if f, info, done, ok := s.disk.open(r.Context(), key); ok {
			defer done()
			s.stream(w, r, p, key, info, f)
			return
		}
	}
	kept, obj, info, err := s.cache.get(r.Context(), key)
	if errors.Is(err, pipeline.ErrNotFound) && !strings.HasSuffix(p, "/") && path.Ext(p) == "" {
		// /episodes/x -> /episodes/x/ if that page exists.
		if _, err2 := s.cfg.Store.Stat(r.Context(), key+"/index.html"); err2 == nil {
			http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
			return
		}
	}
	if err != nil {
		code := http.StatusBadGateway
		switch {
		case errors.Is(err, pipeline.ErrNotFound):
			code = http.StatusNotFound
		case pipeline.IsUnavailable(err):
			// Not kept here, and the bucket does not answer: at once,
			// with when to ask again.
			code = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "10")
		default:
			s.cfg.Log.Error("cannot read from the bucket", "key", key, "err", err)
		}
		counter(route(p), code).Inc()
		http.Error(w, http.StatusText(code), code)
		return
	}
	if kept != nil && info.Status < 300 && r.Header.Get("Range") == "" {
		s.fromMemory(w, r, kept)
		return
	}
	var content io.ReadSeeker
	if kept != nil {
		content = bytes.NewReader(kept.body)
	} else {
		defer obj.Close()
		content = obj
	}
	s.stream(w, r, p, key, info, content)
}

// isMedia reports whether key is under a show's media/: audio and art,
// which the disk cache keeps.
func isMedia(key string) bool {
	rest := strings.TrimPrefix(key, catalog.RootPublic)
	return strings.HasPrefix(rest, "media/") || strings.Contains(rest, "/media/")
}

// stream answers an object from content: Range, HEAD and conditional
// requests by http.ServeContent, a withdrawn page with its status.
func (s *server) stream(w http.ResponseWriter, r *http.Request, p, key string, info pipeline.Object, content io.ReadSeeker) {
	h := w.Header()
	// Everything here is public; web players on other sites fetch the
	// feed, chapters and transcripts from the browser.
	h.Set("Access-Control-Allow-Origin", "*")
	if info.ContentType != "" {
		h.Set("Content-Type", info.ContentType)
	}
	if info.ETag != "" {
		h.Set("ETag", `"`+info.ETag+`"`)
	}
	if info.CacheControl != "" {
		h.Set("Cache-Control", info.CacheControl)
	}
	if info.Status >= 300 {
		// A withdrawn episode's page: its body, with its status (410).
		h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
		w.WriteHeader(info.Status)
		if r.Method != http.MethodHead {
			_, _ = io.Copy(w, content)
		}
		counter(route(p), info.Status).Inc()
		return
	}
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	if compressible(info.ContentType) {
		// Ranges and text too big to keep go as they are; whole kept
		// text went compressed from memory above.
		h.Add("Vary", "Accept-Encoding")
	}
	http.ServeContent(rec, r, path.Base(key), info.LastModified, content)
	counter(route(p), rec.code).Inc()
	s.count(r, key, info, rec.code, rec.n)
}

// fromMemory answers a kept object in full, or 304 when the client has
// this version, with headers made once per version: the path that the
// feed's pollers take all day (see front for the faster one).
func (s *server) fromMemory(w http.ResponseWriter, r *http.Request, e *cached) {
	f, notModified := s.cache.answer(e, r.Header.Get("Range"), r.Header.Get("Accept-Encoding"),
		r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"))
	h := w.Header()
	if notModified {
		for k, v := range f.header3 {
			h[k] = v
		}
		w.WriteHeader(http.StatusNotModified)
		counter(e.route, http.StatusNotModified).Inc()
		return
	}
	for k, v := range f.header {
		h[k] = v
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(f.body)
	}
	counter(e.route, http.StatusOK).Inc()
	s.count(r, e.key, e.info, http.StatusOK, int64(len(f.body)))
}

// unchanged applies If-None-Match, else If-Modified-Since (RFC 9110): the
// client has the version of etag, modified then.
func unchanged(ifNoneMatch, ifModifiedSince, etag string, modified time.Time) bool {
	if ifNoneMatch != "" {
		if etag == "" {
			return false
		}
		for rest := ifNoneMatch; rest != ""; {
			var t string
			t, rest, _ = strings.Cut(rest, ",")
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == etag {
				return true
			}
		}
		return false
	}
	if ifModifiedSince == "" || modified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ifModifiedSince)
	return err == nil && !modified.Truncate(time.Second).After(t)
}

// counter is the request counter of a route and status, made once: a
// request costs a map lookup, no allocation.
func counter(route string, code int) prometheus.Counter {
	k := routeCode{route, code}
	countersMu.RLock()
	c, ok := counters[k]
	countersMu.RUnlock()
	if ok {
		return c
	}
	c = requests.WithLabelValues(route, strconv.Itoa(code))
	countersMu.Lock()
	counters[k] = c
	countersMu.Unlock()
	return c
}

type routeCode struct {
	route string
	code  int
}

var (
	countersMu sync.RWMutex
	counters   = map[routeCode]prometheus.Counter{}
)

// pitchPath reports whether p is a show's pitch form, /pitch/ or
// /<show>/pitch/, and which show's.
func pitchPath(p string) (string, bool) {
	if p == "/pitch/" {
		return "", true
	}
	show, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if ok && rest == "pitch/" && catalog.CheckShowName(show) == nil {
		return show, true
	}
	return "", false
}

// compressible reports whether a content type is text worth gzipping;
// media is not.
func compressible(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	switch ct {
	case "text/html", "text/css", "text/plain", "text/vtt", "application/rss+xml", "application/atom+xml",
		"application/xml", "text/xml", "application/json", "application/javascript", "text/javascript",
		"application/x-subrip", "application/json+chapters":
		return true
	}
	return false
}

// encoding picks the form to send: brotli, else gzip, when the client
// accepts it and asks for no range; identity for the bytes as they are.
func encoding(rng, acceptEncoding string) int {
	switch {
	case rng != "" || acceptEncoding == "":
		return identity
	case accepts(acceptEncoding, "br"):
		return brotlied
	case accepts(acceptEncoding, "gzip"):
		return gzipped
	}
	return identity
}

// accepts reports whether an Accept-Encoding header accepts enc (with a
// q-value above 0).
func accepts(h, enc string) bool {
	for rest := h; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		q := 1.0
		if params != "" {
			if _, v, ok := strings.Cut(strings.ReplaceAll(params, " ", ""), "q="); ok {
				q, _ = strconv.ParseFloat(v, 64)
			}
		}
		return q > 0
	}
	return false
}

// route names a path's kind, to keep metric labels few; a show's routes
// under /<show>/ count as the root show's.
func route(p string) string {
	if first, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/"); ok && catalog.CheckShowName(first) == nil {
		p = "/" + rest
	}
	switch {
	case p == "/feed.xml":
		return "feed"
	case strings.HasPrefix(p, "/media/"):
		return "media"
	case strings.HasPrefix(p, "/"+pipeline.EpisodesDir):
		return "episode"
	case p == "/":
		return "index"
	}
	return "other"
}

type statusRecorder struct {
	http.ResponseWriter
	code int
	n    int64 // body bytes written
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}
