package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Config is every setting of every role. It starts as DefaultConfig, then
// the environment (PRODCAST_*), then flags of the same names, then Validate.
type Config struct {
	Data          string        // PRODCAST_DATA, --data
	Listen        string        // PRODCAST_LISTEN, --listen
	BaseURL       string        // PRODCAST_BASE_URL, --base-url
	RedisURL      string        // PRODCAST_REDIS_URL, --redis-url
	S3Endpoint    string        // PRODCAST_S3_ENDPOINT, --s3-endpoint
	S3AccessKey   string        // PRODCAST_S3_ACCESS_KEY, --s3-access-key
	S3SecretKey   string        // PRODCAST_S3_SECRET_KEY, --s3-secret-key
	S3Bucket      string        // PRODCAST_S3_BUCKET, --s3-bucket
	S3Region      string        // PRODCAST_S3_REGION, --s3-region
	Settle        time.Duration // PRODCAST_SETTLE, --settle
	Concurrency   int           // PRODCAST_CONCURRENCY, --concurrency
	AdminPassword string        // PRODCAST_ADMIN_PASSWORD, --admin-password
	LogLevel      string        // PRODCAST_LOG_LEVEL, --log-level
	MetricsListen string        // PRODCAST_METRICS_LISTEN, --metrics-listen: every role
	MetricsToken  string        // PRODCAST_METRICS_TOKEN, --metrics-token: serve, up
	Show          string        // PRODCAST_SHOW, --show: the show a command acts on
	// TrustedProxies is PRODCAST_TRUSTED_PROXIES, --trusted-proxies: the
	// CIDRs of the proxies whose X-Forwarded-For serve believes.
	TrustedProxies string
	// UploadMaxSize is PRODCAST_UPLOAD_MAX_SIZE, --upload-max-size: the
	// largest recording the desk takes, e.g. 8GB.
	UploadMaxSize string
	// MediaCacheDir is PRODCAST_MEDIA_CACHE_DIR, --media-cache-dir: a local
	// folder where serve keeps copies of the media it answers (off if
	// empty); MediaCacheSize (PRODCAST_MEDIA_CACHE_SIZE) bounds it.
	MediaCacheDir  string
	MediaCacheSize string
	// MaxScheduleAhead is PRODCAST_MAX_SCHEDULE_AHEAD,
	// --max-schedule-ahead: how far ahead publish_at may be (5y, 400d,
	// 9000h); a date beyond it is refused as a typo.
	MaxScheduleAhead string

	trustedProxies []netip.Prefix
	embeddedS3     string // the folder of up's embedded S3, when it is the one in use
	uploadMaxSize  int64
	mediaCacheSize int64

	// ShutdownTimeout is how long running tasks may finish on stop before
	// they are put back in the queue: PRODCAST_SHUTDOWN_TIMEOUT.
	ShutdownTimeout time.Duration
	// SplitOver is PRODCAST_SPLIT_OVER, --split-over: the length over which
	// a recording is encoded in pieces by all workers at once; 0 never.
	SplitOver time.Duration
}

// DefaultConfig is the configuration with nothing set.
func DefaultConfig() Config {
	return Config{
		Data:        "./prodcast-data",
		Listen:      "127.0.0.1:8080",
		S3Bucket:    "prodcast",
		S3Region:    "us-east-1",
		Settle:      10 * time.Second,
		Concurrency: 2,
		LogLevel:    "info",

		UploadMaxSize:    "8GiB",
		MediaCacheSize:   "10GiB",
		MaxScheduleAhead: "5y",

		ShutdownTimeout: 30 * time.Second,
		SplitOver:       20 * time.Minute,
	}
}

// setting is one configuration key, bound to a field.
type setting struct {
	name, usage string
	str         *string
	dur         *time.Duration
	num         *int
}

func (c *Config) settings() []setting {
	return []setting{
		{name: "data", usage: "the data folder: show.yaml, drop/, done/, failed/", str: &c.Data},
		{name: "listen", usage: "address of the web server", str: &c.Listen},
		{name: "base-url", usage: "public URL of the feed and site (default http://LISTEN)", str: &c.BaseURL},
		{name: "redis-url", usage: "Redis for the queue, e.g. redis://127.0.0.1:6379/0 (up: embedded if empty)", str: &c.RedisURL},
		{name: "s3-endpoint", usage: "S3 server, e.g. http://127.0.0.1:9000 (up: embedded if empty)", str: &c.S3Endpoint},
		{name: "s3-access-key", usage: "S3 access key", str: &c.S3AccessKey},
		{name: "s3-secret-key", usage: "S3 secret key", str: &c.S3SecretKey},
		{name: "s3-bucket", usage: "S3 bucket", str: &c.S3Bucket},
		{name: "s3-region", usage: "S3 region", str: &c.S3Region},
		{name: "settle", usage: "how long a dropped bundle must be unchanged before it is taken", dur: &c.Settle},
		{name: "concurrency", usage: "tasks a worker runs at once", num: &c.Concurrency},
		{name: "admin-password", usage: "a password user admin may log in to the desk with, besides the accounts of `prodcast user add` (off if empty)", str: &c.AdminPassword},
		{name: "upload-max-size", usage: "serve, up: the largest recording the desk takes, e.g. 8GiB or 500MB", str: &c.UploadMaxSize},
		{name: "media-cache-dir", usage: "serve: a local folder to keep copies of the media in, answered from disk rather than the bucket (off if empty)", str: &c.MediaCacheDir},
		{name: "media-cache-size", usage: "serve: how much the media cache folder may hold, e.g. 10GiB", str: &c.MediaCacheSize},
		{name: "max-schedule-ahead", usage: "how far ahead publish_at may be, e.g. 5y, 400d or 9000h; further is refused as a typo", str: &c.MaxScheduleAhead},
		{name: "log-level", usage: "debug, info, warn or error", str: &c.LogLevel},
		{name: "metrics-listen", usage: "address to serve Prometheus /metrics on, e.g. 127.0.0.1:9090 (off if empty)", str: &c.MetricsListen},
		{name: "metrics-token", usage: "serve, up: a bearer token that opens /metrics on the public listener (closed if empty)", str: &c.MetricsToken},
		{name: "trusted-proxies", usage: "serve, up: comma-separated CIDRs of proxies or load balancers whose X-Forwarded-For is believed for listener numbers", str: &c.TrustedProxies},
		{name: "show", usage: "the show to act on: a folder under shows/ (default: the root show, or the only show)", str: &c.Show},
		{name: "shutdown-timeout", usage: "how long running tasks may finish on stop before they go back to the queue", dur: &c.ShutdownTimeout},
		{name: "split-over", usage: "up, worker: recordings longer than this are encoded in pieces by all workers at once (0: never)", dur: &c.SplitOver},
	}
}

func envName(name string) string {
	return "PRODCAST_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// FromEnv reads PRODCAST_* variables over the current values.
func (c *Config) FromEnv() error {
	for _, s := range c.settings() {
		v, ok := os.LookupEnv(envName(s.name))
		if !ok || v == "" {
			continue
		}
		if err := s.set(v); err != nil {
			return fmt.Errorf("%s: %w", envName(s.name), err)
		}
	}
	return nil
}

func (s setting) set(v string) error {
	switch {
	case s.str != nil:
		*s.str = v
	case s.dur != nil:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 10s or 1m", v)
		}
		*s.dur = d
	case s.num != nil:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*s.num = n
	}
	return nil
}

// Flags binds the named settings to fs, with the current values as defaults.
func (c *Config) Flags(fs *flag.FlagSet, names ...string) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, s := range c.settings() {
		if !want[s.name] {
			continue
		}
		usage := s.usage + " (" + envName(s.name) + ")"
		switch {
		case s.str != nil:
			fs.StringVar(s.str, s.name, *s.str, usage)
		case s.dur != nil:
			fs.DurationVar(s.dur, s.name, *s.dur, usage)
		case s.num != nil:
			fs.IntVar(s.num, s.name, *s.num, usage)
		}
	}
}

// Validate checks the settings and names the wrong one. It makes Data
// absolute and fills in BaseURL.
func (c *Config) Validate() error {
	abs, err := filepath.Abs(c.Data)
	if err != nil {
		return fmt.Errorf("--data %q: %w", c.Data, err)
	}
	c.Data = abs
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q is not host:port (e.g. 127.0.0.1:8080)", c.Listen)
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Listen
	}
	if u, err := url.Parse(c.BaseURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("--base-url %q is not an http(s) URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Settle < 0 {
		return fmt.Errorf("--settle %s must not be negative", c.Settle)
	}
	if c.SplitOver < 0 || (c.SplitOver > 0 && c.SplitOver < 2*time.Minute) {
		return fmt.Errorf("--split-over %s must be 0 (never split) or at least 2m", c.SplitOver)
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("--concurrency %d must be at least 1", c.Concurrency)
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		return fmt.Errorf("PRODCAST_S3_ENDPOINT is set but PRODCAST_S3_ACCESS_KEY or PRODCAST_S3_SECRET_KEY is not")
	}
	if c.S3Bucket == "" {
		return fmt.Errorf("--s3-bucket must not be empty")
	}
	size, err := humanize.ParseBytes(c.UploadMaxSize)
	if err != nil || size == 0 {
		return fmt.Errorf("--upload-max-size %q is not a size such as 8GiB or 500MB", c.UploadMaxSize)
	}
	c.uploadMaxSize = int64(size)
	msize, err := humanize.ParseBytes(c.MediaCacheSize)
	if err != nil || (msize == 0 && c.MediaCacheDir != "") {
		return fmt.Errorf("--media-cache-size %q is not a size such as 10GiB or 500MB", c.MediaCacheSize)
	}
	c.mediaCacheSize = int64(msize)
	ahead, err := parseSpan(c.MaxScheduleAhead)
	if err != nil {
		return fmt.Errorf("--max-schedule-ahead %q is not a span such as 5y, 400d or 9000h", c.MaxScheduleAhead)
	}
	bundle.MaxScheduleAhead = ahead
	c.trustedProxies = nil
	for _, cidr := range strings.Split(c.TrustedProxies, ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return fmt.Errorf("--trusted-proxies %q is not a CIDR such as 10.0.0.0/8 or 127.0.0.1/32", cidr)
		}
		c.trustedProxies = append(c.trustedProxies, p)
	}
	return nil
}

// requireServices is for the production roles, which never embed.
func (c *Config) requireServices(redis, s3 bool) error {
	if redis && c.RedisURL == "" {
		return fmt.Errorf("PRODCAST_REDIS_URL is not set: production roles need a real Redis (e.g. redis://127.0.0.1:6379/0); `prodcast up` embeds one")
	}
	if s3 && c.S3Endpoint == "" {
		return fmt.Errorf("PRODCAST_S3_ENDPOINT is not set: production roles need real S3 or MinIO (e.g. http://127.0.0.1:9000); `prodcast up` embeds one")
	}
	return nil
}

func (c *Config) redisOpt() (asynq.RedisConnOpt, error) {
	opt, err := asynq.ParseRedisURI(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("PRODCAST_REDIS_URL %q: %w (use redis://host:port/db)", c.RedisURL, err)
	}
	return opt, nil
}

func (c *Config) s3Config() s3.Config {
	return s3.Config{Endpoint: c.S3Endpoint, AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey,
		Bucket: c.S3Bucket, Region: c.S3Region, LocalDir: c.embeddedS3}
}

// parseSpan reads a span of years (5y), days (400d) or a Go duration.
func parseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"y": 365 * 24 * time.Hour, "d": 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("bad span %q", s)
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("bad span %q", s)
	}
	return d, nil
}
