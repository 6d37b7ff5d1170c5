package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/web"
)

func TestParseSpan(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"5y": 5 * 365 * 24 * time.Hour, "400d": 400 * 24 * time.Hour, "9000h": 9000 * time.Hour, "1.5y": time.Duration(1.5 * 365 * 24 * float64(time.Hour)),
	} {
		if got, err := parseSpan(in); err != nil || got != want {
			t.Errorf("parseSpan(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "y", "-1y", "soon", "0d"} {
		if _, err := parseSpan(bad); err == nil {
			t.Errorf("parseSpan(%q) took it", bad)
		}
	}
}

func TestConfigMaxScheduleAhead(t *testing.T) {
	c := DefaultConfig()
	c.MaxScheduleAhead = "next year"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--max-schedule-ahead") {
		t.Errorf("a bad span: %v; want the flag named", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:s3cret@127.0.0.1:6379/0":              "redis://***@127.0.0.1:6379/0",
		"redis://127.0.0.1:6379/0":                      "redis://127.0.0.1:6379/0",
		"redis-sentinel://:pw@a:26379,b:26379?master=m": "redis-sentinel://***@a:26379,b:26379?master=m",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseBaseURL(t *testing.T) {
	if got, err := parseBaseURL([]byte("title: x\nbase_url: ' https://pod.example.com '\n")); err != nil || got != "https://pod.example.com" {
		t.Errorf("parseBaseURL = %q, %v", got, err)
	}
	if got, _ := parseBaseURL([]byte("title: x\n")); got != "" {
		t.Errorf("no base_url: %q", got)
	}
}

func TestCheckFolder(t *testing.T) {
	dir := t.TempDir()
	if c := checkFolder("data folder", dir, "the data folder"); !c.ok || !strings.Contains(c.found, "writable") {
		t.Errorf("a writable folder: %+v", c)
	}
	if c := checkFolder("data folder", filepath.Join(dir, "gone"), "the data folder"); c.ok || !strings.Contains(c.found, "does not exist") || c.fix == "" {
		t.Errorf("a missing folder: %+v", c)
	}
}

func TestCheckTool(t *testing.T) {
	if c := checkTool(context.Background(), "no-such-tool-prodcast"); c.ok || !strings.Contains(c.fix, "install ffmpeg") {
		t.Errorf("a missing tool: %+v", c)
	}
}

// TestHealthy: doctor takes prodcast's /healthz (200 or 503 with its
// JSON) for a prodcast that answers, and anything else for another program.
func TestHealthy(t *testing.T) {
	ok := httptest.NewServer(web.Health(nil))
	defer ok.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }))
	defer other.Close()
	if !healthy(context.Background(), ok.URL) {
		t.Error("prodcast's /healthz not taken")
	}
	if healthy(context.Background(), other.URL) {
		t.Error("another program's page taken for prodcast's /healthz")
	}
}

// TestDoctorWithoutServices: with nothing configured and no up running,
// doctor names each missing service and exits non-zero.
func TestDoctorWithoutServices(t *testing.T) {
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Config: DefaultConfig()}
	m.Config.Data = t.TempDir()
	m.Config.Listen = "127.0.0.1:0"
	os.Unsetenv("PRODCAST_REDIS_URL")
	err := m.runDoctor(context.Background(), nil)
	if err == nil || !strings.Contains(out.String(), "FAIL  redis") || !strings.Contains(out.String(), "FAIL  s3") ||
		!strings.Contains(out.String(), "ok    data folder") {
		t.Errorf("doctor without services: %v\n%s", err, out.String())
	}
}
