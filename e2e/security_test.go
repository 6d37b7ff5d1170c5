package e2e

import (
	"bufio"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/embedded"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// TestSecurityOnUp tries `prodcast up` as an attacker on loopback would
// (each 127.0.0.x is an address of its own): 50 concurrent wrong logins
// from one address, a flood of pitches, the owner logging in from her own
// address during the attack, and the headers of its pages.
func TestSecurityOnUp(t *testing.T) {
	data := filepath.Join(t.TempDir(), "prodcast-data")
	listen := FreeAddr(t)
	base := "http://" + listen
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT="}
	if out, err := RunInput(t, env, "correct horse battery\n", "user", "add", "ana", "--data", data); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	up := Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(base+"/feed.xml") == 0 })
	WaitFor(t, 30*time.Second, "the pitch form", func() bool { code, _ := TryGet(base + "/pitch/"); return code == 200 })

	rss := func() int {
		f, err := os.Open("/proc/" + strconv.Itoa(up.PID()) + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				return kb >> 10
			}
		}
		return 0
	}
	before := rss()

	// 50 wrong logins at once from one address.
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := loginAs(t, "127.0.0.5", base, "user"+strconv.Itoa(i), "wrong guess")
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[http.StatusUnauthorized] > 10 || codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != 50 {
		t.Errorf("50 concurrent wrong logins from one address: %v; want at most 10 checked (401), the rest 429", codes)
	}
	if grew := rss() - before; grew > 300 {
		t.Errorf("up's peak memory grew by %d MB under 50 concurrent logins; want under 300 MB", grew)
	}
	t.Logf("50 concurrent logins: %v; up's peak RSS %d MB -> %d MB", codes, before, rss())

	// An attacker hammers ana's account; ana logs in from her address.
	stop := make(chan struct{})
	var attack sync.WaitGroup
	for range 3 {
		attack.Add(1)
		go func() {
			defer attack.Done()
			for {
				select {
				case <-stop:
					return
				default:
					loginAs(t, "127.0.0.6", base, "ana", "guess")
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	owner := loginAs(t, "127.0.0.7", base, "ana", "correct horse battery")
	close(stop)
	attack.Wait()
	if owner != http.StatusSeeOther {
		t.Errorf("the owner's right password from her own address during an attack on her account: %d, want 303", owner)
	}

	// 50 pitches at once from one address: at most the hour's limit stored.
	pitch := url.Values{"name": {"Mallory"}, "email": {"m@example.com"}, "story": {"A story about async Python in production."},
		"consent": {"yes"}}
	codes = map[int]int{}
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := from("127.0.0.8").PostForm(base+"/pitch/", pitch)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	emb := EmbeddedStore(t, data)
	objs, err := emb.List(t.Context(), catalog.RootPrivate+"pitches/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) > 5 || codes[http.StatusOK] != len(objs) {
		t.Errorf("50 concurrent pitches from one address: %d stored, answers %v; want at most 5", len(objs), codes)
	}

	// The headers of the public pages and of the desk.
	for _, p := range []string{"/", "/feed.xml", "/pitch/", "/admin/login"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors") || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: CSP %q, nosniff %q, Referrer-Policy %q", p, h.Get("Content-Security-Policy"),
				h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS under an http public URL", p)
		}
	}
}

var loginToken = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// loginAs logs in from the address ip with a client of its own and
// returns the status of the POST.
func loginAs(t *testing.T, ip, base, name, password string) int {
	jar, _ := cookiejar.New(nil)
	c := from(ip)
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(base + "/admin/login")
	if err != nil {
		t.Error(err)
		return 0
	}
	var body strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		body.WriteString(sc.Text())
	}
	resp.Body.Close()
	m := loginToken.FindStringSubmatch(body.String())
	if m == nil {
		t.Error("the login form has no CSRF token")
		return 0
	}
	resp, err = c.PostForm(base+"/admin/login", url.Values{"username": {name}, "password": {password}, "csrf_token": {m[1]}})
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// EmbeddedStore opens the bucket of the `up` running on data.
func EmbeddedStore(t *testing.T, data string) *s3.Store {
	t.Helper()
	svc, err := embedded.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s3.Open(t.Context(), s3.Config{Endpoint: svc.S3Endpoint, AccessKey: svc.AccessKey, SecretKey: svc.SecretKey,
		Bucket: "prodcast", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
