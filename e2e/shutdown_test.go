package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline/catalog"
)

// ffmpegEncodes lists the running ffmpeg encodes (they alone report
// progress on fd 3) that are children of the process pid: this test's
// worker, not whatever else the machine runs.
func ffmpegEncodes(pid int) string {
	out, _ := exec.Command("pgrep", "-a", "-P", strconv.Itoa(pid), "-f", "ffmpeg.*-progress pipe:3").Output()
	return strings.TrimSpace(string(out))
}

// TestShutdownMidEncode stops a worker in the middle of a long encode: its
// ffmpeg must die, no media object may appear, and the next worker must
// finish the episode from the queue.
func TestShutdownMidEncode(t *testing.T) {
	env := MustEnv(t)
	MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML)
	os.MkdirAll(filepath.Join(env.Data, "drop"), 0o755)
	vars := append(env.Vars(), "PRODCAST_SHUTDOWN_TIMEOUT=1s")
	worker := Start(t, vars, "worker")
	Start(t, vars, "watch")
	Start(t, vars, "serve")

	dir := filepath.Join(t.TempDir(), "long-talk")
	MustSpeechWAV(t, filepath.Join(dir, "talk.wav"), 15*60, 2)
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: A long talk on OAuth 2.0\n---\nLong.\n")
	MoveIn(t, env.Data, dir)
	WaitFor(t, 120*time.Second, "the encode to start", func() bool { return ffmpegEncodes(worker.PID()) != "" })
	time.Sleep(time.Second)
	tmps, _ := filepath.Glob(filepath.Join(env.Tmp, "prodcast-encode-*"))
	if len(tmps) == 0 {
		t.Fatal("no temporary encode folder while encoding; the test cannot check its removal")
	}

	start := time.Now()
	if err := worker.Stop(t); err != nil {
		t.Fatalf("worker did not stop cleanly: %v", err)
	}
	t.Logf("worker stopped %.1fs after SIGTERM", time.Since(start).Seconds())
	if out, _ := exec.Command("pgrep", "-a", "-f", "ffmpeg.*"+regexp.QuoteMeta(env.Tmp)).Output(); len(out) > 0 {
		t.Errorf("ffmpeg still runs after the worker stopped:\n%s", out)
	}
	for _, d := range tmps {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("temporary encode folder %s left behind", d)
		}
	}
	st := env.Store(t)
	if objs, err := st.List(t.Context(), catalog.Layout{}.MediaPrefix()+"a-long-talk-on-oauth-2-0/"); err != nil || len(objs) != 0 {
		t.Errorf("media objects after a cancelled encode: %v %v", objs, err)
	}
	if strings.Contains(worker.Output(), "episode encoded") {
		t.Fatal("the encode finished before the worker was stopped; the test proves nothing")
	}

	Start(t, vars, "worker")
	WaitFor(t, 180*time.Second, "the episode published by the next worker", func() bool {
		return FeedItems(env.URL("/feed.xml")) == 1
	})
}
