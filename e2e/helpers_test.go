package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/prodcast/prodcast/pipeline/s3"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "prodcast-e2e-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "prodcast")
	out, err := exec.Command("go", "build", "-o", binary, "../cmd/prodcast").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot build prodcast: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Services are the real Redis and MinIO that scripts/test.sh started.
type Services struct {
	RedisAddr  string
	S3Endpoint string
	AccessKey  string
	SecretKey  string
}

// MustServices returns the test services, or fails with how to get them.
func MustServices(tb testing.TB) Services {
	tb.Helper()
	s := Services{
		RedisAddr:  os.Getenv("PRODCAST_TEST_REDIS_ADDR"),
		S3Endpoint: os.Getenv("PRODCAST_TEST_S3_ENDPOINT"),
		AccessKey:  os.Getenv("PRODCAST_TEST_S3_ACCESS_KEY"),
		SecretKey:  os.Getenv("PRODCAST_TEST_S3_SECRET_KEY"),
	}
	if s.RedisAddr == "" || s.S3Endpoint == "" {
		tb.Fatal("PRODCAST_TEST_REDIS_ADDR and PRODCAST_TEST_S3_ENDPOINT are not set: run `make test`, " +
			"which starts redis-server and MinIO on ports of their own")
	}
	return s
}

var redisDB atomic.Int32

// Env is one test's share of the services: its own Redis DB and bucket,
// its own data folder, and its own temporary folder (TMPDIR) for the
// processes it starts.
type Env struct {
	Services
	DB     int
	Bucket string
	Data   string
	Listen string
	Tmp    string
}

// MustEnv gives a test its own Redis DB, bucket and data folder.
func MustEnv(tb testing.TB) *Env {
	tb.Helper()
	s := MustServices(tb)
	db := int(redisDB.Add(1))
	if db > 63 {
		tb.Fatal("more than 63 tests want a Redis DB; raise --databases in scripts/test.sh")
	}
	b := make([]byte, 4)
	rand.Read(b)
	return &Env{Services: s, DB: db, Bucket: "t-" + hex.EncodeToString(b), Data: tb.TempDir(), Listen: FreeAddr(tb), Tmp: tb.TempDir()}
}

// Vars is the environment of a production role in this Env.
func (e *Env) Vars() []string {
	return []string{
		fmt.Sprintf("PRODCAST_REDIS_URL=redis://%s/%d", e.RedisAddr, e.DB),
		"PRODCAST_S3_ENDPOINT=" + e.S3Endpoint,
		"PRODCAST_S3_ACCESS_KEY=" + e.AccessKey,
		"PRODCAST_S3_SECRET_KEY=" + e.SecretKey,
		"PRODCAST_S3_BUCKET=" + e.Bucket,
		"PRODCAST_BASE_URL=http://" + e.Listen,
		"PRODCAST_DATA=" + e.Data,
		"PRODCAST_LISTEN=" + e.Listen,
		"PRODCAST_SETTLE=1s",
		"PRODCAST_METRICS_TOKEN=" + MetricsToken,
		// The tests' "remote" feeds and media are on loopback servers.
		"PRODCAST_ALLOW_PRIVATE_FETCH=1",
		"TMPDIR=" + e.Tmp,
	}
}

// Store opens the test's bucket directly, to check what prodcast stored.
func (e *Env) Store(tb testing.TB) *s3.Store {
	tb.Helper()
	st, err := s3.Open(context.Background(), s3.Config{Endpoint: e.S3Endpoint, AccessKey: e.AccessKey,
		SecretKey: e.SecretKey, Bucket: e.Bucket, Region: "us-east-1"})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// URL is a URL on the test's web server.
func (e *Env) URL(path string) string { return "http://" + e.Listen + path }

// FreeAddr returns a loopback address nothing listens on.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Proc is a running prodcast process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (p *Proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output is everything the process printed so far.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// PID is the process's ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Kill kills the process with SIGKILL, as the OOM killer or a power cut
// would, and waits for it.
func (p *Proc) Kill(tb testing.TB) {
	tb.Helper()
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		tb.Fatalf("%s did not die of SIGKILL", p.Name)
	}
}

// Stop sends SIGTERM and waits for the exit status.
func (p *Proc) Stop(tb testing.TB) error {
	tb.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(45 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 45s of SIGTERM", p.Name)
	}
}

// Start runs `prodcast args...` with env, stopped when the test ends.
func Start(tb testing.TB, env []string, args ...string) *Proc {
	tb.Helper()
	p := &Proc{Name: strings.Join(args, " "), done: make(chan error, 1)}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	tb.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.Stop(tb)
		}
		if tb.Failed() {
			tb.Logf("output of prodcast %s:\n%s", p.Name, p.Output())
		}
	})
	return p
}

// Run runs `prodcast args...` to the end and returns its output.
func Run(tb testing.TB, env []string, args ...string) (string, error) {
	tb.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// WaitFor polls cond until it holds or timeout passes.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// MustFFmpeg runs ffmpeg with args, for making test audio.
func MustFFmpeg(tb testing.TB, args ...string) {
	tb.Helper()
	os.MkdirAll(filepath.Dir(args[len(args)-1]), 0o755)
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// MustSpeechWAV writes seconds of speech-like audio (pink noise shaped by a
// slow tremolo, with a tone) as a WAV.
func MustSpeechWAV(tb testing.TB, path string, seconds int, channels int) {
	tb.Helper()
	MustFFmpeg(tb, "-f", "lavfi", "-i", fmt.Sprintf("anoisesrc=color=pink:amplitude=0.3:d=%d", seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=f=220:d=%d", seconds),
		"-filter_complex", "[0][1]amix=inputs=2,tremolo=f=3:d=0.7", "-ac", fmt.Sprint(channels), "-ar", "44100", path)
}

// MustWrite writes a file, making its folder.
func MustWrite(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TreeHashes maps every file under dir to its SHA-256.
func TreeHashes(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			out[rel] = "link to " + target
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Entries lists the names in dir.
func Entries(dir string) []string {
	es, _ := os.ReadDir(dir)
	var out []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// Get fetches a URL and returns the response and body.
// MetricsToken opens /metrics on the roles the tests start.
const MetricsToken = "e2e-metrics-token"

// GetMetrics reads a serve's /metrics with its token.
func GetMetrics(tb testing.TB, url string) (*http.Response, []byte) {
	tb.Helper()
	return Get(tb, url, "Authorization", "Bearer "+MetricsToken)
}

func Get(tb testing.TB, url string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}

// MoveIn moves a bundle made elsewhere into drop/ in one rename, as a
// producer's file manager would after copying it next to the folder.
func MoveIn(tb testing.TB, data, src string) {
	tb.Helper()
	if err := os.Rename(src, filepath.Join(data, "drop", filepath.Base(src))); err != nil {
		tb.Fatal(err)
	}
}

// TryGet fetches a URL for a WaitFor condition: status 0 if nothing answers.
func TryGet(url string) (int, []byte) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// FeedItems counts the items of the feed at url, -1 if it cannot be read.
func FeedItems(url string) int {
	code, body := TryGet(url)
	if code != 200 {
		return -1
	}
	f, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		return -1
	}
	return len(f.Items)
}

func parseFeedURL(url string) (*gofeed.Feed, error) {
	code, body := TryGet(url)
	if code != 200 {
		return nil, fmt.Errorf("GET %s: %d", url, code)
	}
	return gofeed.NewParser().ParseString(string(body))
}

// MustShowEnv is MustEnv with show.yaml (the test show plus extraYAML) and
// an empty drop/ in the data folder.
func MustShowEnv(tb testing.TB, extraYAML string) *Env {
	tb.Helper()
	env := MustEnv(tb)
	MustWrite(tb, filepath.Join(env.Data, "show.yaml"), testShowYAML+extraYAML)
	if err := os.MkdirAll(filepath.Join(env.Data, "drop"), 0o755); err != nil {
		tb.Fatal(err)
	}
	return env
}

// Roles are the three production roles of one Env, as separate processes.
type Roles struct{ Worker, Watch, Serve *Proc }

// StartRoles starts a worker, a watcher and a web server on env.
func StartRoles(tb testing.TB, env *Env) Roles {
	tb.Helper()
	return Roles{Worker: Start(tb, env.Vars(), "worker"), Watch: Start(tb, env.Vars(), "watch"), Serve: Start(tb, env.Vars(), "serve")}
}
