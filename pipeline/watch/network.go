package watch

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// Network watches a data folder that may hold several shows: the root show
// (show.yaml at the top of the folder) and each show under shows/<name>/.
// A show folder that gains a show.yaml is watched from then on, with no
// restart; one that loses it is no longer watched (what it published
// stays). Each show has a Watcher of its own, so one show's broken
// show.yaml or slow upload does not hold up the others.
type Network struct {
	Dir    string // the data folder
	Settle time.Duration
	Rescan time.Duration // how often shows/ is looked at; default 2s
	Store  Store
	Queue  Queue
	Log    *slog.Logger
	Faults FaultReporter // nil: faults are logged only

	mu      sync.Mutex
	running map[string]*running // by show
	warned  map[string]string   // problems already logged, by folder
}

type running struct {
	dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Run watches until ctx is done.
func (n *Network) Run(ctx context.Context) error {
	if n.Log == nil {
		n.Log = slog.Default()
	}
	if n.Rescan <= 0 {
		n.Rescan = 2 * time.Second
	}
	n.running, n.warned = map[string]*running{}, map[string]string{}
	tick := time.NewTicker(n.Rescan)
	defer tick.Stop()
	for {
		n.sync(ctx)
		select {
		case <-ctx.Done():
			n.stopAll()
			return nil
		case <-tick.C:
		}
	}
}

// Shows lists the shows of a data folder, by name, with their folders:
// the root show ("") if show.yaml is at the top or no show is under
// shows/, and every valid folder of shows/ with a show.yaml. problems maps
// the folders that cannot be shows to why.
func Shows(dir string) (shows map[string]string, problems map[string]string) {
	shows, problems = map[string]string{}, map[string]string{}
	entries, _ := os.ReadDir(filepath.Join(dir, "shows"))
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || bundle.Ignored(name) {
			continue
		}
		if err := catalog.CheckShowName(name); err != nil {
			problems[name] = err.Error()
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "shows", name, "show.yaml")); err == nil {
			shows[name] = filepath.Join(dir, "shows", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "show.yaml")); err == nil || len(shows) == 0 {
		shows[""] = dir
	}
	return shows, problems
}

func (n *Network) sync(ctx context.Context) {
	shows, problems := Shows(n.Dir)
	for name, p := range problems {
		if n.warned[name] != p {
			n.Log.Error("a folder under shows/ is not taken as a show", "folder", name, "problem", p)
			n.warned[name] = p
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, r := range n.running {
		select {
		case <-r.done:
			delete(n.running, name) // it stopped on an error; start it again below
			continue
		default:
		}
		if _, ok := shows[name]; !ok {
			n.Log.Warn("show.yaml is gone: this show's drops are no longer taken; what it published stays", "show", name)
			r.cancel()
			<-r.done
			delete(n.running, name)
		}
	}
	for name, dir := range shows {
		if _, ok := n.running[name]; ok {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		r := &running{dir: dir, cancel: cancel, done: make(chan struct{})}
		n.running[name] = r
		w := &Watcher{Dir: dir, Show: name, Settle: n.Settle, Store: n.Store, Queue: n.Queue, Log: n.Log.With("show", name), Faults: n.Faults}
		go func() {
			defer close(r.done)
			if err := w.Run(wctx); err != nil {
				n.Log.Error("the watcher of a show stopped; starting it again", "show", name, "err", err)
			}
		}()
	}
}

func (n *Network) stopAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, r := range n.running {
		r.cancel()
		<-r.done
		delete(n.running, name)
	}
}
