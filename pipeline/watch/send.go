package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"slices"
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
	// Archived is the archive key this watcher uploaded the recording to
	// (see archiveAt), for the episode Slug: removed again if the bundle
	// is refused and the episode does not use it. "" when the recording
	// went to the bundle's folder, or was archived already.
	Archived string `json:"archived,omitempty"`
	Slug     string `json:"slug,omitempty"`
}

func claimPath(dir, name string) string {
	return filepath.Join(dir, "processing", "."+name+".claim.json")
}

// archivingPath marks, until its claim is written, that a bundle is
// uploading its recording to the archive key the file holds.
func archivingPath(dir, name string) string {
	return filepath.Join(dir, "processing", "."+name+".archiving")
}

// archiving is the archive key a bundle was uploading its recording to
// when its watcher stopped, "" if none.
func (w *Watcher) archiving(name string) string {
	data, err := os.ReadFile(archivingPath(w.Dir, name))
	if err != nil {
		return ""
	}
	return string(data)
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
	claim := &claimFile{ID: bundleID, Files: files}
	slug, rec := w.archiveAt(dir, name, names)
	for i, f := range files {
		key := w.cat.Keys.BundleFileKey(bundleID, f.Name)
		if f.Name == rec {
			key = w.cat.Keys.OriginalKey(slug, f.SHA256, f.Name)
			files[i].Key = key
		}
		if o, err := w.Store.Stat(ctx, key); err == nil && o.Size == f.Bytes {
			if f.Name == rec && w.archiving(name) == key {
				claim.Archived, claim.Slug = key, slug // this bundle's upload, before a crash
			}
			continue // uploaded before a crash, or archived by an earlier bundle
		}
		if f.Name == rec {
			// Marked before the upload: a watcher that stops before the
			// claim is written knows, when it resumes, that the recording
			// it finds archived is its own.
			if err := os.WriteFile(archivingPath(w.Dir, name), []byte(key), 0o644); err != nil {
				return fmt.Errorf("cannot mark the recording's upload: %w", err)
			}
		}
		ct := mime.TypeByExtension(strings.ToLower(filepath.Ext(f.Name)))
		// Checked against the hash the bundle's id and the archive key
		// were made from: a file changed since is sent again once it
		// settles, under its new hash.
		if err := w.Store.PutFile(ctx, key, filepath.Join(dir, f.Name), s3.Put{ContentType: ct, SHA256: f.SHA256}); err != nil {
			return err
		}
		if f.Name == rec {
			claim.Archived, claim.Slug = key, slug
		}
	}
	// A bundle moved back from failed/ has the same id: forget the old
	// outcome, and that it was ingested (a recording uploaded to its
	// archive key stays there, so the ingest would take that record to
	// mean that this bundle's ingest was done and is resumed).
	for _, key := range []string{w.cat.Keys.ResultKey(bundleID), w.cat.Keys.IngestedKey(bundleID)} {
		if err := w.Store.Delete(ctx, key); err != nil {
			return err
		}
	}
	if err := w.Queue.EnqueueIngest(ctx, w.Show, bundleID, name, files); err != nil {
		return err
	}
	claim.SentAt = time.Now().UTC()
	if err := writeClaim(w.Dir, name, claim); err != nil {
		return err
	}
	if err := os.Remove(archivingPath(w.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		w.Log.Warn("cannot remove the mark of an upload", "bundle", name, "err", err)
	}
	w.Log.Info("bundle sent to the workers", "bundle", name, "bundle_id", bundleID, "files", len(files))
	return nil
}

// archiveAt names the episode a bundle's recording will be archived under,
// when its notes name it: the recording is then uploaded straight to its
// archive key, private/originals/<slug>/<sha256>.<ext>, where the ingest
// would otherwise copy it (a copy in the bucket of an hour's WAV takes
// longer than its upload). A lone recording is named from its tags by the
// ingest, and notes that do not parse are the ingest's to refuse: their
// recording goes to the bundle's folder, as do the other files, and
// archiveAt returns "".
func (w *Watcher) archiveAt(dir, name string, names []string) (slug, recording string) {
	if !slices.Contains(names, bundle.NotesFile) {
		return "", ""
	}
	path := filepath.Join(dir, bundle.NotesFile)
	if fi, err := os.Stat(path); err != nil || fi.Size() > bundle.MaxNotesBytes {
		return "", ""
	}
	notes, err := os.ReadFile(path)
	if err != nil {
		return "", ""
	}
	b, err := bundle.Parse(name, names, notes)
	if err != nil || b.Recording == "" || b.Meta.Slug == "" {
		return "", ""
	}
	return b.Meta.Slug, b.Recording
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
