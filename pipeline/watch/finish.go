package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// Poll checks the outcome of every bundle in flight and moves the finished
// ones to done/ or failed/.
func (w *Watcher) Poll(ctx context.Context) {
	w.init()
	names := w.processing()
	w.inFlight = len(names)
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
			w.resend(ctx, name, c)
			continue
		}
		if err != nil {
			w.Log.Warn("cannot read bundle outcome", "bundle", name, "err", err)
			continue
		}
		if err := w.finish(ctx, name, c, res); err != nil {
			w.Log.Error("cannot move finished bundle", "bundle", name, "err", err)
		}
	}
}

func (w *Watcher) finish(ctx context.Context, name string, c *claimFile, res *pipeline.BundleResult) error {
	src := filepath.Join(w.Dir, "processing", name)
	if res.OK {
		dst := freeName(filepath.Join(w.Dir, "done", name))
		if err := os.Rename(src, dst); err != nil {
			return err
		}
		w.Log.Info("bundle published", "bundle", name, "episode", res.Slug, "moved_to", dst)
	} else {
		dst, err := w.moveFailed(src, name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, bundle.ErrorFile), []byte(errorText(name, c.ID, res)), 0o644); err != nil {
			return fmt.Errorf("cannot write %s: %w", bundle.ErrorFile, err)
		}
		w.Log.Warn("bundle failed", "bundle", name, "problem", res.Problem, "fix", res.Fix, "moved_to", dst)
		// The bytes are safe in failed/; the uploaded copy is not needed.
		if err := w.Store.DeletePrefix(ctx, catalog.BundlesPrefix+c.ID+"/files/"); err != nil {
			w.Log.Warn("cannot delete uploaded copy of failed bundle", "bundle", name, "err", err)
		}
	}
	return os.Remove(claimPath(w.Dir, name))
}

// moveFailed moves a bundle to failed/<bundle>/: a folder as it is, a lone
// file into a folder named after it.
func (w *Watcher) moveFailed(src, name string) (string, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		dst := freeName(filepath.Join(w.Dir, "failed", name))
		return dst, os.Rename(src, dst)
	}
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	dst := freeName(filepath.Join(w.Dir, "failed", stem))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	return dst, os.Rename(src, filepath.Join(dst, name))
}

// freeName returns path, or path with a numeric suffix if path is taken.
func freeName(path string) string {
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
	fmt.Fprintf(&b, "bundle id: %s\nat: %s\n", id, res.At.Format(time.RFC3339))
	return b.String()
}

// resendAfter is how long a bundle may wait for its outcome before the
// watcher makes sure its ingest is still queued (Redis may have been wiped).
const resendAfter = 10 * time.Minute

func (w *Watcher) resend(ctx context.Context, name string, c *claimFile) {
	if time.Since(c.SentAt) < resendAfter {
		return
	}
	if err := w.Queue.Ingest(ctx, c.ID, name, c.Files); err != nil {
		w.Log.Warn("cannot re-queue bundle waiting for its outcome", "bundle", name, "err", err)
		return
	}
	c.SentAt = time.Now().UTC()
	if err := writeClaim(w.Dir, name, c); err != nil {
		w.Log.Warn("cannot update claim file", "bundle", name, "err", err)
	}
}
