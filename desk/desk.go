package desk

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
	"github.com/prodcast/prodcast/workers"
)

// Store is the bucket as the desk reads and writes it: the shows, their
// manifests and the pitches.
type Store interface {
	catalog.Store
	catalog.Lister
}

var _ Store = (*s3.Store)(nil)

// Queue is what the desk asks of the workers.
type Queue interface {
	EnqueueLifecycle(ctx context.Context, typ, show, slug string) error
	EnqueuePitch(ctx context.Context, show string, p workers.PitchEvent) error
	EnqueuePitchDigest(ctx context.Context, show string, since, until time.Time, inboxURL string) error
}

var _ Queue = (*workers.Client)(nil)

// Config is what the desk needs.
type Config struct {
	// Data is the data folder: the accounts (users.json), each show's
	// drop/ and failed/, and the uploads in flight (.uploads/).
	Data  string
	Store Store
	// Queue takes unpublish, republish and pitch announcements; nil
	// leaves those buttons off (serve without Redis).
	Queue Queue
	// Redis serves the queue dashboard and the encode progress; Client
	// keeps sessions and rate limits. Either may be nil: the dashboard is
	// then off, and sessions and limits live in this process.
	Redis  asynq.RedisConnOpt
	Client redis.UniversalClient
	// BaseURL is the install's public URL; under https the session cookie
	// is Secure.
	BaseURL string
	// HTTPS says that the public URL is https by any configuration (a
	// show's base_url too): cookies are Secure and answers carry HSTS.
	HTTPS bool
	// LegacyPassword is PRODCAST_ADMIN_PASSWORD: while set, user admin may
	// log in with it too (the dashboard's login before accounts existed).
	LegacyPassword string
	// UploadMaxSize is the largest recording the desk takes, in bytes.
	UploadMaxSize int64
	// ClientIP is the address a request comes from, after trusted proxies.
	ClientIP func(*http.Request) netip.Addr
	Log      *slog.Logger
	Now      func() time.Time
}

// Desk is the producer's desk (/admin/) and the guest's door (/pitch/).
type Desk struct {
	cfg      Config
	sessions *scs.SessionManager
	limits   Limiter
	users    Users
	checks   chan struct{} // a slot per password check at once
	tmpl     map[string]*template.Template
	uploads  *uploads
	insp     *asynq.Inspector // the encodes' progress; nil without Redis

	pitchCaches sync.Map // show -> *catalog.PitchCache

	topicsMu sync.Mutex
	topics   map[string]cachedTopics
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns the desk. It starts nothing; Run sweeps abandoned uploads.
func New(cfg Config) (*Desk, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UploadMaxSize <= 0 {
		cfg.UploadMaxSize = DefaultUploadMaxSize
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = func(r *http.Request) netip.Addr { a, _ := netip.ParseAddrPort(r.RemoteAddr); return a.Addr() }
	}
	cfg.HTTPS = cfg.HTTPS || strings.HasPrefix(cfg.BaseURL, "https://")
	d := &Desk{
		cfg:      cfg,
		sessions: newSessions(cfg.Client, cfg.HTTPS),
		users:    Users{Path: filepath.Join(cfg.Data, UsersFile)},
		topics:   map[string]cachedTopics{},
		checks:   make(chan struct{}, loginChecks),
	}
	if cfg.Client != nil {
		d.limits = RedisLimiter{Client: cfg.Client, Prefix: "prodcast:limit:"}
	} else {
		d.limits = &MemoryLimiter{Now: cfg.Now}
	}
	if err := d.parseTemplates(); err != nil {
		return nil, err
	}
	if cfg.Redis != nil {
		d.insp = asynq.NewInspector(cfg.Redis)
	}
	up, err := newUploads(d)
	if err != nil {
		return nil, err
	}
	d.uploads = up
	return d, nil
}

// Close releases the connection the desk reads progress with.
func (d *Desk) Close() error {
	if d.insp != nil {
		return d.insp.Close()
	}
	return nil
}

// DefaultUploadMaxSize is the largest upload unless configured: a
// three-hour 24-bit stereo WAV at 48 kHz is about 3 GB.
const DefaultUploadMaxSize = 8 << 30

// Run sweeps the uploads abandoned for a day, and finishes those whose
// last byte came in as the process stopped, until ctx ends.
func (d *Desk) Run(ctx context.Context) {
	d.uploads.run(ctx)
}

// Admin serves /admin/: every route but the login form needs a session,
// and every state-changing request its CSRF token. extra are more pages
// behind the same login, such as /admin/stats.
func (d *Desk) Admin(extra map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	open := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, h) }
	open("GET /admin/login", d.loginForm)
	mux.Handle("POST /admin/login", d.checkLoginCSRF(http.HandlerFunc(d.login)))
	open("GET /admin/static/", d.static)

	priv := http.NewServeMux()
	mux.Handle("/admin/", d.requireUser(d.checkCSRF(withShows(priv))))
	priv.HandleFunc("POST /admin/logout", d.logout)
	priv.HandleFunc("GET /admin/{$}", d.home)
	priv.HandleFunc("GET /admin/shows/{show}/{$}", d.episodes)
	priv.HandleFunc("GET /admin/shows/{show}/progress.json", d.progress)
	priv.HandleFunc("POST /admin/shows/{show}/episodes/{slug}/{action}", d.lifecycle)
	priv.HandleFunc("GET /admin/shows/{show}/episodes/{slug}/edit", d.editForm)
	priv.HandleFunc("POST /admin/shows/{show}/episodes/{slug}/edit", d.edit)
	priv.HandleFunc("GET /admin/shows/{show}/new", d.newForm)
	priv.HandleFunc("POST /admin/shows/{show}/new", d.newPreview)
	priv.HandleFunc("POST /admin/shows/{show}/drafts", d.draft)
	priv.HandleFunc("GET /admin/shows/{show}/failed/{$}", d.failed)
	priv.HandleFunc("POST /admin/shows/{show}/failed/{name}/retry", d.retry)
	priv.HandleFunc("GET /admin/shows/{show}/pitches/{$}", d.pitches)
	priv.HandleFunc("GET /admin/shows/{show}/pitches/{id}", d.pitch)
	priv.HandleFunc("POST /admin/shows/{show}/pitches/{id}/status", d.pitchStatus)
	priv.HandleFunc("POST /admin/shows/{show}/pitches/{id}/delete", d.pitchDelete)
	priv.Handle(uploadsPath, d.uploads.handler)
	if d.cfg.Redis != nil {
		priv.Handle(queuesPath, d.queues(asynqmon.New(asynqmon.Options{RootPath: strings.TrimSuffix(queuesPath, "/"), RedisConnOpt: d.cfg.Redis})))
	}
	for pattern, h := range extra {
		priv.Handle(pattern, h)
	}
	return d.secure(d.sessions.LoadAndSave(mux))
}

// formMaxBytes bounds every request body to the desk but an upload's: the
// longest show notes fit many times over.
const formMaxBytes = 1 << 20

// secure sets the headers every desk answer carries: nothing is cached or
// framed, and scripts come from the desk only.
func (d *Desk) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if d.cfg.HTTPS {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, uploadsPath) {
			r.Body = http.MaxBytesReader(w, r.Body, formMaxBytes)
		}
		if !strings.HasPrefix(r.URL.Path, queuesPath) { // asynqmon brings inline scripts of its own
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

func (d *Desk) static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/admin/")
	b, err := fs.ReadFile(staticFS, name)
	if err != nil || strings.HasSuffix(name, "/") {
		http.NotFound(w, r)
		return
	}
	if strings.HasSuffix(name, ".js") {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	} else if strings.HasSuffix(name, ".css") {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Write(b)
}

func (d *Desk) clientIP(r *http.Request) string { return d.cfg.ClientIP(r).String() }

// page is what every desk page has.
type page struct {
	Title string
	User  string
	CSRF  string
	Note  string
	Shows []showLink
	Show  showLink
}

type showLink struct {
	Token, Label string
}

// rootToken names the root show in desk URLs.
const rootToken = "_"

func linkFor(show string) showLink {
	if show == "" {
		return showLink{Token: rootToken, Label: "(root show)"}
	}
	return showLink{Token: show, Label: show}
}

func (d *Desk) page(r *http.Request, title string) page {
	ctx := r.Context()
	p := page{Title: title, User: d.sessions.GetString(ctx, sessUser), CSRF: d.csrfToken(r), Note: d.sessions.PopString(ctx, sessNote)}
	if p.User != "" {
		if shows, err := d.shows(r); err == nil {
			for _, s := range shows {
				p.Shows = append(p.Shows, linkFor(s))
			}
		}
	}
	return p
}

type showsKey struct{}

// showsMemo keeps the list of shows for the rest of one request.
type showsMemo struct {
	shows []string
	err   error
	done  bool
}

// withShows gives each request a place to keep the list of shows, which
// both the page's navigation and showOf need.
func withShows(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), showsKey{}, &showsMemo{})))
	})
}

// shows lists the shows, once per request.
func (d *Desk) shows(r *http.Request) ([]string, error) {
	m, _ := r.Context().Value(showsKey{}).(*showsMemo)
	if m != nil && m.done {
		return m.shows, m.err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	shows, err := catalog.Shows(ctx, d.cfg.Store)
	if m != nil {
		m.shows, m.err, m.done = shows, err, true
	}
	return shows, err
}

// showOf reads the {show} of a desk URL: "_" is the root show. It answers
// 404 itself when there is no such show.
func (d *Desk) showOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	tok := r.PathValue("show")
	name := tok
	if tok == rootToken {
		name = ""
	} else if catalog.CheckShowName(tok) != nil {
		d.fail(w, r, http.StatusNotFound, "There is no such show.")
		return "", false
	}
	shows, err := d.shows(r)
	if err != nil {
		d.fail(w, r, http.StatusBadGateway, "Cannot list the shows: "+err.Error())
		return "", false
	}
	if !slices.Contains(shows, name) {
		d.fail(w, r, http.StatusNotFound, "There is no such show. A show appears here once its watcher has read its show.yaml.")
		return "", false
	}
	return name, true
}

// showInfo reads a show's show.yaml from the bucket, with its URLs.
func (d *Desk) showInfo(ctx context.Context, show string) (*pipeline.Show, error) {
	return catalog.ForShow(d.cfg.Store, show).Show(ctx, pipeline.ShowBaseURL(d.cfg.BaseURL, show))
}

// showDir is a show's folder in the data folder.
func (d *Desk) showDir(show string) string {
	if show == "" {
		return d.cfg.Data
	}
	return filepath.Join(d.cfg.Data, "shows", show)
}

// note leaves a message for the next page the user sees.
func (d *Desk) note(r *http.Request, format string, args ...any) {
	d.sessions.Put(r.Context(), sessNote, fmt.Sprintf(format, args...))
}

type failPage struct {
	page
	Message string
}

// fail answers with a page that says what went wrong.
func (d *Desk) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	p := page{Title: http.StatusText(code), User: d.sessions.GetString(r.Context(), sessUser)}
	if p.User != "" { // no session is stored for an anonymous visitor
		p.CSRF = d.csrfToken(r)
	}
	d.render(w, r, code, "fail", &failPage{page: p, Message: msg})
}

func (d *Desk) parseTemplates() error {
	funcs := template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"join": strings.Join,
		"has":  func(list []string, s string) bool { return slices.Contains(list, s) },
	}
	base, err := template.New("base.html").Funcs(funcs).ParseFS(templateFS, "templates/base.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	d.tmpl = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(filepath.Base(n), ".html")
		if name == "base" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("cannot parse the desk's %s: %w", n, err)
		}
		d.tmpl[name] = t
	}
	return nil
}

func (d *Desk) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	t := d.tmpl[name]
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "base.html", data); err != nil {
		d.cfg.Log.Error("cannot render a desk page", "page", name, "err", err)
		http.Error(w, "cannot render the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write([]byte(buf.String()))
}
