package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// claimFile records, next to a claimed bundle, that it was sent.
type claimFile struct {
	ID     string                `json:"id"`
	Files  []pipeline.BundleFile `json:"files"`
	SentAt time.Time             `json:"sent_at"`
}

func claimPath(dir, name string) string {
	return filepath.Join(dir, "processing", "."+name+".claim.json")
}

func readClaim(dir, name string) (*claimFile, error) {
	data, err := os.ReadFile(claimPath(dir, name))
	if err != nil {
		return nil, err
	}
	var c claimFile
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func writeClaim(dir, name string, c *claimFile) error {
	data, _ := json.Marshal(c)
	if err := os.WriteFile(claimPath(dir, name), data, 0o644); err != nil {
		return fmt.Errorf("cannot write claim file: %w", err)
	}
	return nil
}

// bundleFiles lists the files of an entry in processing/: the entry itself
// for a lone file, else the files in the folder (one level, no ignored
// names, no ERROR.txt from an earlier failure).
func bundleFiles(path string) (names []string, lone bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if !fi.IsDir() {
		return []string{filepath.Base(path)}, true, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, false, err
	}
	for _, e := range entries {
		if e.IsDir() || bundle.Ignored(e.Name()) || e.Name() == bundle.ErrorFile {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, false, nil
}

// send hashes and uploads a claimed bundle, enqueues its ingest and writes
// the claim file. Every step is idempotent, so it can be repeated.
func (w *Watcher) send(ctx context.Context, name string) error {
	path := filepath.Join(w.Dir, "processing", name)
	if err := Check(path); err != nil {
		if !pipeline.IsInput(err) {
			return err
		}
		w.Log.Warn("bundle refused", "bundle", name, "problem", err)
		w.refuse(ctx, name, err)
		return nil
	}
	names, lone, err := bundleFiles(path)
	if err != nil {
		return err
	}
	dir := path
	if lone {
		dir = filepath.Dir(path)
	}
	files := make([]pipeline.BundleFile, 0, len(names))
	id := sha256.New()
	if w.Show != "" {
		fmt.Fprintf(id, "show %s\x00", w.Show) // the same bundle in two shows is two bundles
	}
	fmt.Fprintf(id, "%s\x00", name)
	for _, n := range names {
		f, err := hashFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		files = append(files, f)
		fmt.Fprintf(id, "%s\x00%s\x00", f.Name, f.SHA256)
	}
	bundleID := hex.EncodeToString(id.Sum(nil))[:32]
	for _, f := range files {
		key := w.cat.Keys.BundleFileKey(bundleID, f.Name)
		if o, err := w.Store.Stat(ctx, key); err == nil && o.Size == f.Bytes {
			continue // uploaded before a crash
		}
		ct := mime.TypeByExtension(strings.ToLower(filepath.Ext(f.Name)))
		if err := w.Store.PutFile(ctx, key, filepath.Join(dir, f.Name), s3.Put{ContentType: ct}); err != nil {
			return err
		}
	}
	// A bundle moved back from failed/ has the same id: forget the old outcome.
	if err := w.Store.Delete(ctx, w.cat.Keys.ResultKey(bundleID)); err != nil {
		return err
	}
	if err := w.Queue.Ingest(ctx, w.Show, bundleID, name, files); err != nil {
		return err
	}
	if err := writeClaim(w.Dir, name, &claimFile{ID: bundleID, Files: files, SentAt: time.Now().UTC()}); err != nil {
		return err
	}
	w.Log.Info("bundle sent to the workers", "bundle", name, "bundle_id", bundleID, "files", len(files))
	return nil
}

func hashFile(path string) (pipeline.BundleFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return pipeline.BundleFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return pipeline.BundleFile{}, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return pipeline.BundleFile{Name: filepath.Base(path), Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Claimed is a bundle in processing/, as `prodcast status` reports it.
type Claimed struct {
	Name   string
	ID     string    // "" while it is not yet uploaded and sent
	SentAt time.Time // when it was sent; zero if not yet
}

// InFlight lists the bundles in dir's processing/ folder.
func InFlight(dir string) []Claimed {
	w := &Watcher{Dir: dir}
	var out []Claimed
	for _, name := range w.processing() {
		c := Claimed{Name: name}
		if cf, err := readClaim(dir, name); err == nil {
			c.ID, c.SentAt = cf.ID, cf.SentAt
		}
		out = append(out, c)
	}
	return out
}
