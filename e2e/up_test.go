package e2e

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/pipeline/embedded"
)

// TestUpEmbedded runs `prodcast up` as a new user does: no services
// configured, so it embeds miniredis and versitygw, and everything is
// reached through its HTTP routes.
func TestUpEmbedded(t *testing.T) {
	data := filepath.Join(t.TempDir(), "prodcast-data")
	listen := FreeAddr(t)
	url := func(p string) string { return "http://" + listen + p }
	// Production variables from the environment must not leak in.
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT=", "PRODCAST_METRICS_TOKEN=" + MetricsToken}
	up := Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(url("/feed.xml")) == 0 })
	checkEmbeddedRedis(t, data, url)
	for _, p := range []string{"show.yaml", "drop", "done", "failed", "s3"} {
		if _, err := os.Stat(filepath.Join(data, p)); err != nil {
			t.Errorf("up did not create %s: %v", p, err)
		}
	}
	if out := up.Output(); !strings.Contains(out, filepath.Join(data, "drop")) || !strings.Contains(out, url("/feed.xml")) {
		t.Errorf("up does not say where to drop files and where the feed is:\n%s", out)
	}

	staging := t.TempDir()
	good := filepath.Join(staging, "graphql-episode")
	MustSpeechWAV(t, filepath.Join(good, "rec.wav"), 4, 2)
	MustWrite(t, filepath.Join(good, "episode.md"), "---\ntitle: GraphQL and OpenAPI, side by side\nguests: [{name: Lin, role: API lead}]\n---\nWhich one, when.\n")
	bad := filepath.Join(staging, "broken")
	MustWrite(t, filepath.Join(bad, "episode.md"), "---\ntitle: Broken\n---\n")
	MustWrite(t, filepath.Join(bad, "rec.mp3"), "this is not an mp3")
	MoveIn(t, data, good)
	MoveIn(t, data, bad)

	WaitFor(t, 60*time.Second, "the episode in the feed", func() bool { return FeedItems(url("/feed.xml")) == 1 })
	f, err := parseFeedURL(url("/feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	it := f.Items[0]
	checkMedia(t, it.Enclosures[0].URL, it.Enclosures[0].Length, it.Enclosures[0].Type)
	resp, body := Get(t, it.Link)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "GraphQL and OpenAPI, side by side") ||
		!strings.Contains(string(body), "Lin") || !strings.Contains(string(body), "<audio") {
		t.Errorf("episode page %s: %s\n%s", it.Link, resp.Status, body)
	}
	if resp, _ := Get(t, url("/healthz")); resp.StatusCode != 200 {
		t.Errorf("healthz: %s", resp.Status)
	}
	if resp, body := GetMetrics(t, url("/metrics")); resp.StatusCode != 200 || !strings.Contains(string(body), "prodcast_http_requests_total") {
		t.Errorf("metrics: %s", resp.Status)
	}
	if resp, body := Get(t, url("/metrics")); resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "prodcast_") {
		t.Errorf("/metrics without its token: %s; want 401 and no metrics", resp.Status)
	}
	WaitFor(t, 30*time.Second, "the broken bundle in failed/", func() bool {
		_, err := os.Stat(filepath.Join(data, "failed", "broken", "ERROR.txt"))
		return err == nil
	})
	out, err := Run(t, env, "status", "--data", data)
	if err != nil || !strings.Contains(out, "graphql-and-openapi-side-by-side") || !strings.Contains(out, "is a text file, not a recording") {
		t.Errorf("status: %v\n%s", err, out)
	}
	if err := up.Stop(t); err != nil {
		t.Errorf("up did not shut down cleanly on SIGTERM: %v", err)
	}

	// Start again on the same data: the episode is still there, and the
	// GUID has not changed.
	up2 := Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	WaitFor(t, 60*time.Second, "the feed after restart", func() bool { return FeedItems(url("/feed.xml")) == 1 })
	f2, err := parseFeedURL(url("/feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if f2.Items[0].GUID != it.GUID {
		t.Errorf("GUID changed across restart: %q -> %q", it.GUID, f2.Items[0].GUID)
	}
	if err := up2.Stop(t); err != nil {
		t.Errorf("second up did not shut down cleanly: %v", err)
	}
}

// checkEmbeddedRedis: up's embedded Redis listens on loopback only and
// wants the password kept (mode 0600) in the data folder, so another local
// user cannot read a desk session from it; and an anonymous visit to the
// login form stores no session there.
func checkEmbeddedRedis(t *testing.T, data string, url func(string) string) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(data, ".prodcast", "redis-password"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the embedded Redis's password file: %v, mode %v; want mode 0600", err, fi)
	}
	svc, err := embedded.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(svc.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(opt.Addr); host != "127.0.0.1" {
		t.Errorf("the embedded Redis listens on %s; want loopback only", opt.Addr)
	}
	anon := redis.NewClient(&redis.Options{Addr: opt.Addr})
	defer anon.Close()
	if err := anon.Ping(t.Context()).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("PING without the password: %v; want NOAUTH", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	before, _ := rdb.Keys(t.Context(), "prodcast:session:*").Result()
	for range 5 {
		Get(t, url("/admin/login"))
	}
	if after, _ := rdb.Keys(t.Context(), "prodcast:session:*").Result(); len(after) != len(before) {
		t.Errorf("5 anonymous visits to the login form stored %d sessions; want none", len(after)-len(before))
	}
}
