package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline/embedded"
)

// Tmpfs is a small tmpfs a test mounts to fill a disk on purpose.
type Tmpfs struct{ Dir string }

// MustTmpfs mounts a tmpfs of size (as mount takes it: 8m) at a new
// folder; it is unmounted at the end of the test. Mounting needs root (or
// sudo without a password); a machine without either fails the test,
// saying so.
func MustTmpfs(tb testing.TB, size string) *Tmpfs {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "tmpfs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	fs := &Tmpfs{Dir: dir}
	if out, err := mountCmd("-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		tb.Fatalf("cannot mount a %s tmpfs at %s to fill a disk (the test needs root, or sudo without a password): %v\n%s", size, dir, err, out)
	}
	tb.Cleanup(func() { mountCmd("-l", dir).Run() })
	return fs
}

// mountCmd runs mount (or umount, for "-l DIR"), through sudo -n when the
// test is not root.
func mountCmd(args ...string) *exec.Cmd {
	name := "mount"
	if args[0] == "-l" {
		name = "umount"
	}
	if os.Geteuid() != 0 {
		return exec.Command("sudo", append([]string{"-n", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// Resize gives the tmpfs a new size: room again.
func (fs *Tmpfs) Resize(tb testing.TB, size string) {
	tb.Helper()
	if out, err := mountCmd("-o", "remount,size="+size, fs.Dir).CombinedOutput(); err != nil {
		tb.Fatalf("cannot resize the tmpfs: %v\n%s", err, out)
	}
}

// healthz reads a /healthz: its status and the problems it names.
func healthz(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var body struct {
		Status   string `json:"status"`
		Problems []struct {
			Check, Message string
		} `json:"problems"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		tb.Errorf("%s is not JSON: %v", url, err)
	}
	var msgs []string
	for _, p := range body.Problems {
		msgs = append(msgs, p.Check+": "+p.Message)
	}
	return resp.StatusCode, strings.Join(msgs, "; ")
}

// TestMachineTempFull: the worker's temp folder (TMPDIR) is an 8 MB disk
// and the recording needs more. Status, the log and the worker's /healthz
// name the full disk and its path, never S3 or the watcher; nothing goes to
// failed/; and the episode publishes by itself once there is room.
func TestMachineTempFull(t *testing.T) {
	tmp := MustTmpfs(t, "8m")
	env := MustShowEnv(t, "")
	health := FreeAddr(t)
	Start(t, append(env.Vars(), "TMPDIR="+tmp.Dir, "PRODCAST_METRICS_LISTEN="+health), "worker")
	Start(t, env.Vars(), "watch")
	Start(t, env.Vars(), "serve")
	dir := filepath.Join(t.TempDir(), "big-one")
	MustSpeechWAV(t, filepath.Join(dir, "talk.wav"), 240, 1) // 21 MB
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: A recording larger than the temp folder\n---\nNotes.\n")
	MoveIn(t, env.Data, dir)

	var out string
	WaitFor(t, 90*time.Second, "status to name the full temp folder", func() bool {
		out, _ = Run(t, env.Vars(), "status")
		return strings.Contains(out, "waiting for room on "+tmp.Dir)
	})
	for _, blame := range []string{"waiting for S3", "is `prodcast watch` (or `up`) running"} {
		if strings.Contains(out, blame) {
			t.Errorf("status blames %q while the temp folder is full:\n%s", blame, out)
		}
	}
	if !strings.Contains(out, "TMPDIR") || !strings.Contains(out, "free") {
		t.Errorf("status does not say which folder it is and how much is free:\n%s", out)
	}
	code, problems := healthz(t, "http://"+health+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(problems, tmp.Dir) {
		t.Errorf("the worker's /healthz with its temp folder full: %d %q; want 503 naming %s", code, problems, tmp.Dir)
	}
	if left := Entries(filepath.Join(env.Data, "failed")); len(left) > 0 {
		t.Errorf("in failed/: %v", left)
	}

	tmp.Resize(t, "300m")
	WaitFor(t, 2*time.Minute, "the episode published once there is room", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	WaitFor(t, 60*time.Second, "the worker's /healthz healthy again", func() bool {
		code, _ := healthz(t, "http://"+health+"/healthz")
		return code == http.StatusOK
	})
	if left := Entries(filepath.Join(env.Data, "failed")); len(left) > 0 {
		t.Errorf("in failed/: %v", left)
	}
}

// TestMachineDataFull: `up`'s data folder, which holds its embedded S3,
// is a 40 MB disk. A recording that fits into drop/ but not into the
// bucket beside it waits: status, the log and /healthz name the full disk
// and its path (not S3, not the watcher), nothing goes to failed/, and it
// publishes by itself once there is room.
func TestMachineDataFull(t *testing.T) {
	fs := MustTmpfs(t, "40m")
	data := filepath.Join(fs.Dir, "prodcast-data")
	listen := FreeAddr(t)
	base := "http://" + listen
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT="}
	up := Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(base+"/feed.xml") == 0 })
	staging := t.TempDir()
	MustSpeechWAV(t, filepath.Join(staging, "talk.wav"), 240, 1) // 21 MB: fits once, not twice
	dir := filepath.Join(data, "drop", "too-big")
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: A recording that fills the data folder\n---\nNotes.\n")
	if out, err := exec.Command("cp", filepath.Join(staging, "talk.wav"), dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}

	var out string
	WaitFor(t, 90*time.Second, "status to name the full data folder", func() bool {
		out, _ = Run(t, env, "status", "--data", data)
		return strings.Contains(out, "waiting for room on "+filepath.Join(data, "s3"))
	})
	for _, blame := range []string{"waiting for S3", "is `prodcast watch` (or `up`) running"} {
		if strings.Contains(out, blame) {
			t.Errorf("status blames %q while the data folder is full:\n%s", blame, out)
		}
	}
	if !strings.Contains(up.Output(), "no space left on "+filepath.Join(data, "s3")) {
		t.Errorf("the log does not name the full disk:\n%s", up.Output())
	}
	if code, problems := healthz(t, base+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(problems, data) {
		t.Errorf("/healthz with the data folder full: %d %q; want 503 naming it", code, problems)
	}
	fs.Resize(t, "300m")
	WaitFor(t, 2*time.Minute, "the episode published once there is room", func() bool { return FeedItems(base+"/feed.xml") == 1 })
	if left := Entries(filepath.Join(data, "failed")); len(left) > 0 {
		t.Errorf("in failed/: %v", left)
	}
}

// TestMachineCutShortCopy: a bundle copied into drop/ while the disk
// fills ends cut short ("No space left on device") and then stops
// changing; the watcher does not take it while the disk is full, and once
// there is room refuses it to failed/ saying the disk was full, rather
// than publishing half a recording.
func TestMachineCutShortCopy(t *testing.T) {
	fs := MustTmpfs(t, "12m")
	env := MustEnv(t)
	env.Data = filepath.Join(fs.Dir, "data")
	MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML)
	must(t, os.MkdirAll(filepath.Join(env.Data, "drop"), 0o755))
	roles := StartRoles(t, env)
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 0 })
	staging := t.TempDir()
	MustSpeechWAV(t, filepath.Join(staging, "talk.wav"), 240, 1) // 21 MB into 12
	dir := filepath.Join(env.Data, "drop", "cut-short")
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: Cut short\n---\n")
	if out, err := exec.Command("cp", filepath.Join(staging, "talk.wav"), dir).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "No space left") {
		t.Fatalf("cp into a 12 MB disk: %v %s; want it to fail for lack of space", err, out)
	}
	WaitFor(t, 30*time.Second, "the watcher to hold the bundle back", func() bool {
		return strings.Contains(roles.Watch.Output(), "not taken: it may be cut short")
	})
	if out, _ := Run(t, env.Vars(), "status"); !strings.Contains(out, "waiting for room on "+env.Data) {
		t.Errorf("status does not name the full data folder:\n%s", out)
	}
	fs.Resize(t, "300m")
	WaitFor(t, 60*time.Second, "the cut-short bundle in failed/", func() bool {
		b, err := os.ReadFile(filepath.Join(env.Data, "failed", "cut-short", "ERROR.txt"))
		return err == nil && strings.Contains(string(b), "was full while")
	})
	if n := FeedItems(env.URL("/feed.xml")); n != 0 {
		t.Errorf("the feed has %d items; the cut-short recording must not be published", n)
	}
}

// TestDoctor: `prodcast doctor` beside a running `up` passes every check;
// without ffmpeg on PATH, with a read-only data folder, or with a clock
// off the storage's, it names the problem and its fix and exits non-zero.
func TestDoctor(t *testing.T) {
	data := filepath.Join(t.TempDir(), "prodcast-data")
	listen := FreeAddr(t)
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT="}
	Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems("http://"+listen+"/feed.xml") == 0 })
	out, err := Run(t, env, "doctor", "--data", data, "--listen", listen)
	if err != nil || strings.Contains(out, "FAIL") || !strings.Contains(out, "all 9 checks pass") {
		t.Errorf("doctor beside a running up: %v\n%s", err, out)
	}

	t.Run("ErrNoFFmpeg", func(t *testing.T) {
		out, err := Run(t, append(env, "PATH=/nonexistent"), "doctor", "--data", data, "--listen", listen)
		if err == nil || !strings.Contains(out, "FAIL  ffmpeg") || !strings.Contains(out, "apt-get install ffmpeg") {
			t.Errorf("doctor without ffmpeg: %v\n%s", err, out)
		}
	})
	t.Run("ErrReadOnlyData", func(t *testing.T) {
		ro := filepath.Join(t.TempDir(), "ro")
		must(t, os.MkdirAll(ro, 0o755))
		if out, err := mountCmd("-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro).CombinedOutput(); err != nil {
			t.Fatalf("cannot mount a read-only folder (needs root or sudo): %v\n%s", err, out)
		}
		defer mountCmd("-l", ro).Run()
		out, err := Run(t, env, "doctor", "--data", ro, "--listen", FreeAddr(t))
		if err == nil || !strings.Contains(out, "FAIL  data folder") || !strings.Contains(out, "read-only") {
			t.Errorf("doctor on a read-only data folder: %v\n%s", err, out)
		}
	})
	t.Run("ErrClockSkew", func(t *testing.T) {
		// A skewed clock cannot be set for one process here (faketime does
		// not reach Go's clock), so the storage's answers are made to come
		// from a clock 20 minutes ahead: a proxy in front of the real
		// embedded S3 rewrites their Date.
		creds := embeddedCreds(t, data)
		target, _ := url.Parse(creds.S3Endpoint)
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ModifyResponse = func(r *http.Response) error {
			r.Header.Set("Date", time.Now().Add(20*time.Minute).UTC().Format(http.TimeFormat))
			return nil
		}
		skewed := httptest.NewServer(rp)
		defer skewed.Close()
		vars := []string{"PRODCAST_REDIS_URL=" + creds.RedisURL, "PRODCAST_S3_ENDPOINT=" + skewed.URL,
			"PRODCAST_S3_ACCESS_KEY=" + creds.AccessKey, "PRODCAST_S3_SECRET_KEY=" + creds.SecretKey}
		out, err := Run(t, vars, "doctor", "--data", data, "--listen", listen)
		if err == nil || !strings.Contains(out, "FAIL  clock") || !strings.Contains(out, "20 minutes behind the storage's") ||
			!strings.Contains(out, "NTP") {
			t.Errorf("doctor with the storage's clock 20 minutes ahead: %v\n%s", err, out)
		}
	})
}

// embeddedCreds reads what the `up` on data recorded of its services.
func embeddedCreds(t *testing.T, data string) *embedded.Services {
	t.Helper()
	svc, err := embedded.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
