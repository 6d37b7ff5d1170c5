// Package web serves what listeners and readers fetch: the feed, the blog
// pages and the media, all read from the bucket's public/ prefix through
// minio-go, plus /healthz, /metrics and the queue dashboard at /admin/.
//
//	h := web.New(web.Config{Store: st, Redis: redisOpt, AdminPassword: pw})
//	http.ListenAndServe(addr, h)
package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Config is what the web server needs.
type Config struct {
	Store         *s3.Store
	Redis         asynq.RedisConnOpt // for /admin/ and /healthz; may be nil
	AdminUser     string             // default "admin"
	AdminPassword string             // /admin/ is off while empty
	Log           *slog.Logger
}

var requests = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "prodcast_http_requests_total",
	Help: "HTTP requests served, by route and status code.",
}, []string{"route", "code"})

// New returns the HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.AdminUser == "" {
		cfg.AdminUser = "admin"
	}
	s := &server{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	mux.Handle("GET /metrics", promhttp.Handler())
	mux.Handle("/admin/", s.admin())
	mux.HandleFunc("/", s.public)
	return mux
}

type server struct {
	cfg Config
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		http.Error(w, "storage unreachable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *server) admin() http.Handler {
	if s.cfg.AdminPassword == "" || s.cfg.Redis == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "the queue dashboard is off: set PRODCAST_ADMIN_PASSWORD to turn it on", http.StatusNotFound)
		})
	}
	mon := asynqmon.New(asynqmon.Options{RootPath: "/admin", RedisConnOpt: s.cfg.Redis})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(s.cfg.AdminUser)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(s.cfg.AdminPassword)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="prodcast admin"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		mon.ServeHTTP(w, r)
	})
}

// public serves an object under public/: "/" and "/x/" map to index.html.
// Range, HEAD, ETag and conditional requests come from http.ServeContent.
func (s *server) public(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(r.URL.Path, "/") && p != "/" {
		p += "/"
	}
	key := catalog.PublicPrefix + strings.TrimPrefix(p, "/")
	if strings.HasSuffix(p, "/") {
		key += "index.html"
	}
	obj, info, err := s.cfg.Store.OpenObject(r.Context(), key)
	if errors.Is(err, pipeline.ErrNotFound) && !strings.HasSuffix(p, "/") && path.Ext(p) == "" {
		// /episodes/x -> /episodes/x/ if that page exists.
		if _, err2 := s.cfg.Store.Stat(r.Context(), key+"/index.html"); err2 == nil {
			http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
			return
		}
	}
	if err != nil {
		code := http.StatusBadGateway
		if errors.Is(err, pipeline.ErrNotFound) {
			code = http.StatusNotFound
		} else {
			s.cfg.Log.Error("cannot read from the bucket", "key", key, "err", err)
		}
		requests.WithLabelValues(route(p), strconv.Itoa(code)).Inc()
		http.Error(w, http.StatusText(code), code)
		return
	}
	defer obj.Close()
	h := w.Header()
	if info.ContentType != "" {
		h.Set("Content-Type", info.ContentType)
	}
	if info.ETag != "" {
		h.Set("ETag", `"`+info.ETag+`"`)
	}
	if info.CacheControl != "" {
		h.Set("Cache-Control", info.CacheControl)
	}
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	http.ServeContent(rec, r, path.Base(key), info.LastModified, obj)
	requests.WithLabelValues(route(p), strconv.Itoa(rec.code)).Inc()
}

// route names a path's kind, to keep metric labels few.
func route(p string) string {
	switch {
	case p == "/feed.xml":
		return "feed"
	case strings.HasPrefix(p, "/media/"):
		return "media"
	case strings.HasPrefix(p, "/episodes/"):
		return "episode"
	case p == "/":
		return "index"
	}
	return "other"
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}
