package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/workers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	m.Close()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "prodcast:", err)
		os.Exit(1)
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
}

// Main is the program: it parses a command line and runs one command.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Config         Config
	closers        []func() error

	keepMediaURLs bool   // import --keep-media-urls
	listRules     bool   // validate --rules
	jsonOut       bool   // episodes --json
	yes           bool   // delete --yes
	dryRun        bool   // gc --dry-run
	episode       string // stats --episode
	days          int    // stats --days
	logFormat     string // stats ingest --format
	up            bool   // the roles run in one process, as `up`
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Config: DefaultConfig()}
}

// Close releases what Run opened.
func (m *Main) Close() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		errs = append(errs, m.closers[i]())
	}
	m.closers = nil
	return errors.Join(errs...)
}

func (m *Main) onClose(f func() error) { m.closers = append(m.closers, f) }

type command struct {
	name, summary string
	flags         []string
	run           func(m *Main, ctx context.Context, args []string) error
}

var commands = []command{
	{"up", "run everything in one process: watcher, workers, web server (embedded Redis and S3 unless configured)",
		[]string{"metrics-listen", "metrics-token", "max-schedule-ahead", "data", "listen", "base-url", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "settle", "concurrency", "admin-password", "upload-max-size", "log-level", "shutdown-timeout", "trusted-proxies", "split-over"},
		(*Main).runUp},
	{"worker", "process queued tasks (needs PRODCAST_REDIS_URL and PRODCAST_S3_*)",
		[]string{"metrics-listen", "max-schedule-ahead", "base-url", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "concurrency", "log-level", "shutdown-timeout", "split-over"},
		(*Main).runWorker},
	{"watch", "watch the drop folder and hand bundles to the workers",
		[]string{"metrics-listen", "max-schedule-ahead", "data", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "settle", "log-level"},
		(*Main).runWatch},
	{"serve", "serve the feed, the blog and the media from the bucket, the pitch form, and the desk at /admin/",
		[]string{"metrics-listen", "metrics-token", "max-schedule-ahead", "data", "listen", "base-url", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "admin-password", "upload-max-size", "media-cache-dir", "media-cache-size", "log-level", "trusted-proxies"},
		(*Main).runServe},
	{"doctor", "check the installation: ffmpeg, the folders' room, Redis and S3, the clock, the listen address, the public URL",
		[]string{"data", "listen", "base-url", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runDoctor},
	{"status", "show queues, episodes and failures, and what to do about each",
		[]string{"data", "show", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runStatus},
	{"import", "bring an existing show in from its feed (a URL or a file), keeping every GUID; --keep-media-urls links the media as it is",
		[]string{"data", "show", "base-url", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runImport},
	{"rebuild", "rebuild the feed and render every page again now",
		[]string{"data", "show", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runRebuild},
	{"episodes", "list a show's episodes: slug, state, GUID, publish time, duration, title (--json for scripts)",
		[]string{"data", "show", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runEpisodes},
	{"unpublish", "withdraw an episode: out of the feed and the pages, its page 410 Gone, its media no longer served",
		[]string{"data", "show", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runLifecycle(nil, workers.TypeEpisodeUnpublish)},
	{"republish", "put an unpublished episode back, as it was: same GUID, same media URLs",
		[]string{"data", "show", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runLifecycle(nil, workers.TypeEpisodeRepublish)},
	{"delete", "delete an episode for good (--yes): media and original recording; its GUID is kept for its slug",
		[]string{"data", "show", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runLifecycle(nil, workers.TypeEpisodeDelete)},
	{"stats", "listener numbers per episode: downloads (IAB rules), first 7 and 30 days, by day, by app and device (--json for scripts)",
		[]string{"data", "show", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runStats},
	{"gc", "remove media no episode references any more, after a day's grace (--dry-run lists it); runs daily by itself",
		[]string{"data", "show", "redis-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-region", "log-level"},
		(*Main).runGC},
	{"user", "add or remove an account of the desk: `user add NAME` reads the password from standard input",
		[]string{"data", "log-level"},
		(*Main).runUser},
	{"validate", "check a podcast feed (a URL or a file) against prodcast's rule table",
		[]string{"log-level"},
		(*Main).runValidate},
}

// Run parses args and runs the command they name.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage()
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		if err := m.Config.FromEnv(); err != nil {
			return err
		}
		fs := flag.NewFlagSet("prodcast "+c.name, flag.ContinueOnError)
		fs.SetOutput(m.Stderr)
		m.Config.Flags(fs, c.flags...)
		switch c.name {
		case "validate":
			fs.BoolVar(&m.listRules, "rules", false, "list the rules a feed is checked against, and check nothing")
		case "import":
			fs.BoolVar(&m.keepMediaURLs, "keep-media-urls", false, "link the media where it is, instead of downloading and publishing it here")
		case "episodes":
			fs.BoolVar(&m.jsonOut, "json", false, "print a JSON array (slug, state, guid, title, publish_at, duration_seconds)")
		case "delete":
			fs.BoolVar(&m.yes, "yes", false, "yes, remove the media and the original recording for good")
		case "gc":
			fs.BoolVar(&m.dryRun, "dry-run", false, "list what would be removed, and remove nothing")
		case "stats":
			fs.BoolVar(&m.jsonOut, "json", false, `print {"episodes": [{"show", "slug", "downloads", "first_7_days", "first_30_days", "by_app", "by_device", "by_day"}]}`)
			fs.StringVar(&m.episode, "episode", "", "only this episode (its slug)")
			fs.IntVar(&m.days, "days", 90, "how many days back to count")
			fs.StringVar(&m.logFormat, "format", "", "stats ingest: the logs' format, s3 (S3 server access logs, as MinIO writes too) or combined (nginx, Apache)")
		}
		fs.Usage = func() {
			fmt.Fprintf(m.Stderr, "usage: prodcast %s [flags]%s\n\n%s.\n\nflags:\n", c.name, argsHint(c.name), c.summary)
			fs.PrintDefaults()
		}
		positional, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return err
		}
		if err := m.Config.Validate(); err != nil {
			return err
		}
		m.setupLog()
		return c.run(m, ctx, positional)
	}
	m.usage()
	return fmt.Errorf("unknown command %q", args[0])
}

// parseInterspersed parses flags before and after the positional
// arguments (`prodcast delete SLUG --yes`), and returns the positional
// ones. Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return append(positional, tail...), nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func argsHint(name string) string {
	switch name {
	case "validate":
		return " FEED | --rules"
	case "user":
		return " add|remove NAME"
	case "import":
		return " [--show NAME] [--keep-media-urls] FEED"
	case "status", "rebuild":
		return " [--show NAME]"
	case "episodes":
		return " [--show NAME] [--json]"
	case "unpublish", "republish":
		return " [--show NAME] SLUG"
	case "delete":
		return " [--show NAME] --yes SLUG"
	case "gc":
		return " [--show NAME] [--dry-run]"
	case "stats":
		return " [--show NAME] [--episode SLUG] [--days N] [--json]\n       prodcast stats ingest [--show NAME] --format s3|combined FILE..."
	}
	return ""
}

func (m *Main) usage() {
	fmt.Fprintln(m.Stderr, "usage: prodcast COMMAND [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(m.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(m.Stderr, "\nRun `prodcast COMMAND -h` for a command's flags. Every flag can also be set as PRODCAST_<FLAG>.")
}

func (m *Main) setupLog() {
	var level slog.Level
	if err := level.UnmarshalText([]byte(m.Config.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level})))
	redis.SetLogger(redisLog{})
}

// redisLog sends go-redis's own messages (a Sentinel's new master, a pool's
// retries) to slog at debug level, rather than raw lines on stderr.
type redisLog struct{}

func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Debug(fmt.Sprintf(format, v...), "part", "redis")
}
