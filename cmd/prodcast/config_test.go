package main

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/workers"
)

// TestValidate: each bad setting is refused naming its flag and the form
// it takes; good ones are read.
func TestValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		tweak func(*Config)
		want  string
	}{
		"Listen":         {func(c *Config) { c.Listen = "8080" }, "--listen"},
		"BaseURL":        {func(c *Config) { c.BaseURL = "ftp://x" }, "--base-url"},
		"Settle":         {func(c *Config) { c.Settle = -time.Second }, "--settle"},
		"SplitOver":      {func(c *Config) { c.SplitOver = time.Minute }, "--split-over"},
		"Concurrency":    {func(c *Config) { c.Concurrency = 0 }, "--concurrency"},
		"S3Keys":         {func(c *Config) { c.S3Endpoint = "http://minio:9000" }, "PRODCAST_S3_ACCESS_KEY"},
		"Bucket":         {func(c *Config) { c.S3Bucket = "" }, "--s3-bucket"},
		"UploadMaxSize":  {func(c *Config) { c.UploadMaxSize = "big" }, "--upload-max-size"},
		"MediaCacheSize": {func(c *Config) { c.MediaCacheDir, c.MediaCacheSize = "/x", "0" }, "--media-cache-size"},
		"TrustedProxies": {func(c *Config) { c.TrustedProxies = "10.0.0.0/8, nonsense" }, "--trusted-proxies"},
	} {
		t.Run("Err"+name, func(t *testing.T) {
			c := DefaultConfig()
			tc.tweak(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v; want an error naming %s", err, tc.want)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		c := DefaultConfig()
		c.BaseURL, c.TrustedProxies, c.UploadMaxSize = "https://pod.example.com/", "10.0.0.0/8,127.0.0.1/32", "500MB"
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.BaseURL != "https://pod.example.com" || len(c.trustedProxies) != 2 || c.uploadMaxSize != 500e6 {
			t.Errorf("read %+v", c)
		}
	})
}

func TestFromEnvAndFlags(t *testing.T) {
	t.Setenv("PRODCAST_S3_BUCKET", "from-env")
	t.Setenv("PRODCAST_CONCURRENCY", "3")
	t.Setenv("PRODCAST_SETTLE", "2s")
	c := DefaultConfig()
	if err := c.FromEnv(); err != nil {
		t.Fatal(err)
	}
	if c.S3Bucket != "from-env" || c.Concurrency != 3 || c.Settle != 2*time.Second {
		t.Errorf("from the environment: %+v", c)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.Flags(fs, "s3-bucket", "concurrency")
	if err := fs.Parse([]string{"--s3-bucket", "from-flag", "--concurrency", "4"}); err != nil {
		t.Fatal(err)
	}
	if c.S3Bucket != "from-flag" || c.Concurrency != 4 {
		t.Errorf("flags win: %+v", c)
	}
	t.Setenv("PRODCAST_CONCURRENCY", "many")
	if err := func() error { c := DefaultConfig(); return c.FromEnv() }(); err == nil || !strings.Contains(err.Error(), "PRODCAST_CONCURRENCY") {
		t.Errorf("a bad number: %v", err)
	}
}

func TestRequireServices(t *testing.T) {
	c := DefaultConfig()
	if err := c.requireServices(true, true); err == nil || !strings.Contains(err.Error(), "PRODCAST_REDIS_URL") {
		t.Errorf("no Redis: %v", err)
	}
	c.RedisURL = "redis://127.0.0.1:6379/0"
	if err := c.requireServices(true, true); err == nil || !strings.Contains(err.Error(), "PRODCAST_S3_ENDPOINT") {
		t.Errorf("no S3: %v", err)
	}
	c.RedisURL = "rediss:/broken url"
	if _, err := c.redisOpt(); err == nil || !strings.Contains(err.Error(), "PRODCAST_REDIS_URL") {
		t.Errorf("a bad Redis URL: %v", err)
	}
}

func TestWaitingFor(t *testing.T) {
	for last, want := range map[string]string{
		"cannot download x: waiting for S3: dial tcp: refused":                "is waiting for S3",
		"waiting for room on /tmp: no space left on /tmp (TMPDIR): 8 MB free": "is waiting for room on /tmp",
	} {
		if got := waitingFor(last); got != want {
			t.Errorf("waitingFor(%q) = %q, want %q", last, got, want)
		}
	}
	v := &statusView{faults: []workers.Fault{{Role: "worker", Waits: "room on /tmp"}, {Role: "watch", Waits: "room on /data"}}}
	if f := v.watchFault(); f == nil || f.Waits != "room on /data" {
		t.Errorf("watchFault = %+v", f)
	}
	if roleName("watch") != "watcher" || roleName("worker") != "worker" {
		t.Error("roleName")
	}
}
