package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"github.com/prodcast/prodcast/internal/fetch"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/machine"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// The ffmpeg prodcast needs: its release, and the filters and codecs the
// audio and art stages use.
var (
	ffmpegMin     = 5
	ffmpegFilters = []string{"ebur128", "alimiter", "aresample", "atrim", "asetpts", "aformat", "volume", "lowpass", "amix", "aevalsrc", "scale", "overlay", "split", "format", "color"}
	ffmpegCodecs  = []string{"libmp3lame", "aac", "libopus", "flac", "pcm_s16le", "pcm_f32le", "mjpeg", "png", "libwebp"}
)

// check is one line of doctor: what it checked, what it found, and the
// fix when it failed.
type check struct {
	name, found, fix string
	ok               bool
}

// runDoctor checks the installation as a new operator would want: the
// tools, the folders' room, the services and their round trip, the clock,
// the listen address and the public URL. One line a check; non-zero exit
// if any fails.
func (m *Main) runDoctor(ctx context.Context, args []string) error {
	var checks []check
	add := func(c check) {
		checks = append(checks, c)
		mark := "ok  "
		if !c.ok {
			mark = "FAIL"
		}
		fmt.Fprintf(m.Stdout, "%s  %-14s %s\n", mark, c.name, c.found)
		if !c.ok && c.fix != "" {
			fmt.Fprintf(m.Stdout, "      %-14s fix: %s\n", "", c.fix)
		}
	}
	add(checkFFmpeg(ctx))
	add(checkTool(ctx, "ffprobe"))
	add(checkFolder("data folder", m.Config.Data, "the data folder"))
	add(checkFolder("temp folder", os.TempDir(), "the worker's temp folder (TMPDIR)"))
	embeddedUp := false
	if m.Config.RedisURL == "" || m.Config.S3Endpoint == "" {
		if err := m.resolveServices(); err == nil {
			embeddedUp = true
		}
	}
	add(m.checkRedis(ctx))
	st, s3check := m.checkS3(ctx)
	add(s3check)
	add(m.checkClock(ctx, st))
	add(m.checkListen(ctx, embeddedUp))
	add(m.checkBaseURL(ctx))
	failed := 0
	for _, c := range checks {
		if !c.ok {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed; fix them as each says, then run prodcast doctor again", failed, len(checks))
	}
	fmt.Fprintf(m.Stdout, "all %d checks pass\n", len(checks))
	return nil
}

var ffmpegVersion = regexp.MustCompile(`version n?(\d+)\.(\d+)`)

func checkFFmpeg(ctx context.Context) check {
	c := check{name: "ffmpeg"}
	path, err := exec.LookPath("ffmpeg")
	if err != nil {
		c.found, c.fix = "not found on PATH", "install ffmpeg 5 or newer (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg)"
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-hide_banner", "-version").Output()
	if err != nil {
		c.found, c.fix = fmt.Sprintf("%s does not run: %v", path, err), "install ffmpeg again"
		return c
	}
	version := strings.SplitN(string(out), "\n", 2)[0]
	version, _, _ = strings.Cut(version, " Copyright")
	if mm := ffmpegVersion.FindStringSubmatch(version); mm != nil {
		if major, _ := strconv.Atoi(mm[1]); major < ffmpegMin {
			c.found, c.fix = fmt.Sprintf("%s is %s, older than %d", path, version, ffmpegMin), fmt.Sprintf("install ffmpeg %d or newer", ffmpegMin)
			return c
		}
	}
	var missing []string
	filters, _ := exec.CommandContext(ctx, path, "-hide_banner", "-filters").Output()
	for _, f := range ffmpegFilters {
		if !regexp.MustCompile(`(?m)^\s*\S+\s+` + f + `\s`).Match(filters) {
			missing = append(missing, "filter "+f)
		}
	}
	encoders, _ := exec.CommandContext(ctx, path, "-hide_banner", "-encoders").Output()
	for _, e := range ffmpegCodecs {
		if !regexp.MustCompile(`(?m)^\s*\S+\s+` + e + `\s`).Match(encoders) {
			missing = append(missing, "encoder "+e)
		}
	}
	if len(missing) > 0 {
		c.found, c.fix = fmt.Sprintf("%s lacks %s", path, strings.Join(missing, ", ")), "install a full ffmpeg build (Debian/Ubuntu: sudo apt-get install ffmpeg)"
		return c
	}
	c.ok, c.found = true, fmt.Sprintf("%s (%s) with the filters and encoders prodcast uses", path, strings.TrimPrefix(version, "ffmpeg "))
	return c
}

func checkTool(ctx context.Context, name string) check {
	c := check{name: name}
	path, err := exec.LookPath(name)
	if err != nil {
		c.found, c.fix = "not found on PATH", "install ffmpeg, which brings "+name+" (Debian/Ubuntu: sudo apt-get install ffmpeg)"
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, path, "-hide_banner", "-version").Run(); err != nil {
		c.found, c.fix = fmt.Sprintf("%s does not run: %v", path, err), "install ffmpeg again"
		return c
	}
	c.ok, c.found = true, path
	return c
}

func checkFolder(name, path, what string) check {
	c := check{name: name}
	abs, _ := filepath.Abs(path)
	if err := machine.CheckWritable(abs, what); err != nil {
		c.found = err.Error()
		var me *pipeline.MachineError
		if errors.As(err, &me) {
			c.found, c.fix = machineProblem(me), machineFix(me)
		}
		return c
	}
	free, err := machine.Free(abs)
	if err == nil && free < machine.Margin {
		c.found, c.fix = fmt.Sprintf("%s has only %s free", abs, sizeText(free)), "free space there, or move it to a larger disk"
		return c
	}
	c.ok, c.found = true, fmt.Sprintf("%s is writable, %s free", abs, sizeText(free))
	return c
}

func machineProblem(e *pipeline.MachineError) string {
	d := e.Describe()
	if i := strings.Index(d, "; "); i > 0 {
		return d[:i]
	}
	return d
}

func machineFix(e *pipeline.MachineError) string {
	d := e.Describe()
	if i := strings.Index(d, "; "); i > 0 {
		return strings.TrimSuffix(d[i+2:], "; the work resumes by itself")
	}
	return ""
}

func sizeText(n int64) string {
	switch {
	case n < 0:
		return "an unknown amount"
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	}
	return fmt.Sprintf("%.0f MB", float64(n)/1e6)
}

func (m *Main) checkRedis(ctx context.Context) check {
	c := check{name: "redis"}
	if m.Config.RedisURL == "" {
		c.found, c.fix = "none configured, and no `prodcast up` runs on "+m.Config.Data, "start `prodcast up` (make run), or set PRODCAST_REDIS_URL"
		return c
	}
	opt, err := m.Config.redisOpt()
	if err != nil {
		c.found, c.fix = err.Error(), "fix PRODCAST_REDIS_URL (redis://host:port/db or redis-sentinel://host:port,...?master=NAME)"
		return c
	}
	rdb := opt.MakeRedisClient().(redis.UniversalClient)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := rdb.Ping(ctx).Err(); err != nil {
		c.found, c.fix = fmt.Sprintf("%s does not answer: %v", redactURL(m.Config.RedisURL), err), "start Redis, or check PRODCAST_REDIS_URL and its password"
		return c
	}
	c.ok, c.found = true, fmt.Sprintf("%s answers in %s", redactURL(m.Config.RedisURL), time.Since(start).Round(100*time.Microsecond))
	return c
}

func (m *Main) checkS3(ctx context.Context) (*s3.Store, check) {
	c := check{name: "s3"}
	if m.Config.S3Endpoint == "" {
		c.found, c.fix = "none configured, and no `prodcast up` runs on "+m.Config.Data, "start `prodcast up` (make run), or set PRODCAST_S3_ENDPOINT and its keys"
		return nil, c
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	st, err := s3.Open(ctx, m.Config.s3Config())
	if err != nil {
		c.found, c.fix = err.Error(), "start the S3 server, or check PRODCAST_S3_ENDPOINT, PRODCAST_S3_ACCESS_KEY and PRODCAST_S3_SECRET_KEY"
		return nil, c
	}
	c.ok, c.found = true, fmt.Sprintf("bucket %q at %s answers in %s", m.Config.S3Bucket, m.Config.S3Endpoint, time.Since(start).Round(100*time.Microsecond))
	return st, c
}

func (m *Main) checkClock(ctx context.Context, st *s3.Store) check {
	c := check{name: "clock"}
	if m.Config.S3Endpoint == "" {
		c.found, c.fix = "cannot be compared: no S3 to compare it with", "see the s3 line"
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	off, err := machine.ClockOffset(ctx, endpointURL(m.Config.S3Endpoint))
	if err != nil {
		c.found, c.fix = err.Error(), "see the s3 line"
		return c
	}
	if err := machine.CheckClock(off); err != nil {
		var me *pipeline.MachineError
		errors.As(err, &me)
		c.found, c.fix = me.Problem, strings.TrimSuffix(me.Fix, "; the work resumes by itself")
		return c
	}
	c.ok, c.found = true, fmt.Sprintf("within %s of the storage's (S3 allows %d minutes)", machine.SkewText(off), int(machine.MaxSkew.Minutes()))
	return c
}

// endpointURL is the S3 endpoint as a URL (it may be given as host:port).
func endpointURL(ep string) string {
	if strings.Contains(ep, "://") {
		return ep
	}
	return "http://" + ep
}

func redactURL(u string) string {
	return regexp.MustCompile(`//[^@/]*@`).ReplaceAllString(u, "//***@")
}

// checkListen: the web server's address is free, or a prodcast answers
// there.
func (m *Main) checkListen(ctx context.Context, running bool) check {
	c := check{name: "listen"}
	if ln, err := net.Listen("tcp", m.Config.Listen); err == nil {
		ln.Close()
		c.ok, c.found = true, m.Config.Listen+" is free for the web server"
		return c
	}
	if healthy(ctx, "http://"+m.Config.Listen+"/healthz") {
		c.ok, c.found = true, m.Config.Listen+" is prodcast's web server, which answers"
		return c
	}
	c.found, c.fix = m.Config.Listen+" is taken by another program", "stop it, or give prodcast another --listen (PRODCAST_LISTEN)"
	return c
}

// checkBaseURL: the public URL answers with prodcast's /healthz.
func (m *Main) checkBaseURL(ctx context.Context) check {
	c := check{name: "public url"}
	base := m.Config.BaseURL
	if base == "" {
		if show, err := os.ReadFile(filepath.Join(m.Config.Data, "show.yaml")); err == nil {
			if s, err := parseBaseURL(show); err == nil && s != "" {
				base = s
			}
		}
	}
	if base == "" {
		base = "http://" + m.Config.Listen
	}
	base = strings.TrimRight(base, "/")
	if healthy(ctx, base+"/healthz") {
		c.ok, c.found = true, base+" answers"
		return c
	}
	c.found, c.fix = base+" does not answer with prodcast's /healthz", "start `prodcast serve` (or up) there, or check base_url, the proxy in front and DNS"
	return c
}

// doctorClient asks the configured addresses of prodcast itself.
var doctorClient = fetch.New(fetch.Options{Timeout: 5 * time.Second, MaxBytes: 1 << 20})

// healthy reports whether url answers as prodcast's /healthz does (200 or
// 503 with its JSON: a prodcast that answers, healthy or not).
func healthy(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := doctorClient.Do(req, fetch.Configured)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	return json.NewDecoder(resp.Body).Decode(&body) == nil && body.Status != ""
}

// parseBaseURL reads show.yaml's base_url.
func parseBaseURL(showYAML []byte) (string, error) {
	var s struct {
		BaseURL string `yaml:"base_url"`
	}
	err := yaml.Unmarshal(showYAML, &s)
	return strings.TrimSpace(s.BaseURL), err
}
