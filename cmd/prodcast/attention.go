package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/s3"
	"github.com/prodcast/prodcast/pipeline/watch"
	"github.com/prodcast/prodcast/workers"
)

// stuckAfter is how long a bundle may sit in processing/ before status
// calls it stuck (an encode of a long recording takes a few minutes).
const stuckAfter = 15 * time.Minute

// statusView is what `prodcast status` could reach.
type statusView struct {
	w        io.Writer
	cfg      Config
	now      time.Time
	rdb      redis.UniversalClient
	insp     *asynq.Inspector
	store    *s3.Store
	redisErr error
	s3Err    error
	shows    []*statusShow
	faults   []workers.Fault // the machine faults the roles recorded
	// summaries: a network's status reads each show's summary, not its
	// manifests.
	summaries bool
}

// connect reaches Redis and S3, each with a timeout, keeping the error of
// the one that does not answer.
func (v *statusView) connect(ctx context.Context) {
	opt, err := v.cfg.redisOpt()
	if err == nil {
		rdb := opt.MakeRedisClient().(redis.UniversalClient)
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = rdb.Ping(pctx).Err()
		cancel()
		if err == nil {
			v.rdb, v.insp = rdb, asynq.NewInspector(opt)
		} else {
			rdb.Close()
		}
	}
	v.redisErr = err
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v.store, v.s3Err = s3.Open(sctx, v.cfg.s3Config())
}

func (v *statusView) close() {
	if v.insp != nil {
		v.insp.Close()
	}
	if v.rdb != nil {
		v.rdb.Close()
	}
}

// printAttention names everything that waits or is stuck, and what to do
// about each: a service down, an orphaned lock, a bundle that has sat in
// processing/ too long, tasks waiting for a service.
func (v *statusView) printAttention(ctx context.Context) {
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	if v.redisErr != nil {
		add("Redis at %s does not answer (%v).\n    The workers and the watcher wait for it and resume by themselves; start it, or check PRODCAST_REDIS_URL.",
			v.cfg.RedisURL, v.redisErr)
	}
	if v.s3Err != nil {
		add("S3 at %s does not answer (%v).\n    The work waits for it and resumes by itself within 30 s of its return; start it, or check PRODCAST_S3_ENDPOINT.",
			v.cfg.S3Endpoint, v.s3Err)
	}
	if v.rdb != nil {
		if since, err := workers.OutageSince(ctx, v.rdb); err == nil && !since.IsZero() {
			add("waiting for S3 since %s (%s): the workers cannot reach it; tasks resume by themselves once it answers.",
				since.Local().Format("15:04:05"), ago(v.now, since))
		}
		v.faults, _ = workers.ListFaults(ctx, v.rdb)
		for _, f := range v.faults {
			add("the %s on %s is waiting for %s since %s (%s): %s", roleName(f.Role), f.Host, f.Waits,
				f.Since.Local().Format("15:04:05"), ago(v.now, f.Since), f.Message)
		}
		lines = append(lines, v.lockLines(ctx)...)
		lines = append(lines, v.waitingTasks()...)
	}
	lines = append(lines, v.bundleLines()...)
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(v.w, "\nWAITING OR STUCK")
	for _, l := range lines {
		fmt.Fprintf(v.w, "  %s\n", l)
	}
}

// lockLines reports a rebuild lock whose holder is not running.
func (v *statusView) lockLines(ctx context.Context) []string {
	var out []string
	for _, show := range v.showNames() {
		key := workers.RebuildLock(show)
		val, err := v.rdb.Get(ctx, key).Result()
		if err != nil {
			continue
		}
		ttl, _ := v.rdb.PTTL(ctx, key).Result()
		h, ok := workers.ParseHolder(val)
		if !ok || v.alive(h) {
			continue
		}
		out = append(out, fmt.Sprintf("the rebuild lock of %s is held by %s:%d, which is not running (orphaned).\n"+
			"    It expires by itself in %s, then the feed catches up; to clear it now: redis-cli -u %s DEL %s",
			showLabel(show), h.Host, h.PID, ttl.Round(time.Second), v.cfg.RedisURL, key))
	}
	return out
}

// alive reports whether a lock's holder still runs: by its process on this
// host, else by the workers registered in Redis.
func (v *statusView) alive(h workers.Holder) bool {
	if host, _ := os.Hostname(); host == h.Host {
		err := syscall.Kill(h.PID, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
	servers, err := v.insp.Servers()
	if err != nil {
		return true // cannot tell
	}
	for _, s := range servers {
		if s.Host == h.Host && s.PID == h.PID {
			return true
		}
	}
	return false
}

// waitingTasks lists the tasks that retry because a service is down.
func (v *statusView) waitingTasks() []string {
	var out []string
	for _, q := range workers.Queues(v.insp) {
		tasks, _ := v.insp.ListRetryTasks(q)
		for _, t := range tasks {
			if !strings.Contains(t.LastErr, "waiting for ") {
				continue
			}
			out = append(out, fmt.Sprintf("task %s (%s) %s; tried %d times, next at %s; it resumes by itself.",
				t.Type, t.ID, waitingFor(t.LastErr), t.Retried, t.NextProcessAt.Local().Format("15:04:05")))
		}
	}
	return out
}

func waitingFor(lastErr string) string {
	i := strings.Index(lastErr, "waiting for ")
	s := lastErr[i:]
	if j := strings.Index(s, ":"); j > 0 {
		s = s[:j]
	}
	return "is " + s
}

// watchFault is a fault of the machine a watcher met, if any.
func (v *statusView) watchFault() *workers.Fault {
	for i, f := range v.faults {
		if f.Role == "watch" {
			return &v.faults[i]
		}
	}
	return nil
}

// roleName says which role met a fault.
func roleName(role string) string {
	return map[string]string{"worker": "worker", "watch": "watcher", "serve": "web server"}[role]
}

// bundleLines reports bundles in processing/ that have waited too long.
func (v *statusView) bundleLines() []string {
	var out []string
	for _, sh := range v.shows {
		where := sh.dir
		for _, c := range watch.InFlight(sh.dir) {
			switch {
			case c.ID == "" && v.watchFault() != nil:
				out = append(out, fmt.Sprintf("bundle %s is in %s but not yet uploaded: the watcher is waiting for %s (see above); it sends it by itself once there is",
					c.Name, filepath.Join(where, "processing"), v.watchFault().Waits))
			case c.ID == "":
				out = append(out, fmt.Sprintf("bundle %s is in %s but not yet uploaded: the watcher sends it; is `prodcast watch` (or `up`) running on %s?",
					c.Name, filepath.Join(where, "processing"), v.cfg.Data))
			case v.now.Sub(c.SentAt) > stuckAfter:
				out = append(out, fmt.Sprintf("bundle %s has been in %s for %s: %s", c.Name, filepath.Join(where, "processing"),
					ago(v.now, c.SentAt), v.taskState(c.ID)))
			}
		}
	}
	return out
}

func (v *statusView) taskState(id string) string {
	if v.insp == nil {
		return "Redis does not answer; it resumes when Redis is back."
	}
	info, err := v.insp.GetTaskInfo(workers.QueueDefault, workers.IngestTaskID(id))
	if err != nil {
		return "it has no task; the watcher sends it again within 15 s (is `prodcast watch` running?)."
	}
	switch info.State {
	case asynq.TaskStateCompleted:
		return "its ingest is done; see its episode below, and the queues for its encode and publish."
	case asynq.TaskStateRetry:
		return fmt.Sprintf("its ingest retries (%d times): %s", info.Retried, info.LastErr)
	default:
		return fmt.Sprintf("its ingest is %s; are the workers running?", info.State)
	}
}

func ago(now, t time.Time) string {
	return now.Sub(t).Round(time.Second).String() + " ago"
}

// printFailures lists the refused bundles (from failed/), the tasks that
// fail for other reasons than an outage, and a refused feed.
func (v *statusView) printFailures(ctx context.Context) error {
	w := v.w
	fmt.Fprintln(w, "\nFAILURES")
	n := 0
	type failedBundle struct{ show, errFile string }
	var dirs []failedBundle
	for _, sh := range v.shows {
		found, _ := filepath.Glob(filepath.Join(sh.dir, "failed", "*", bundle.ErrorFile))
		for _, f := range found {
			dirs = append(dirs, failedBundle{sh.name, f})
		}
	}
	for _, fb := range dirs {
		f := fb.errFile
		text, _ := os.ReadFile(f)
		n++
		of := ""
		if fb.show != "" {
			of = " (show " + fb.show + ")"
		}
		fmt.Fprintf(w, "  bundle %s%s:\n", filepath.Base(filepath.Dir(f)), of)
		for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
			if line != "" && !strings.HasPrefix(line, "bundle id:") && !strings.HasPrefix(line, "at:") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	if v.insp != nil {
		for _, q := range workers.Queues(v.insp) {
			for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){v.insp.ListArchivedTasks, v.insp.ListRetryTasks} {
				tasks, _ := list(q)
				for _, t := range tasks {
					if strings.Contains(t.LastErr, "waiting for ") {
						continue // listed above: an outage, not a failure
					}
					n++
					fmt.Fprintf(w, "  task %s (%s), %d retries: %s\n    to do: fix the cause; the task retries by itself (archived ones are put back by the workers within a minute)\n",
						t.Type, t.ID, t.Retried, t.LastErr)
				}
			}
		}
	}
	for _, sh := range v.shows {
		if sh.cat == nil {
			continue
		}
		if data, err := v.store.Get(ctx, sh.cat.Keys.FeedProblemsKey()); err == nil {
			var ps []feeds.Problem
			if json.Unmarshal(data, &ps) == nil {
				for _, p := range ps {
					n++
					of := ""
					if sh.name != "" {
						of = " (show " + sh.name + ")"
					}
					fmt.Fprintf(w, "  feed refused%s, the last good feed is still served: %s\n", of, p)
				}
			}
		} else if !errors.Is(err, pipeline.ErrNotFound) {
			return err
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  none")
	}
	return nil
}
