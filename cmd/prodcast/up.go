package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/embedded"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/watch"
)

// runUp runs every role in this process, on embedded Redis and S3 unless
// PRODCAST_REDIS_URL or PRODCAST_S3_ENDPOINT name real ones.
func (m *Main) runUp(ctx context.Context, args []string) error {
	m.up = true
	if err := ffmpeg.Check(); err != nil {
		return err
	}
	if err := m.prepareData(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (is another prodcast running? use --listen): %w", m.Config.Listen, err)
	}
	defer ln.Close()
	if m.Config.RedisURL == "" || m.Config.S3Endpoint == "" {
		emb, err := embedded.Start(ctx, m.Config.Data)
		if err != nil {
			return err
		}
		m.onClose(emb.Close)
		if m.Config.RedisURL == "" {
			m.Config.RedisURL = emb.RedisURL
		}
		if m.Config.S3Endpoint == "" {
			m.Config.S3Endpoint, m.Config.S3AccessKey, m.Config.S3SecretKey = emb.S3Endpoint, emb.AccessKey, emb.SecretKey
			m.Config.embeddedS3 = embedded.ObjectsDir(m.Config.Data)
		}
	}
	svc, err := m.connect(ctx, true, true)
	if err != nil {
		return err
	}
	m.banner()
	roles := map[string]func(context.Context) error{
		"worker": func(ctx context.Context) error { return m.worker(ctx, svc) },
		"watch":  func(ctx context.Context) error { return m.watch(ctx, svc) },
		"serve":  func(ctx context.Context) error { return m.serve(ctx, svc, ln) },
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(roles))
	for name, run := range roles {
		wg.Go(func() {
			if err := run(ctx); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel() // one role failing stops the others
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	slog.Info("stopped")
	return errors.Join(all...)
}

// prepareData creates the data folder and a starter show.yaml with art.
func (m *Main) prepareData(ctx context.Context) error {
	dir := m.Config.Data
	for _, d := range watch.Folders {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("cannot create the data folder: %w", err)
		}
	}
	show := filepath.Join(dir, "show.yaml")
	if _, err := os.Stat(show); err == nil {
		return nil
	}
	if shows, _ := watch.Shows(dir); shows[""] == "" {
		return nil // a network of shows under shows/, without a root show
	}
	starter := bundle.StarterShow
	cover := filepath.Join(dir, "cover.png")
	if _, err := os.Stat(cover); err != nil {
		// Placeholder art, so that the feed has the image Apple requires.
		cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-f", "lavfi",
			"-i", "color=c=0x1f4e79:s=1400x1400", "-frames:v", "1", "-y", cover)
		if out, err := cmd.CombinedOutput(); err != nil {
			slog.Warn("cannot make placeholder cover art", "err", err, "out", string(out))
		}
	}
	if _, err := os.Stat(cover); err == nil {
		starter = bundle.StarterShowWithArt()
	}
	if err := os.WriteFile(show, []byte(starter), 0o644); err != nil {
		return fmt.Errorf("cannot write a starter show.yaml: %w", err)
	}
	slog.Info("wrote a starter show.yaml; edit it to describe your show", "path", show)
	return nil
}

func (m *Main) banner() {
	c := m.Config
	defer m.bannerShows()
	if shows, _ := watch.Shows(c.Data); shows[""] == "" {
		fmt.Fprintf(m.Stdout, `
prodcast is up, for a network of shows (no root show).

  Front page:  %s/
  The desk:    %s/admin/ (first account: prodcast user add NAME --data %s)
A bundle is a folder with episode.md and one recording, or a lone recording,
dropped into a show's drop/ folder. Stop with Ctrl-C; see progress with:
prodcast status --data %s

`, c.BaseURL, c.BaseURL, c.Data, c.Data)
		return
	}
	fmt.Fprintf(m.Stdout, `
prodcast is up.

  Drop bundles into:  %s
  Podcast feed:       %s/feed.xml
  Blog:               %s/
  Show settings:      %s
  Published bundles:  %s   Failed (with ERROR.txt): %s
  The desk:           %s/admin/ (first account: prodcast user add NAME --data %s)
  Guests pitch at:    %s/pitch/

A bundle is a folder with episode.md and one recording (.wav .flac .mp3 .m4a
.ogg .opus), or a lone recording. It is taken once it has not changed for %s.
Stop with Ctrl-C; see progress with: prodcast status --data %s

`, filepath.Join(c.Data, "drop"), c.BaseURL, c.BaseURL, filepath.Join(c.Data, "show.yaml"),
		filepath.Join(c.Data, "done"), filepath.Join(c.Data, "failed"), c.BaseURL, c.Data, c.BaseURL, c.Settle, c.Data)
}

// bannerShows lists the shows under shows/, with where to drop and where
// their feeds are.
func (m *Main) bannerShows() {
	shows, problems := watch.Shows(m.Config.Data)
	var names []string
	for name := range shows {
		if name != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 && len(problems) == 0 {
		return
	}
	sort.Strings(names)
	fmt.Fprintln(m.Stdout, "Shows under shows/ (each drops into its own folder; all feeds: "+m.Config.BaseURL+"/shows.opml):")
	for _, name := range names {
		fmt.Fprintf(m.Stdout, "  %-20s %s   feed %s/feed.xml\n", name, filepath.Join(shows[name], "drop"), pipeline.ShowBaseURL(m.Config.BaseURL, name))
	}
	for name, p := range problems {
		fmt.Fprintf(m.Stdout, "  %-20s not taken: %s\n", name, p)
	}
	fmt.Fprintln(m.Stdout)
}
