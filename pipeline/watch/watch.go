package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/machine"
)

// Queue is where claimed bundles are sent.
type Queue interface {
	// EnqueueIngest enqueues a bundle of show whose files are uploaded; it is
	// idempotent per id.
	EnqueueIngest(ctx context.Context, show, id, name string, files []pipeline.BundleFile) error
	// EnsureIngest sends a bundle's ingest again if Redis holds no task of
	// it, live or finished; it reports whether it did.
	EnsureIngest(ctx context.Context, show, id, name string, files []pipeline.BundleFile) (bool, error)
	// EnqueueRebuild asks for a show's feed and pages to be rebuilt.
	EnqueueRebuild(ctx context.Context, show string, full bool) error
	// EnqueueRefused reports a bundle the watcher refused at the door, for the
	// show's webhooks.
	EnqueueRefused(ctx context.Context, show, name, problem, fix string) error
}

// FaultReporter records the faults of the machine the watcher meets (its
// data folder's disk full), for `prodcast status`.
type FaultReporter interface {
	Report(ctx context.Context, e *pipeline.MachineError)
	Clear(ctx context.Context, kind string)
}

// dataWhat names the data folder in what the watcher says.
const dataWhat = "the data folder"

// Watcher watches the folder of one show.
type Watcher struct {
	Dir    string        // the show's folder: drop/, processing/, done/, failed/, show.yaml
	Show   string        // the show's name, "" for the root show
	Settle time.Duration // how long a bundle must be still before it is taken
	Rescan time.Duration // how often drop/ is scanned without events; default 5s
	Store  Store
	Queue  Queue
	Log    *slog.Logger
	Faults FaultReporter // nil: faults are logged only

	cat           *catalog.Catalog
	inFlight      int                  // bundles in processing/ at the last poll
	seen          map[string]seen      // drop/ entries settling, by name
	ensured       map[string]time.Time // when the task of a bundle in processing/ was last looked for
	showSeen      string               // content fingerprint of show.yaml (and art) last uploaded
	showStat      string               // size and time of show.yaml and its art at the last look
	showArtPath   string               // the show's art file, if local
	showTemplates string               // the show's templates folder, if any
	full          bool                 // the data folder's disk was full at the last scan
	suspect       map[string]string    // bundles that settled on a full disk: their fingerprint then
}

type seen struct {
	fingerprint string
	since       time.Time
}

// Folders are the sub-folders of the data folder.
var Folders = []string{"drop", "processing", "done", "failed"}

// Run watches until ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	w.init()
	for _, d := range Folders {
		if err := os.MkdirAll(filepath.Join(w.Dir, d), 0o755); err != nil {
			return fmt.Errorf("cannot create %s folder: %w", d, err)
		}
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("cannot start fsnotify: %w", err)
	}
	defer fw.Close()
	for _, d := range []string{w.Dir, filepath.Join(w.Dir, "drop")} {
		if err := fw.Add(d); err != nil {
			return fmt.Errorf("cannot watch %s: %w", d, err)
		}
	}
	w.Log.Info("watching for bundles", "drop", filepath.Join(w.Dir, "drop"), "settle", w.Settle)
	w.Resume(ctx)
	tick := time.NewTicker(w.tickEvery())
	defer tick.Stop()
	lastScan := time.Time{}
	for {
		if time.Since(lastScan) >= w.Rescan || len(w.seen) > 0 || w.inFlight > 0 {
			w.Scan(ctx, fw)
			w.Poll(ctx)
			lastScan = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case ev := <-fw.Events:
			if ev.Op&fsnotify.Create != 0 {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					_ = fw.Add(ev.Name) // files written into a new bundle folder
				}
			}
			lastScan = time.Time{}
		case err := <-fw.Errors:
			w.Log.Warn("fsnotify error; relying on rescans", "err", err)
		case <-tick.C:
		}
	}
}

func (w *Watcher) init() {
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if w.Rescan <= 0 {
		w.Rescan = 5 * time.Second
	}
	if w.seen == nil {
		w.seen = map[string]seen{}
	}
	if w.ensured == nil {
		w.ensured = map[string]time.Time{}
	}
	if w.suspect == nil {
		w.suspect = map[string]string{}
	}
	w.cat = catalog.ForShow(w.Store, w.Show)
}

func (w *Watcher) tickEvery() time.Duration {
	d := w.Settle / 4
	if d < 250*time.Millisecond {
		d = 250 * time.Millisecond
	}
	if d > time.Second {
		d = time.Second
	}
	return d
}

// Scan looks at drop/ once: it notes what changed and claims what settled.
// fw may be nil.
func (w *Watcher) Scan(ctx context.Context, fw *fsnotify.Watcher) {
	w.init()
	w.syncShow(ctx)
	drop := filepath.Join(w.Dir, "drop")
	entries, err := os.ReadDir(drop)
	if err != nil {
		w.Log.Error("cannot read drop folder", "err", err)
		return
	}
	full := w.checkRoom(ctx)
	present := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if bundle.Ignored(name) {
			continue
		}
		present[name] = true
		path := filepath.Join(drop, name)
		if e.IsDir() && fw != nil {
			_ = fw.Add(path)
		}
		fp, err := fingerprint(path)
		if err != nil {
			w.Log.Warn("cannot read dropped entry", "bundle", name, "err", err)
			continue
		}
		s, ok := w.seen[name]
		if !ok || s.fingerprint != fp {
			if !ok {
				w.Log.Info("bundle arrived; waiting for it to settle", "bundle", name)
			}
			w.seen[name] = seen{fingerprint: fp, since: time.Now()}
			continue
		}
		if time.Since(s.since) < w.Settle {
			continue
		}
		if full {
			// A copy into a full disk ends cut short, and settles like a
			// whole one: not taken now, and refused once there is room
			// unless it is copied again.
			if w.suspect[name] != fp {
				w.Log.Warn("bundle settled while the data folder's disk is full; not taken: it may be cut short", "bundle", name)
			}
			w.suspect[name] = fp
			continue
		}
		delete(w.seen, name)
		if was, ok := w.suspect[name]; ok {
			delete(w.suspect, name)
			if was == fp {
				w.claimRefused(ctx, name, pipeline.Inputf("copy the bundle again (from where it came) and drop it once more",
					"the disk of %s was full while %q was copied into drop/, so its files may be cut short", w.Dir, name))
				continue
			}
		}
		w.claim(ctx, name)
	}
	for name := range w.seen {
		if !present[name] {
			delete(w.seen, name)
		}
	}
}

// fingerprint lists every file under path with its size and time, skipping
// ignored names; it is empty for an empty folder, which settles like any
// other and is then refused.
func fingerprint(path string) (string, error) {
	var b strings.Builder
	err := filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && bundle.Partial(d.Name()) {
			// A partial download inside the bundle keeps it unsettled.
			b.WriteString("partial:" + p + ";" + time.Now().String())
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if p != path && bundle.Ignored(d.Name()) {
			// .DS_Store, Thumbs.db-like dotfiles, editor backups: not
			// part of the bundle, and no reason to wait.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s|%d|%d\n", p, fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	return b.String(), err
}

// claim moves a settled entry into processing/ and sends it on. If another
// watcher took it first, the rename fails and nothing happens.
func (w *Watcher) claim(ctx context.Context, name string) {
	src := filepath.Join(w.Dir, "drop", name)
	dst := filepath.Join(w.Dir, "processing", name)
	if _, err := os.Lstat(dst); err == nil {
		w.Log.Warn("a bundle of the same name is still being processed; waiting", "bundle", name)
		return
	}
	if err := os.Rename(src, dst); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			w.Log.Info("bundle taken by another watcher", "bundle", name)
			return
		}
		w.Log.Error("cannot claim bundle", "bundle", name, "err", err)
		return
	}
	w.Log.Info("bundle settled and claimed", "bundle", name)
	if err := w.send(ctx, name); err != nil {
		w.sendFailed(ctx, name, err)
	}
}

// sendFailed logs a send that will be retried, and records a fault of the
// machine for status (the embedded S3's disk full, say).
func (w *Watcher) sendFailed(ctx context.Context, name string, err error) {
	var me *pipeline.MachineError
	if errors.As(err, &me) && w.Faults != nil {
		w.Faults.Report(ctx, me)
	}
	w.Log.Error("cannot send bundle to the workers; will retry", "bundle", name, "err", err)
}

// claimRefused moves a settled entry into processing/ and refuses it.
func (w *Watcher) claimRefused(ctx context.Context, name string, cause error) {
	if err := os.Rename(filepath.Join(w.Dir, "drop", name), filepath.Join(w.Dir, "processing", name)); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			w.Log.Error("cannot claim bundle", "bundle", name, "err", err)
		}
		return
	}
	w.Log.Warn("bundle refused: it settled while the disk was full", "bundle", name)
	w.refuse(ctx, name, cause)
}

// fullBelow is the free space under which the data folder's disk is
// full: a copy into drop/ may have stopped short there.
const fullBelow = 1 << 20

// checkRoom reports whether the data folder's disk is full (less than
// fullBelow free), recording the fault for status while it is, and
// saying so once when it starts and when it ends.
func (w *Watcher) checkRoom(ctx context.Context) bool {
	err := machine.CheckFull(w.Dir, dataWhat, fullBelow)
	var me *pipeline.MachineError
	full := errors.As(err, &me) && me.Kind == pipeline.FaultDiskFull
	switch {
	case full:
		if !w.full {
			w.Log.Error("the data folder's disk is full: bundles are not taken until there is room", "err", me.Describe())
		}
		if w.Faults != nil {
			w.Faults.Report(ctx, me)
		}
	case w.full:
		w.Log.Info("the data folder has room again", "folder", w.Dir)
		if w.Faults != nil {
			w.Faults.Clear(ctx, pipeline.FaultDiskFull)
		}
	}
	w.full = full
	return full
}

// Resume re-sends every claimed bundle whose upload or enqueue did not
// finish, for example after a crash.
func (w *Watcher) Resume(ctx context.Context) {
	w.init()
	for _, name := range w.processing() {
		if _, err := readClaim(w.Dir, name); err == nil {
			continue
		}
		w.Log.Info("resuming claimed bundle", "bundle", name)
		if err := w.send(ctx, name); err != nil {
			w.sendFailed(ctx, name, err)
		}
	}
}

// processing lists the bundles in processing/, without claim files.
func (w *Watcher) processing() []string {
	entries, _ := os.ReadDir(filepath.Join(w.Dir, "processing"))
	var out []string
	for _, e := range entries {
		if !bundle.Ignored(e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}
