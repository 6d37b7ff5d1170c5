package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisProc is a redis-server (or sentinel) this test started.
type redisProc struct {
	addr string
	cmd  *exec.Cmd
	log  string
}

// startRedis runs redis-server on a loopback port of its own with args;
// it is killed at the end of the test.
func startRedis(tb testing.TB, dir, name string, args ...string) *redisProc {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatal("redis-server is missing: install it (Debian: apt-get install redis-server)")
	}
	addr := FreeAddr(tb)
	_, port, _ := net.SplitHostPort(addr)
	p := &redisProc{addr: addr, log: filepath.Join(dir, name+".log")}
	logf, err := os.Create(p.log)
	if err != nil {
		tb.Fatal(err)
	}
	p.cmd = exec.Command("redis-server", append(args, "--port", port, "--bind", "127.0.0.1", "--dir", dir)...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait(); logf.Close() })
	WaitFor(tb, 10*time.Second, name+" listening", func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

// TestFaultSentinelFailover runs the production roles on a Redis master, a
// replica and three Sentinels (PRODCAST_REDIS_URL=redis-sentinel://...),
// and kills the master with SIGKILL in the middle of a backlog. The
// replica is promoted with no role restarted; every bundle is published
// once; the desk's session, the listener counts and the rebuild notices
// (pub/sub: serve's kept feed follows the publishes) carry on.
func TestFaultSentinelFailover(t *testing.T) {
	dir := t.TempDir()
	master := startRedis(t, dir, "master", "--save", "", "--appendonly", "no")
	mdir := filepath.Join(dir, "replica")
	must(t, os.MkdirAll(mdir, 0o755))
	_, mport, _ := net.SplitHostPort(master.addr)
	replica := startRedis(t, mdir, "replica", "--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", mport)
	var sentinels []string
	for i := range 3 {
		sdir := filepath.Join(dir, fmt.Sprintf("sentinel%d", i))
		must(t, os.MkdirAll(sdir, 0o755))
		conf := filepath.Join(sdir, "sentinel.conf")
		MustWrite(t, conf, fmt.Sprintf("sentinel monitor prodcast 127.0.0.1 %s 2\nsentinel down-after-milliseconds prodcast 1000\n"+
			"sentinel failover-timeout prodcast 5000\nsentinel parallel-syncs prodcast 1\n", mport))
		s := startRedis(t, sdir, fmt.Sprintf("sentinel%d", i), conf, "--sentinel")
		sentinels = append(sentinels, s.addr)
	}
	rc := redis.NewClient(&redis.Options{Addr: replica.addr})
	defer rc.Close()
	WaitFor(t, 20*time.Second, "the replica in sync", func() bool {
		info, err := rc.Info(t.Context(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0]})
	defer sc.Close()
	WaitFor(t, 20*time.Second, "the sentinels to see each other and the replica", func() bool {
		ss, err1 := sc.Sentinels(t.Context(), "prodcast").Result()
		rs, err2 := sc.Replicas(t.Context(), "prodcast").Result()
		return err1 == nil && err2 == nil && len(ss) == 2 && len(rs) == 1
	})

	env := MustShowEnv(t, "")
	url := "PRODCAST_REDIS_URL=redis-sentinel://" + strings.Join(sentinels, ",") + "?master=prodcast"
	vars := append(env.Vars(), url)
	if out, err := RunInput(t, vars, "correct horse battery\n", "user", "add", "ana"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	worker := Start(t, vars, "worker")
	Start(t, vars, "watch")
	serve := Start(t, vars, "serve")
	WaitFor(t, 30*time.Second, "serve", func() bool { return FeedItems(env.URL("/feed.xml")) >= 0 })

	// Before the kill: a session in the desk, a download counted.
	desk := NewDeskClient(t, "http://"+env.Listen)
	desk.MustLogin("ana", "correct horse battery")
	first := MustBacklog(t, 1, "before")
	MoveIn(t, env.Data, first[0])
	WaitFor(t, 60*time.Second, "the first episode in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	f := feedOf(t, env.URL("/feed.xml"))
	if code, _ := fetch(t, "127.0.0.2", "GET", f.Items[0].Enclosures[0].URL, "de.danoeh.antennapod/1.7.3b (Linux;Android 8.0.0) ExoPlayerLib/2.9.3", ""); code != 200 {
		t.Fatalf("download: %d", code)
	}
	WaitFor(t, 20*time.Second, "the download counted", func() bool { return totalDownloads(t, vars) == 1 })

	n := pick(4, 10)
	bundles := MustBacklog(t, n, "failover")
	for _, b := range bundles {
		MoveIn(t, env.Data, b)
	}
	// Kill the master once the workers are at it.
	WaitFor(t, 60*time.Second, "the backlog under way", func() bool {
		return strings.Count(worker.Output(), "episode encoded") >= 2 || FeedItems(env.URL("/feed.xml")) >= 2
	})
	killed := time.Now()
	must(t, master.cmd.Process.Kill())
	WaitFor(t, 30*time.Second, "the replica promoted", func() bool {
		info, err := rc.Info(t.Context(), "replication").Result()
		return err == nil && strings.Contains(info, "role:master")
	})
	t.Logf("replica promoted %.1f s after the kill", time.Since(killed).Seconds())
	WaitPublishedOnce(t, env.Data, env.URL("/feed.xml"), n+1, pick(3*time.Minute, 5*time.Minute))
	t.Logf("all %d bundles published %.1f s after the kill", n+1, time.Since(killed).Seconds())

	// The session, the count and the notices came through.
	if resp, body := desk.Do("GET", "/admin/", nil); resp.StatusCode != 200 || !strings.Contains(body, "Log out") {
		t.Errorf("the desk's session after the failover: %s", resp.Status)
	}
	if got := totalDownloads(t, vars); got != 1 {
		t.Errorf("downloads after the failover: %d, want 1", got)
	}
	before := FeedItems(env.URL("/feed.xml"))
	last := MustBacklog(t, 1, "after")
	MoveIn(t, env.Data, last[0])
	WaitFor(t, 60*time.Second, "a bundle published after the failover in serve's feed", func() bool {
		return FeedItems(env.URL("/feed.xml")) == before+1
	})
	for _, p := range []*Proc{worker, serve} {
		if strings.Contains(p.Output(), "level=ERROR") && strings.Contains(p.Output(), "panic") {
			t.Errorf("a role panicked:\n%s", p.Output())
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sentinel0", "sentinel0.log")); err == nil {
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			if strings.Contains(sc.Text(), "+switch-master") {
				t.Logf("sentinel: %s", sc.Text())
			}
		}
	}
}

// totalDownloads is the sum of `prodcast stats --json`'s downloads.
func totalDownloads(t *testing.T, vars []string) int64 {
	t.Helper()
	var n int64
	for _, apps := range statsByAppVars(t, vars) {
		for _, c := range apps {
			n += c
		}
	}
	return n
}
