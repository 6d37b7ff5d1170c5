package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// from returns an HTTP client whose requests come from a loopback address
// of the test's choosing (the whole of 127.0.0.0/8 is local).
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// fetch sends one request and reads the answer whole; rng is a Range
// header value or "". It returns the status and the body's length.
func fetch(t *testing.T, ip, method, url, ua, rng string) (int, int64) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("User-Agent", ua)
	if ua == "" {
		req.Header["User-Agent"] = []string{""}
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := from(ip).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, n
}

// TestListeners replays a script of requests, from several addresses,
// through two serve processes that share one count: apps' User-Agents,
// bots, HEAD, players' 2-byte probes, ranges adding up to more and to less
// than a minute, the same listener twice. `prodcast stats --json` must
// report exactly what the IAB rules count.
func TestListeners(t *testing.T) {
	env := MustShowEnv(t, "")
	Start(t, env.Vars(), "worker")
	Start(t, env.Vars(), "watch")
	serveA := Start(t, append(env.Vars(), "PRODCAST_ADMIN_PASSWORD=charts"), "serve")
	other := FreeAddr(t)
	serveB := Start(t, append(env.Vars(), "PRODCAST_LISTEN="+other), "serve")
	long, short := filepath.Join(t.TempDir(), "long-one"), filepath.Join(t.TempDir(), "short-one")
	MustSpeechWAV(t, filepath.Join(long, "talk.wav"), 150, 1)
	MustWrite(t, filepath.Join(long, "episode.md"), "---\ntitle: A long one\nslug: long-one\n---\n")
	MustSpeechWAV(t, filepath.Join(short, "talk.wav"), 30, 1)
	MustWrite(t, filepath.Join(short, "episode.md"), "---\ntitle: A short one\nslug: short-one\n---\n")
	MoveIn(t, env.Data, long)
	MoveIn(t, env.Data, short)
	WaitFor(t, 90*time.Second, "both episodes in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 2 })
	f := feedOf(t, env.URL("/feed.xml"))
	_, longURL := itemBy(f, "A long one")
	_, shortURL := itemBy(f, "A short one")
	var longSize int64
	var longDur float64
	for _, it := range f.Items {
		if it.Title == "A long one" {
			longSize, _ = strconv.ParseInt(it.Enclosures[0].Length, 10, 64)
			longDur = 150
		}
	}
	minute := int64(60 * float64(longSize) / longDur) // a minute of the long one, give or take the encoder's padding
	onOther := func(u string) string { return "http://" + other + u[len("http://"+env.Listen):] }

	const (
		antennapod = "de.danoeh.antennapod/1.7.3b (Linux;Android 8.0.0) ExoPlayerLib/2.9.3"
		overcast   = "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"
		apple      = "Podcasts/1410.53 CFNetwork/1111 Darwin/19.0.0 (x86_64)"
		pocket     = "Pocket Casts"
		gpodder    = "gPodder/3.10.8 (+http://gpodder.org/) Windows/10"
		bot        = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	)
	steps := []struct {
		ip, method, url, ua, rng string
	}{
		{"127.0.0.2", "GET", longURL, antennapod, ""},                                                       // counts
		{"127.0.0.2", "GET", onOther(longURL), antennapod, ""},                                              // the same listener, other server: no
		{"127.0.0.3", "HEAD", longURL, overcast, ""},                                                        // HEAD: no
		{"127.0.0.3", "GET", longURL, overcast, "bytes=0-1"},                                                // a probe: no
		{"127.0.0.4", "GET", longURL, apple, fmt.Sprintf("bytes=0-%d", minute/2)},                           // half a minute...
		{"127.0.0.4", "GET", onOther(longURL), apple, fmt.Sprintf("bytes=%d-%d", minute/2+1, minute+20000)}, // ...and the rest, elsewhere: counts
		{"127.0.0.5", "GET", longURL, pocket, fmt.Sprintf("bytes=0-%d", minute/2)},                          // less than a minute: no
		{"127.0.0.6", "GET", longURL, bot, ""},                                                              // a bot: no
		{"127.0.0.7", "GET", shortURL, "", ""},                                                              // no User-Agent: a bot
		{"127.0.0.8", "GET", shortURL, gpodder, "bytes=0-1000"},                                             // part of a short file: no...
		{"127.0.0.8", "GET", onOther(shortURL), gpodder, "bytes=1001-"},                                     // ...until the whole of it: counts
		{"127.0.0.9", "GET", shortURL, antennapod, ""},                                                      // counts
		{"127.0.0.9", "GET", shortURL, antennapod, ""},                                                      // again: no
		{"127.0.0.10", "GET", env.URL("/media/nope/x.mp3"), antennapod, ""},                                 // 404: no
	}
	var logged []logLine
	for i, s := range steps {
		code, n := fetch(t, s.ip, s.method, s.url, s.ua, s.rng)
		if code >= 400 && i != len(steps)-1 {
			t.Fatalf("step %d: %s %s answered %d", i+1, s.method, s.url, code)
		}
		logged = append(logged, logLine{ip: s.ip, method: s.method, path: s.url[strings.Index(s.url[len("http://"):], "/")+len("http://"):],
			ua: s.ua, code: code, bytes: n, at: time.Now().UTC()})
	}
	want := map[string]map[string]int64{
		"long-one":  {"AntennaPod": 1, "Apple Podcasts": 1},
		"short-one": {"gPodder": 1, "AntennaPod": 1},
	}
	var got map[string]map[string]int64
	deadline := time.Now().Add(15 * time.Second)
	for {
		got = statsByApp(t, env)
		if cmp.Equal(want, got) || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(time.Second) // and nothing more comes
	if diff := cmp.Diff(want, statsByApp(t, env)); diff != "" {
		t.Errorf("downloads by episode and app (-want +got):\n%s", diff)
	}
	// Each serve counts in Prometheus what it counted (which of the two
	// counted a download depends on which recorded its last bytes first).
	_, ma := GetMetrics(t, env.URL("/metrics"))
	_, mb := GetMetrics(t, "http://"+other+"/metrics")
	if want := `prodcast_downloads_total{app="AntennaPod",episode="long-one",show=""} 1`; !strings.Contains(string(ma)+string(mb), want) {
		t.Errorf("the serves' metrics lack %s", want)
	}

	// The charts, behind the desk's login.
	anon := NewDeskClient(t, env.URL(""))
	if resp, _ := anon.Do("GET", "/admin/stats", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("/admin/stats without a login: %s, want a redirect to the login form", resp.Status)
	}
	desk := NewDeskClient(t, env.URL(""))
	desk.MustLogin("admin", "charts") // PRODCAST_ADMIN_PASSWORD
	resp, page := desk.Do("GET", "/admin/stats", nil)
	for _, want := range []string{"<svg", "4 downloads", "AntennaPod", `class="median"`} {
		if resp.StatusCode != 200 || !strings.Contains(page, want) {
			t.Errorf("/admin/stats: %s, lacks %q", resp.Status, want)
		}
	}

	// The day's counts are in the bucket too: losing Redis loses at most
	// what was counted since the last flush (each minute, and at stop).
	for _, p := range []*Proc{serveA, serveB} {
		if err := p.Stop(t); err != nil {
			t.Fatal(err)
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr, DB: env.DB})
	defer rdb.Close()
	must(t, rdb.FlushDB(t.Context()).Err())
	if diff := cmp.Diff(want, statsByApp(t, env)); diff != "" {
		t.Errorf("after Redis was wiped, from the bucket (-want +got):\n%s", diff)
	}

	// The same traffic, as a CDN's or the bucket's access log tells it,
	// ingested: the same counts; ingested twice: nothing more. A request
	// before the episode's publish time does not count.
	logged = append(logged, logLine{ip: "127.0.0.11", method: "GET", path: longURL[len(env.URL("")):], ua: antennapod,
		code: 200, bytes: longSize, at: time.Now().UTC().Add(-24 * time.Hour)})
	st := env.Store(t)
	for _, format := range []string{"combined", "s3"} {
		t.Run("Ingest/"+format, func(t *testing.T) {
			must(t, rdb.FlushDB(t.Context()).Err())
			must(t, st.DeletePrefix(t.Context(), "private/stats/"))
			file := filepath.Join(t.TempDir(), "access.log")
			var b strings.Builder
			for _, l := range logged {
				b.WriteString(l.format(format, env.Bucket, longSize) + "\n")
			}
			MustWrite(t, file, b.String())
			for i := range 2 {
				out, err := Run(t, env.Vars(), "stats", "ingest", "--format", format, file)
				if err != nil {
					t.Fatalf("stats ingest: %v\n%s", err, out)
				}
				if i == 1 && !strings.Contains(out, "ingested before") {
					t.Errorf("a second ingest of the same file: %s", out)
				}
				if diff := cmp.Diff(want, statsByApp(t, env)); diff != "" {
					t.Errorf("after ingest %d (-want +got):\n%s", i+1, diff)
				}
			}
		})
	}
}

// logLine is one replayed request, to be written as an access log.
type logLine struct {
	ip, method, path, ua string
	code                 int
	bytes                int64
	at                   time.Time
}

func (l logLine) format(format, bucket string, size int64) string {
	ts := l.at.Format("02/Jan/2006:15:04:05 -0700")
	if format == "combined" {
		return fmt.Sprintf("%s - - [%s] \"%s %s HTTP/1.1\" %d %d \"-\" \"%s\"", l.ip, ts, l.method, l.path, l.code, l.bytes, l.ua)
	}
	op := "REST.GET.OBJECT"
	if l.method == "HEAD" {
		op = "REST.HEAD.OBJECT"
	}
	ua := l.ua
	if ua == "" {
		ua = "-"
	}
	return fmt.Sprintf("owner %s [%s] %s - REQ %s public%s \"%s /%s/public%s HTTP/1.1\" %d - %d %d 10 5 \"-\" \"%s\" -",
		bucket, ts, l.ip, op, l.path, l.method, bucket, l.path, l.code, l.bytes, size, ua)
}

func statsByApp(t *testing.T, env *Env) map[string]map[string]int64 {
	t.Helper()
	return statsByAppVars(t, env.Vars())
}

// statsByAppVars is statsByApp of the roles configured by vars.
func statsByAppVars(t *testing.T, vars []string) map[string]map[string]int64 {
	t.Helper()
	out, err := Run(t, vars, "stats", "--json")
	if err != nil {
		t.Fatalf("stats --json: %v\n%s", err, out)
	}
	var s struct {
		Episodes []struct {
			Slug      string           `json:"slug"`
			Downloads int64            `json:"downloads"`
			ByApp     map[string]int64 `json:"by_app"`
			ByDay     map[string]int64 `json:"by_day"`
		} `json:"episodes"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("stats --json: %v\n%s", err, out)
	}
	got := map[string]map[string]int64{}
	for _, e := range s.Episodes {
		if e.Downloads > 0 {
			got[e.Slug] = e.ByApp
		}
	}
	return got
}
