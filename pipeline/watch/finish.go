package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
)

// Poll checks the outcome of every bundle in flight and moves the finished
// ones to done/ or failed/. A bundle still waiting is checked for a task
// every ensureEvery: one lost with a wiped Redis, or archived by an
// outage, is sent again at once, not after a timeout.
func (w *Watcher) Poll(ctx context.Context) {
	w.init()
	names := w.processing()
	w.inFlight = len(names)
	w.cleanClaims(names)
	for _, name := range names {
		c, err := readClaim(w.Dir, name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				if err := w.send(ctx, name); err != nil {
					w.Log.Error("cannot send bundle to the workers; will retry", "bundle", name, "err", err)
				}
			}
			continue
		}
		res, err := w.cat.Result(ctx, c.ID)
		if errors.Is(err, pipeline.ErrNotFound) {
			w.ensure(ctx, name, c)
			continue
		}
		if err != nil {
			w.Log.Warn("cannot read bundle outcome", "bundle", name, "err", err)
			continue
		}
		delete(w.ensured, name)
		if err := w.finish(ctx, name, c, res); err != nil {
			w.Log.Error("cannot move finished bundle", "bundle", name, "err", err)
		}
	}
}

func (w *Watcher) finish(ctx context.Context, name string, c *claimFile, res *pipeline.BundleResult) error {
	src := filepath.Join(w.Dir, "processing", name)
	if res.OK {
		dst := FreeName(filepath.Join(w.Dir, "done", name))
		if err := os.Rename(src, dst); err != nil {
			return err
		}
		w.Log.Info("bundle published", "bundle", name, "episode", res.Slug, "moved_to", dst, "note", res.Note)
	} else {
		dst, err := w.moveFailed(src, name, errorText(name, c.ID, res))
		if err != nil {
			return err
		}
		w.Log.Warn("bundle failed", "bundle", name, "problem", res.Problem, "fix", res.Fix, "moved_to", dst)
		// The bytes are safe in failed/; the uploaded copy is not needed.
		if c.ID != "" {
			if err := w.Store.DeletePrefix(ctx, w.cat.Keys.BundleFilesPrefix(c.ID)); err != nil {
				w.Log.Warn("cannot delete uploaded copy of failed bundle", "bundle", name, "err", err)
			}
		}
		if err := w.unarchive(ctx, c); err != nil {
			w.Log.Warn("cannot delete the archived recording of failed bundle", "bundle", name, "err", err)
		}
	}
	if err := os.Remove(claimPath(w.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// unarchive removes the recording a refused bundle uploaded to its archive
// key (see archiveAt), unless its episode uses it: every recording in
// private/originals/ is one an episode was made from. Another bundle in
// flight that found the same recording there (the same audio for the same
// episode, dropped again before the first was done) needs it: that
// bundle's claim takes it over, to remove if it is refused too.
func (w *Watcher) unarchive(ctx context.Context, c *claimFile) error {
	if c.Archived == "" {
		return nil
	}
	m, err := w.cat.Manifest(ctx, c.Slug)
	switch {
	case errors.Is(err, pipeline.ErrNotFound):
	case err != nil:
		return err
	case m.Original.Key == c.Archived:
		return nil
	}
	for _, name := range w.processing() {
		other, err := readClaim(w.Dir, name)
		if err != nil || other.ID == c.ID || !slices.ContainsFunc(other.Files, func(f pipeline.BundleFile) bool { return f.Key == c.Archived }) {
			continue
		}
		if other.Archived == "" {
			other.Archived, other.Slug = c.Archived, c.Slug
			if err := writeClaim(w.Dir, name, other); err != nil {
				return err
			}
		}
		return nil
	}
	return w.Store.Delete(ctx, c.Archived)
}

// moveFailed moves a bundle to failed/<bundle>/ with its ERROR.txt: a
// folder as it is, a lone file into a folder named after it. ERROR.txt is
// written before the move, so a bundle never sits in failed/ without it.
func (w *Watcher) moveFailed(src, name, text string) (string, error) {
	fi, err := os.Lstat(src)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		if err := os.WriteFile(filepath.Join(src, bundle.ErrorFile), []byte(text), 0o644); err != nil {
			return "", fmt.Errorf("cannot write %s: %w", bundle.ErrorFile, err)
		}
		dst := FreeName(filepath.Join(w.Dir, "failed", name))
		return dst, os.Rename(src, dst)
	}
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	if stem == "" {
		stem = name
	}
	dst := FreeName(filepath.Join(w.Dir, "failed", stem))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dst, bundle.ErrorFile), []byte(text), 0o644); err != nil {
		return "", fmt.Errorf("cannot write %s: %w", bundle.ErrorFile, err)
	}
	return dst, os.Rename(src, filepath.Join(dst, name))
}

// FreeName returns path, or path with a numeric suffix if path is taken.
func FreeName(path string) string {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return path
	}
	for i := 2; ; i++ {
		p := fmt.Sprintf("%s-%d", path, i)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
	}
}

func errorText(name, id string, res *pipeline.BundleResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "prodcast could not publish %q.\n\n", name)
	fmt.Fprintf(&b, "What is wrong:\n  %s\n\n", res.Problem)
	if res.Fix != "" {
		fmt.Fprintf(&b, "How to fix it:\n  %s\n\n", res.Fix)
	}
	b.WriteString("Then move this folder back into drop/ to try again; this file is ignored there.\n\n")
	if id != "" {
		fmt.Fprintf(&b, "bundle id: %s\n", id)
	}
	at := res.At
	if at.IsZero() {
		at = time.Now().UTC()
	}
	fmt.Fprintf(&b, "at: %s\n", at.Format(time.RFC3339))
	return b.String()
}

// ensureAfter is how old a claim must be before the watcher looks for its
// task, and ensureEvery how often it looks again while the bundle waits.
const (
	ensureAfter = 5 * time.Second
	ensureEvery = 15 * time.Second
)

// ensure makes sure a bundle waiting for its outcome has an ingest task.
func (w *Watcher) ensure(ctx context.Context, name string, c *claimFile) {
	if time.Since(c.SentAt) < ensureAfter || time.Since(w.ensured[name]) < ensureEvery {
		return
	}
	w.ensured[name] = time.Now()
	sent, err := w.Queue.EnsureIngest(ctx, w.Show, c.ID, name, c.Files)
	if err != nil {
		w.Log.Warn("cannot check the task of a bundle waiting for its outcome; will try again", "bundle", name, "err", err)
		return
	}
	if sent {
		w.Log.Warn("bundle had no task (Redis wiped, or an outage gave up on it); sent it again", "bundle", name)
	}
}
