package desk

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
)

// Session keys.
const (
	sessUser = "user"
	sessCSRF = "csrf"
	sessNote = "note" // a one-time message for the next page
)

// The limits of the login form.
const (
	loginTries  = 10               // failed logins per address, and per account, in a window
	loginWindow = 15 * time.Minute //
)

// newSessions returns the session manager: sessions live in Redis when
// there is one, so every serve process knows them, else in this process.
func newSessions(rdb redis.UniversalClient, secure bool) *scs.SessionManager {
	sm := scs.New()
	if rdb != nil {
		sm.Store = &redisSessions{client: rdb, prefix: "prodcast:session:"}
	}
	sm.Lifetime = 12 * time.Hour
	sm.IdleTimeout = 2 * time.Hour
	sm.Cookie.Name = "prodcast_desk"
	sm.Cookie.Path = "/"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Persist = false
	return sm
}

// redisSessions is scs's Store over go-redis, the client the rest of
// prodcast uses.
type redisSessions struct {
	client redis.UniversalClient
	prefix string
}

func (s *redisSessions) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *redisSessions) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *redisSessions) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

func (s *redisSessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	b, err := s.client.Get(ctx, s.prefix+token).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (s *redisSessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return s.client.Set(ctx, s.prefix+token, b, time.Until(expiry)).Err()
}

func (s *redisSessions) DeleteCtx(ctx context.Context, token string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return s.client.Del(ctx, s.prefix+token).Err()
}

var _ scs.CtxStore = (*redisSessions)(nil)

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfToken returns the session's CSRF token, making one if needed.
func (d *Desk) csrfToken(r *http.Request) string {
	tok := d.sessions.GetString(r.Context(), sessCSRF)
	if tok == "" {
		tok = randomToken()
		d.sessions.Put(r.Context(), sessCSRF, tok)
	}
	return tok
}

// checkCSRF refuses a state-changing request whose token (the form field
// csrf_token or the header X-CSRF-Token) is not the session's.
func (d *Desk) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		want := d.sessions.GetString(r.Context(), sessCSRF)
		got := r.Header.Get("X-CSRF-Token")
		if got == "" && strings.HasPrefix(r.URL.Path, queuesPath) {
			// asynqmon's axios sends the XSRF-TOKEN cookie back as this
			// header; see queues.
			got = r.Header.Get("X-XSRF-TOKEN")
		}
		if got == "" && !strings.HasPrefix(r.URL.Path, uploadsPath) {
			got = r.PostFormValue("csrf_token")
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			d.fail(w, r, http.StatusForbidden, "This form has expired or did not come from the desk (its CSRF token is missing or wrong). Go back, reload the page and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// queuesPath is where the queue dashboard (asynqmon) is.
const queuesPath = "/admin/queues/"

// queues serves asynqmon. Its script (axios) sends the cookie XSRF-TOKEN
// back as the header X-XSRF-TOKEN on its own requests, so the session's
// CSRF token is handed to it that way: the dashboard's buttons (pause a
// queue, delete a task) pass the same check as the desk's forms.
func (d *Desk) queues(mon http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			http.SetCookie(w, &http.Cookie{Name: "XSRF-TOKEN", Value: d.csrfToken(r), Path: queuesPath,
				SameSite: http.SameSiteStrictMode, Secure: d.sessions.Cookie.Secure})
		}
		mon.ServeHTTP(w, r)
	})
}

// requireUser lets a request through only with a logged-in session. Pages
// redirect to the login form; the upload endpoint and scripts get 401.
func (d *Desk) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.sessions.GetString(r.Context(), sessUser) != "" {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, uploadsPath) && !strings.HasSuffix(r.URL.Path, ".json") {
			http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "log in at /admin/login first", http.StatusUnauthorized)
	})
}

type loginPage struct {
	page
	Next, Username, Error string
}

func (d *Desk) loginForm(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, "login", &loginPage{page: d.page(r, "Log in"), Next: safeNext(r.URL.Query().Get("next"))})
}

// login checks the form. Failures are counted per address and per
// account; past loginTries in loginWindow, the form answers 429 until the
// window ends. A success starts a new session (a new id and CSRF token).
func (d *Desk) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	ip := d.clientIP(r)
	if len(name) > 64 {
		name = name[:64] // no account has a longer name; it keys the limit below
	}
	for _, key := range []string{"login:ip:" + ip, "login:user:" + name} {
		n, err := d.limits.Count(ctx, key)
		if err != nil {
			d.fail(w, r, http.StatusServiceUnavailable, "The desk cannot check logins right now (Redis is unreachable); try again in a minute.")
			return
		}
		if n >= loginTries {
			w.Header().Set("Retry-After", fmt.Sprint(int(loginWindow.Seconds())))
			d.render(w, r, http.StatusTooManyRequests, "login", &loginPage{page: d.page(r, "Log in"), Username: name,
				Error: fmt.Sprintf("Too many failed logins from here or for this account. Wait %d minutes and try again.", int(loginWindow.Minutes()))})
			return
		}
	}
	ok, err := d.verify(name, password)
	if err != nil {
		d.cfg.Log.Error("cannot check a login", "err", err)
	}
	if !ok {
		for _, key := range []string{"login:ip:" + ip, "login:user:" + name} {
			d.limits.Allow(ctx, key, loginTries, loginWindow)
		}
		d.cfg.Log.Warn("failed login", "user", name, "ip", ip)
		d.render(w, r, http.StatusUnauthorized, "login", &loginPage{page: d.page(r, "Log in"), Username: name,
			Next: safeNext(r.PostFormValue("next")), Error: "That user name and password do not match an account of the desk."})
		return
	}
	d.limits.Reset(ctx, "login:user:"+name)
	if err := d.sessions.RenewToken(ctx); err != nil {
		d.fail(w, r, http.StatusInternalServerError, "cannot start a session: "+err.Error())
		return
	}
	d.sessions.Put(ctx, sessUser, name)
	d.sessions.Put(ctx, sessCSRF, randomToken())
	d.cfg.Log.Info("logged in", "user", name, "ip", ip)
	next := safeNext(r.PostFormValue("next"))
	if next == "" {
		next = "/admin/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Desk) verify(name, password string) (bool, error) {
	if d.cfg.LegacyPassword != "" && name == "admin" &&
		subtle.ConstantTimeCompare([]byte(password), []byte(d.cfg.LegacyPassword)) == 1 {
		return true, nil
	}
	return d.users.Verify(name, password)
}

func (d *Desk) logout(w http.ResponseWriter, r *http.Request) {
	if err := d.sessions.Destroy(r.Context()); err != nil {
		d.fail(w, r, http.StatusInternalServerError, "cannot end the session: "+err.Error())
		return
	}
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// safeNext keeps a redirect after login inside the desk.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, "/admin/login") {
		return ""
	}
	return next
}
