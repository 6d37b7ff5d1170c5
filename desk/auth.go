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
	loginTries   = 10               // failed logins per address (IPv6: per /64) in a window
	accountTries = 5                // failed logins per account from one address in a window
	loginWindow  = 15 * time.Minute //
	loginWait    = 10 * time.Second // the longest a login waits for a password check's slot
)

// loginChecks is how many passwords are checked at once: each argon2id
// check takes 64 MiB (and already runs on every core), so this bounds the
// memory of any flood of logins.
const loginChecks = 1

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

// loginCSRFCookie carries the login form's CSRF token: the form's field
// must match it (a double-submit cookie), so that an anonymous visit to
// the form stores no session.
const loginCSRFCookie = "prodcast_login"

func (d *Desk) loginForm(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, "login", &loginPage{page: d.loginPageFor(w, r), Next: safeNext(r.URL.Query().Get("next"))})
}

// loginPageFor is the page of the login form: its CSRF token is the login
// cookie's, set here when the visitor has none.
func (d *Desk) loginPageFor(w http.ResponseWriter, r *http.Request) page {
	tok := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) == 43 {
		tok = c.Value
	} else {
		tok = randomToken()
		http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/admin/login", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: d.sessions.Cookie.Secure, MaxAge: int((12 * time.Hour).Seconds())})
	}
	return page{Title: "Log in", CSRF: tok}
}

// checkLoginCSRF refuses a login whose form token is not its cookie's.
func (d *Desk) checkLoginCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(loginCSRFCookie)
		got := r.PostFormValue("csrf_token")
		if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
			d.fail(w, r, http.StatusForbidden, "This login form has expired or did not come from the desk (its CSRF token is missing or wrong). Go back, reload the page and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// login checks the form. Each attempt takes its slot in the limits before
// the password is checked, so that concurrent attempts cannot overtake
// the count: loginTries failures per address (per /64 for IPv6) and
// accountTries per account from one address in loginWindow; a success
// gives its slots back. An account is locked only for the addresses that
// failed on it, so an attacker cannot lock its owner out. At most
// loginChecks passwords are checked at once (each check takes 64 MiB);
// the rest wait, then get 429.
func (d *Desk) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	ip := d.clientIP(r)
	if len(name) > 64 {
		name = name[:64] // no account has a longer name; it keys the limit below
	}
	from := LimitKey(d.cfg.ClientIP(r))
	keys := []string{"login:ip:" + from, "login:user:" + name + ":" + from}
	limits := []int{loginTries, accountTries}
	for i, key := range keys {
		ok, retry, err := d.limits.Allow(ctx, key, limits[i], loginWindow)
		if err != nil {
			d.fail(w, r, http.StatusServiceUnavailable, "The desk cannot check logins right now (Redis is unreachable); try again in a minute.")
			return
		}
		if !ok {
			d.tooMany(w, r, name, retry)
			return
		}
	}
	ok, err := d.checkPassword(ctx, name, password)
	if errors.Is(err, errBusy) {
		for _, key := range keys {
			d.limits.Release(ctx, key)
		}
		w.Header().Set("Retry-After", "5")
		d.render(w, r, http.StatusTooManyRequests, "login", &loginPage{page: d.loginPageFor(w, r), Username: name,
			Next: safeNext(r.PostFormValue("next")), Error: "The desk is checking many logins right now. Try again in a few seconds."})
		return
	}
	if err != nil {
		d.cfg.Log.Error("cannot check a login", "err", err)
	}
	if !ok {
		d.cfg.Log.Warn("failed login", "user", name, "ip", ip)
		d.render(w, r, http.StatusUnauthorized, "login", &loginPage{page: d.loginPageFor(w, r), Username: name,
			Next: safeNext(r.PostFormValue("next")), Error: "That user name and password do not match an account of the desk."})
		return
	}
	for _, key := range keys {
		d.limits.Release(ctx, key)
	}
	d.limits.Reset(ctx, keys[1])
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

func (d *Desk) tooMany(w http.ResponseWriter, r *http.Request, name string, retry time.Duration) {
	mins := max(1, int((retry+time.Minute-1)/time.Minute))
	w.Header().Set("Retry-After", fmt.Sprint(max(1, int(retry.Seconds()))))
	d.render(w, r, http.StatusTooManyRequests, "login", &loginPage{page: d.loginPageFor(w, r), Username: name,
		Next:  safeNext(r.PostFormValue("next")),
		Error: fmt.Sprintf("Too many failed logins from here. Wait %d minutes and try again.", mins)})
}

// errBusy says that every password check is taken and none freed in time.
var errBusy = errors.New("too many logins at once")

// checkPassword verifies a password once a check's slot is free, waiting
// at most loginWait for one.
func (d *Desk) checkPassword(ctx context.Context, name, password string) (bool, error) {
	t := time.NewTimer(loginWait)
	defer t.Stop()
	select {
	case d.checks <- struct{}{}:
	case <-t.C:
		return false, errBusy
	case <-ctx.Done():
		return false, errBusy
	}
	defer func() { <-d.checks }()
	return d.verify(name, password)
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
