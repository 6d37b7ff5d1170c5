package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/workers"
)

// The fault tests run in a short form in `make test` and in a longer form
// in `make chaos` (PRODCAST_CHAOS=long): more bundles, more kills, longer
// outages.
func chaosLong() bool { return os.Getenv("PRODCAST_CHAOS") == "long" }

// pick returns short, or long under `make chaos`.
func pick[T any](short, long T) T {
	if chaosLong() {
		return long
	}
	return short
}

// MustBacklog writes n small bundles into a staging folder and returns
// their paths, to be moved into drop/ at once.
func MustBacklog(tb testing.TB, n int, prefix string) []string {
	tb.Helper()
	staging := tb.TempDir()
	var out []string
	for i := range n {
		dir := filepath.Join(staging, fmt.Sprintf("%s-%02d", prefix, i))
		MustFFmpeg(tb, "-f", "lavfi", "-i", fmt.Sprintf("sine=f=%d:d=20", 200+15*i), "-ac", "1", filepath.Join(dir, "talk.flac"))
		MustWrite(tb, filepath.Join(dir, "episode.md"), fmt.Sprintf("---\ntitle: %s episode %d on async Python\nepisode: %d\n---\nNotes %d.\n", prefix, i, i+1, i))
		MustWrite(tb, filepath.Join(dir, "chapters.txt"), "00:00:00 Hello\n00:00:01 Async\n")
		MustWrite(tb, filepath.Join(dir, "transcript.vtt"), "WEBVTT\n\n00:00.000 --> 00:02.000\n<v Jo>Hello and welcome.\n\n00:10.000 --> 00:19.000\n<v Ada>Thanks.\n")
		out = append(out, dir)
	}
	return out
}

// WaitPublishedOnce waits until every one of n bundles is in done/ and the
// feed has n items with n GUIDs, and checks that nothing is left over.
func WaitPublishedOnce(tb testing.TB, data, feedURL string, n int, timeout time.Duration) {
	tb.Helper()
	WaitFor(tb, timeout, fmt.Sprintf("%d bundles in done/ and %d items in the feed", n, n), func() bool {
		return len(Entries(filepath.Join(data, "done"))) == n && FeedItems(feedURL) == n
	})
	f, err := parseFeedURL(feedURL)
	if err != nil {
		tb.Fatal(err)
	}
	guids := map[string]bool{}
	for _, it := range f.Items {
		guids[it.GUID] = true
	}
	if len(guids) != n {
		tb.Errorf("the feed has %d items but %d GUIDs", len(f.Items), len(guids))
	}
	if left := Entries(filepath.Join(data, "processing")); len(left) > 0 {
		tb.Errorf("left in processing/: %v", left)
	}
	if failed := Entries(filepath.Join(data, "failed")); len(failed) > 0 {
		tb.Errorf("good bundles in failed/: %v", failed)
	}
}

// TestFaultKillUp kills `prodcast up` with SIGKILL at random moments while
// it works through a backlog, and starts it again each time on the same
// data folder: the embedded Redis loses its queue at every kill. Every
// bundle must be published exactly once, with no step by hand.
func TestFaultKillUp(t *testing.T) {
	data := filepath.Join(t.TempDir(), "prodcast-data")
	listen := FreeAddr(t)
	feedURL := "http://" + listen + "/feed.xml"
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT=", "TMPDIR=" + t.TempDir()}
	args := []string{"up", "--data", data, "--listen", listen, "--settle", "1s"}
	up := Start(t, env, args...)
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(feedURL) == 0 })
	poller := StartPoller(t, feedURL, 300*time.Millisecond)

	n, kills := pick(6, 16), pick(3, 10)
	for _, dir := range MustBacklog(t, n, "kill") {
		MoveIn(t, data, dir)
	}
	WaitFor(t, 60*time.Second, "a first bundle handed to the workers", func() bool {
		return strings.Contains(up.Output(), "bundle sent to the workers")
	})
	for i := range kills {
		time.Sleep(time.Duration(rand.IntN(4000)) * time.Millisecond)
		up.Kill(t)
		t.Logf("kill %d: %d in done/, %d in processing/", i+1, len(Entries(filepath.Join(data, "done"))), len(Entries(filepath.Join(data, "processing"))))
		up = Start(t, env, args...)
		WaitFor(t, 60*time.Second, "up to start again", func() bool { return strings.Contains(up.Output(), "worker running") })
	}
	WaitPublishedOnce(t, data, feedURL, n, 3*time.Minute)
	poller.Stop()
	poller.Check(t)
}

// TestFaultKillWorkerHoldingLock kills a worker with SIGKILL while it holds
// the rebuild lock. The lock must die with it: the feed catches up with
// the catalog within a minute of the kill, and `prodcast status` names the
// orphaned lock meanwhile.
func TestFaultKillWorkerHoldingLock(t *testing.T) {
	env := MustShowEnv(t, "")
	Start(t, env.Vars(), "watch")
	Start(t, env.Vars(), "serve")
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr, DB: env.DB})
	defer rdb.Close()
	feedURL := env.URL("/feed.xml")
	poller := StartPoller(t, feedURL, 300*time.Millisecond)

	var killedAt time.Time
	bundles := MustBacklog(t, 5, "lock")
	for i, dir := range bundles {
		// The only worker: the rebuild after this bundle is its own.
		victim := Start(t, env.Vars(), "worker")
		WaitFor(t, 60*time.Second, "the worker's first rebuild", func() bool {
			return strings.Contains(victim.Output(), "feed and pages rebuilt")
		})
		MoveIn(t, env.Data, dir)
		holder, ok := awaitHolder(t, rdb, victim.PID(), 60*time.Second)
		victim.Kill(t)
		if v, _ := rdb.Get(context.Background(), workers.RebuildLockKey).Result(); !ok || v != holder {
			t.Logf("attempt %d: the rebuild finished before the kill landed", i+1)
			continue
		}
		killedAt = time.Now()
		out, err := Run(t, env.Vars(), "status")
		if err != nil || !strings.Contains(out, "orphaned") || !strings.Contains(out, workers.RebuildLockKey) {
			t.Errorf("status does not name the orphaned lock (%v):\n%s", err, out)
		}
		Start(t, env.Vars(), "worker")
		want := i + 1
		WaitFor(t, time.Minute, fmt.Sprintf("the feed to catch up with %d episodes within a minute of the kill", want), func() bool {
			return FeedItems(feedURL) == want
		})
		t.Logf("attempt %d: the feed caught up %.1fs after the kill", i+1, time.Since(killedAt).Seconds())
		for _, rest := range bundles[i+1:] {
			MoveIn(t, env.Data, rest)
		}
		WaitPublishedOnce(t, env.Data, feedURL, len(bundles), 2*time.Minute)
		break
	}
	if killedAt.IsZero() {
		t.Fatal("no kill landed while a worker held the rebuild lock; the test proved nothing")
	}
	poller.Stop()
	poller.Check(t)
}

// awaitHolder waits until the worker pid holds the rebuild lock and returns
// the lock's value.
func awaitHolder(tb testing.TB, rdb *redis.Client, pid int, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		v, err := rdb.Get(context.Background(), workers.RebuildLockKey).Result()
		if err == nil {
			if h, ok := workers.ParseHolder(v); ok && h.PID == pid {
				return v, true
			}
		}
		time.Sleep(time.Millisecond)
	}
	return "", false
}

// TestFaultRedisFlushed wipes Redis (FLUSHDB, as a failover to an empty
// replica would) right after the bundles were handed to the workers. All
// must be published, with no restart.
func TestFaultRedisFlushed(t *testing.T) {
	env := MustShowEnv(t, "")
	roles := StartRoles(t, env)
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr, DB: env.DB})
	defer rdb.Close()
	feedURL := env.URL("/feed.xml")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(feedURL) == 0 })
	poller := StartPoller(t, feedURL, 300*time.Millisecond)

	n := pick(8, 20)
	for _, dir := range MustBacklog(t, n, "flush") {
		MoveIn(t, env.Data, dir)
	}
	WaitFor(t, 60*time.Second, "every bundle handed to the workers", func() bool {
		return strings.Count(roles.Watch.Output(), "bundle sent to the workers") >= n
	})
	for i := range pick(1, 4) {
		if err := rdb.FlushDB(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		t.Logf("flush %d: %d in done/", i+1, len(Entries(filepath.Join(env.Data, "done"))))
		time.Sleep(time.Duration(rand.IntN(4000)) * time.Millisecond)
	}
	WaitPublishedOnce(t, env.Data, feedURL, n, 3*time.Minute)
	poller.Stop()
	poller.Check(t)
}

// MinIO is a MinIO server of the test's own, which the test can stop and
// start again on the same port and folder.
type MinIO struct {
	bin, dir, addr string
	cmd            *exec.Cmd
}

// MustMinIO starts a MinIO server for one test.
func MustMinIO(tb testing.TB) *MinIO {
	tb.Helper()
	bin := os.Getenv("PRODCAST_TEST_MINIO")
	if bin == "" {
		tb.Fatal("PRODCAST_TEST_MINIO is not set: run `make test`, which builds MinIO (scripts/minio.sh)")
	}
	m := &MinIO{bin: bin, dir: tb.TempDir(), addr: FreeAddr(tb)}
	m.Start(tb)
	tb.Cleanup(func() { m.Stop() })
	return m
}

// Start runs the server and waits until it answers.
func (m *MinIO) Start(tb testing.TB) {
	tb.Helper()
	m.cmd = exec.Command(m.bin, "server", "--quiet", "--address", m.addr, "--console-address", "127.0.0.1:0", m.dir)
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=faulttest", "MINIO_ROOT_PASSWORD=faulttestsecret")
	if err := m.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	WaitFor(tb, 30*time.Second, "MinIO to answer", func() bool {
		code, _ := TryGet("http://" + m.addr + "/minio/health/ready")
		return code == 200
	})
}

// Stop kills the server.
func (m *MinIO) Stop() {
	if m.cmd != nil && m.cmd.ProcessState == nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
	}
}

// TestFaultS3Down stops MinIO in the middle of a backlog, for a while, and
// starts it again. Every bundle must be published once it is back (goal:
// within 2 minutes), nothing may land in failed/, and the poller must never
// see the feed name a missing object.
func TestFaultS3Down(t *testing.T) {
	for _, outage := range pick([]time.Duration{20 * time.Second}, []time.Duration{60 * time.Second, 5 * time.Minute}) {
		t.Run(outage.String(), func(t *testing.T) {
			minio := MustMinIO(t)
			env := MustShowEnv(t, "")
			env.S3Endpoint, env.AccessKey, env.SecretKey = "http://"+minio.addr, "faulttest", "faulttestsecret"
			roles := StartRoles(t, env)
			feedURL := env.URL("/feed.xml")
			WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(feedURL) == 0 })
			poller := StartPoller(t, feedURL, 300*time.Millisecond)

			n := pick(6, 12)
			for _, dir := range MustBacklog(t, n, "outage") {
				MoveIn(t, env.Data, dir)
			}
			WaitFor(t, 60*time.Second, "a first bundle handed to the workers", func() bool {
				return strings.Contains(roles.Watch.Output(), "bundle sent to the workers")
			})
			minio.Stop()
			inFeed := FeedItems(feedURL)
			t.Logf("MinIO stopped with %d of %d in done/, %d published", len(Entries(filepath.Join(env.Data, "done"))), n,
				strings.Count(roles.Worker.Output(), "episode published"))
			if inFeed == n {
				t.Fatal("every episode was published before the outage; the test proves nothing")
			}
			time.Sleep(outage / 2)
			out, err := Run(t, env.Vars(), "status")
			if err != nil || !strings.Contains(out, "S3") || !strings.Contains(out, "does not answer") {
				t.Errorf("status during the outage does not say S3 is down (%v):\n%s", err, out)
			}
			time.Sleep(outage - outage/2)
			minio.Start(t)
			back := time.Now()
			WaitPublishedOnce(t, env.Data, feedURL, n, 3*time.Minute)
			t.Logf("all published %.1fs after MinIO came back", time.Since(back).Seconds())
			if d := time.Since(back); d > 2*time.Minute {
				t.Errorf("publishing took %s after S3 came back; the goal is 2 minutes", d)
			}
			insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: env.RedisAddr, DB: env.DB})
			defer insp.Close()
			for _, q := range []string{workers.QueueDefault, workers.QueueSite} {
				if info, err := insp.GetQueueInfo(q); err == nil && info.Archived > 0 {
					t.Errorf("queue %s: %d tasks archived during the outage", q, info.Archived)
				}
			}
			_ = roles
			poller.Stop()
			poller.Check(t)
		})
	}
}

// TestFaultArchivedTaskRevived archives a bundle's task, as an outage did
// under a release that gave up after a few retries, with no watcher left to
// send it again: a worker's reconciler must put it back in the queue.
func TestFaultArchivedTaskRevived(t *testing.T) {
	env := MustShowEnv(t, "")
	watch := Start(t, env.Vars(), "watch")
	Start(t, env.Vars(), "serve")
	MoveIn(t, env.Data, MustBacklog(t, 1, "archived")[0])
	WaitFor(t, 60*time.Second, "the bundle handed over", func() bool {
		return strings.Contains(watch.Output(), "bundle sent to the workers")
	})
	if err := watch.Stop(t); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: env.RedisAddr, DB: env.DB})
	defer insp.Close()
	pending, err := insp.ListPendingTasks(workers.QueueDefault)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending tasks: %v %v", pending, err)
	}
	if err := insp.ArchiveTask(workers.QueueDefault, pending[0].ID); err != nil {
		t.Fatal(err)
	}
	worker := Start(t, env.Vars(), "worker")
	WaitFor(t, 90*time.Second, "the episode published", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	if !strings.Contains(worker.Output(), "task archived after an outage put back in the queue") {
		t.Errorf("the worker did not say it revived the task:\n%s", worker.Output())
	}
}
