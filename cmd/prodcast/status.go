package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/internal/fetch"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/embedded"
	"github.com/prodcast/prodcast/workers"
)

// runStatus prints one line per show, then the queues, what waits or is
// stuck, the episodes and the failures; with --show, only that show's. It
// shows what it can reach: with Redis or S3 down it says so and prints the
// rest.
func (m *Main) runStatus(ctx context.Context, args []string) error {
	if err := m.resolveServices(); err != nil {
		return err
	}
	w := m.Stdout
	st := &statusView{w: w, cfg: m.Config, now: time.Now()}
	st.connect(ctx)
	defer st.close()
	if st.redisErr != nil && st.s3Err != nil {
		return fmt.Errorf("cannot reach Redis (%v) nor S3 (%v); start them, or check PRODCAST_REDIS_URL and PRODCAST_S3_ENDPOINT", st.redisErr, st.s3Err)
	}
	if err := st.loadShows(ctx, m); err != nil {
		return err
	}
	if m.Config.Show == "" {
		st.printShows()
	}
	if st.insp != nil {
		printQueues(w, st.insp)
		printRunning(w, st.insp)
	}
	st.printAttention(ctx)
	for _, sh := range st.shows {
		if sh.eps == nil {
			continue
		}
		printEpisodes(w, sh.label(len(st.shows)), sh.eps)
		printWarnings(w, sh.eps)
	}
	st.printNotifications(ctx)
	return st.printFailures(ctx)
}

func printQueues(w io.Writer, insp *asynq.Inspector) {
	fmt.Fprintln(w, "QUEUES")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  queue\tpending\tactive\tscheduled\tretry\tfailed\tdone today")
	for _, q := range workers.Queues(insp) {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			fmt.Fprintf(tw, "  %s\t(empty)\n", q)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%d\n", q, info.Pending+info.Aggregating, info.Active, info.Scheduled, info.Retry, info.Archived, info.Processed)
	}
	tw.Flush()
}

func printEpisodes(w io.Writer, label string, eps []*pipeline.Manifest) {
	fmt.Fprintf(w, "\nEPISODES%s (%d)\n", label, len(eps))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  slug\tstate\tdate\tduration\tloudness\ttitle")
	for _, e := range eps {
		date, dur := "-", "-"
		if d := e.PubDate(); !d.IsZero() {
			date = d.Format("2006-01-02 15:04")
		}
		if e.MP3 != nil {
			dur = (time.Duration(e.MP3.Duration) * time.Second).String()
		}
		loud := "-"
		if e.Loudness != nil {
			loud = fmt.Sprintf("%.1f LUFS %.1f dBTP", e.Loudness.After.Integrated, e.Loudness.After.TruePeak)
		}
		state := string(e.State)
		if e.Refused() {
			state = "refused"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", e.Slug, state, date, dur, loud, e.Meta.Title)
	}
	tw.Flush()
}

// resolveServices finds Redis and S3 for a command run beside the roles:
// the production variables, else the embedded ones of a running `up`.
func (m *Main) resolveServices() error {
	if m.Config.RedisURL != "" && m.Config.S3Endpoint != "" {
		return nil
	}
	emb, err := embedded.Load(m.Config.Data)
	if err != nil {
		return fmt.Errorf("no PRODCAST_REDIS_URL/PRODCAST_S3_ENDPOINT set, and no `prodcast up` is running on %s: start it, or set the production variables", m.Config.Data)
	}
	if m.Config.RedisURL == "" {
		m.Config.RedisURL = emb.RedisURL
	}
	if m.Config.S3Endpoint == "" {
		m.Config.S3Endpoint, m.Config.S3AccessKey, m.Config.S3SecretKey = emb.S3Endpoint, emb.AccessKey, emb.SecretKey
		m.Config.embeddedS3 = embedded.ObjectsDir(m.Config.Data)
	}
	return nil
}

// runValidate checks a feed from a URL or a file.
func (m *Main) runValidate(ctx context.Context, args []string) error {
	if m.listRules {
		for _, r := range feeds.Rules() {
			fmt.Fprintf(m.Stdout, "%-34s %-8s %s\n", r.ID, r.Severity, r.Source)
		}
		return nil
	}
	if len(args) != 1 {
		return errors.New("usage: prodcast validate FEED (a URL or a file)")
	}
	data, err := readFeed(ctx, args[0])
	if err != nil {
		return err
	}
	problems := feeds.CheckXML(data)
	if len(problems) == 0 {
		problems = feeds.Validate(data)
	}
	for _, p := range problems {
		fmt.Fprintln(m.Stdout, p)
	}
	if feeds.HasErrors(problems) {
		return fmt.Errorf("%s breaks %d rules; fix the errors above", args[0], len(problems))
	}
	fmt.Fprintf(m.Stdout, "%s: no errors (%d warnings)\n", args[0], len(problems))
	return nil
}

// feedClient fetches feeds and the small files they name, and asks
// servers for a file's length; mediaClient downloads recordings, which may
// be large. Both are fetch's clients: timeouts, size limits, and no private
// address named by a feed (PRODCAST_ALLOW_PRIVATE_FETCH allows them).
var (
	feedClient  = fetch.New(fetch.Options{Timeout: 30 * time.Second, MaxBytes: 64 << 20})
	mediaClient = fetch.New(fetch.Options{Timeout: 2 * time.Hour, MaxBytes: 8 << 30})
)

func readFeed(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("cannot read feed: %w", err)
		}
		return data, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := feedClient.Do(req, fetch.Input)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cannot fetch feed: %s answered %s", src, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

// runRebuild asks the workers to rebuild the feed and all pages.
func (m *Main) runRebuild(ctx context.Context, args []string) error {
	if err := m.resolveServices(); err != nil {
		return err
	}
	svc, err := m.connect(ctx, true, true)
	if err != nil {
		return err
	}
	show, err := m.pickShow(ctx, svc.store)
	if err != nil {
		return err
	}
	q := workers.NewClient(svc.redis)
	defer q.Close()
	if err := q.EnqueueRebuild(ctx, show, true); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "rebuild of %s queued; the workers upload what changed (see prodcast status)\n", showLabel(show))
	return nil
}

// printWarnings lists what the episodes' bundles had worth a look.
func printWarnings(w io.Writer, eps []*pipeline.Manifest) {
	header := false
	for _, e := range eps {
		if len(e.Warnings) == 0 {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nWARNINGS (published anyway; fix the file and drop the bundle again if they matter)")
			header = true
		}
		fmt.Fprintf(w, "  %s:\n", e.Slug)
		for _, msg := range e.Warnings {
			fmt.Fprintf(w, "    %s\n", msg)
		}
	}
}
