package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filelocker"
	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	expslog "golang.org/x/exp/slog"
)

// uploadsPath is where the desk speaks tus 1.0.
const uploadsPath = "/admin/uploads/"

// stagingDir is the folder, under the data folder, where uploads wait
// until they are whole: tus/ holds the uploads in flight, drafts/ the
// notes sent ahead of a recording, bundles/ a bundle being put together.
// It starts with a dot, so no watcher ever looks in it.
const stagingDir = ".uploads"

// abandonAfter is how long an upload may stay unfinished.
const abandonAfter = 24 * time.Hour

// uploads receives recordings over tus and moves each, once whole, into
// its show's drop/.
type uploads struct {
	d       *Desk
	handler http.Handler
	root    string // the data folder
	off     string // why uploads are off; "" while on
}

var draftID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func newUploads(d *Desk) (*uploads, error) {
	u := &uploads{d: d, root: d.cfg.Data}
	if fi, err := os.Stat(d.cfg.Data); err != nil || !fi.IsDir() {
		u.off = fmt.Sprintf("this server has no data folder at %s, so it takes no uploads: run the desk where the watcher's data folder is (--data)", d.cfg.Data)
		u.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, u.off, http.StatusServiceUnavailable)
		})
		return u, nil
	}
	tusDir := filepath.Join(d.cfg.Data, stagingDir, "tus")
	if err := os.MkdirAll(tusDir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s for uploads (is the data folder writable? --data): %w", tusDir, err)
	}
	composer := tusd.NewStoreComposer()
	filestore.New(tusDir).UseIn(composer)
	filelocker.New(tusDir).UseIn(composer)
	h, err := tusd.NewHandler(tusd.Config{
		StoreComposer:        composer,
		BasePath:             uploadsPath,
		MaxSize:              d.cfg.UploadMaxSize,
		DisableDownload:      true,
		DisableConcatenation: true,
		Cors:                 &tusd.CorsConfig{Disable: true},
		// tusd logs every request through x/exp/slog; what matters (an
		// upload started, finished, refused) the hooks log themselves.
		Logger:                    expslog.New(expslog.NewTextHandler(io.Discard, nil)),
		PreUploadCreateCallback:   u.accept,
		PreFinishResponseCallback: u.finishHook,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot start the upload endpoint: %w", err)
	}
	u.handler = http.StripPrefix(uploadsPath, h)
	return u, nil
}

func refuse(code int, msg string) error {
	return tusd.NewError("ERR_REFUSED", msg, code)
}

// accept checks a new upload: its show exists here, its size is known,
// and its draft of notes, if any, is waiting.
func (u *uploads) accept(ev tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	meta := ev.Upload.MetaData
	if ev.Upload.SizeIsDeferred {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, refuse(http.StatusBadRequest, "send Upload-Length: the desk needs to know the size up front")
	}
	if strings.TrimSpace(meta["filename"]) == "" {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, refuse(http.StatusBadRequest, "Upload-Metadata needs filename (the recording's name)")
	}
	if _, err := u.showFolder(ev.Context, meta["show"]); err != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, refuse(http.StatusBadRequest, err.Error())
	}
	if id := meta["draft"]; id != "" {
		if !draftID.MatchString(id) {
			return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, refuse(http.StatusBadRequest, "Upload-Metadata draft is not a draft id")
		}
		if _, err := os.Stat(u.draftPath(id)); err != nil {
			return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, refuse(http.StatusBadRequest, "the notes of this upload are gone (older than a day?): send the form again")
		}
	}
	u.d.cfg.Log.Info("upload started", "show", meta["show"], "file", CleanName(meta["filename"]), "bytes", ev.Upload.Size)
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, nil
}

// showFolder resolves the show of an upload's metadata ("" or "_" for the
// root show) to its folder, relative to the data folder.
func (u *uploads) showFolder(ctx context.Context, show string) (string, error) {
	if show == rootToken {
		show = ""
	}
	if show != "" {
		if err := checkEntry(show); err != nil {
			return "", fmt.Errorf("Upload-Metadata show %q is not a show", show)
		}
	}
	dir := "."
	if show != "" {
		dir = path.Join("shows", show)
	}
	if fi, err := os.Stat(filepath.Join(u.root, dir, "show.yaml")); err != nil || fi.IsDir() {
		return "", fmt.Errorf("there is no show %q in this server's data folder (%s)", show, u.root)
	}
	return dir, nil
}

func (u *uploads) draftPath(id string) string {
	return filepath.Join(u.root, stagingDir, "drafts", id+".md")
}

func (u *uploads) finishHook(ev tusd.HookEvent) (tusd.HTTPResponse, error) {
	got, err := u.finish(ev.Context, ev.Upload)
	if err != nil {
		u.d.cfg.Log.Error("cannot move an upload into drop/", "upload", ev.Upload.ID, "err", err)
		return tusd.HTTPResponse{}, refuse(http.StatusInternalServerError, "the recording arrived but cannot be put in drop/: "+err.Error())
	}
	return tusd.HTTPResponse{Header: tusd.HTTPHeader{"X-Prodcast-Drop": got}}, nil
}

// finish moves a whole upload into its show's drop/: alone, as a lone
// recording, or with the notes of its draft, as a bundle folder named
// after the episode's slug. It returns the name it took in drop/.
func (u *uploads) finish(ctx context.Context, info tusd.FileInfo) (string, error) {
	dir, err := u.showFolder(ctx, info.MetaData["show"])
	if err != nil {
		return "", err
	}
	root, err := os.OpenRoot(u.root)
	if err != nil {
		return "", err
	}
	defer root.Close()
	bin, err := filepath.Rel(u.root, info.Storage[filestore.StorageKeyPath])
	if err != nil {
		return "", err
	}
	name := CleanName(info.MetaData["filename"])
	drop := path.Join(dir, "drop")
	var got string
	if id := info.MetaData["draft"]; id != "" && draftID.MatchString(id) {
		got, err = u.bundle(root, bin, name, id, drop)
	} else {
		got, err = moveIn(root, filepath.ToSlash(bin), drop, name)
	}
	if err != nil {
		return "", err
	}
	_ = root.Remove(filepath.ToSlash(bin) + ".info")
	u.d.cfg.Log.Info("upload in drop/", "show", info.MetaData["show"], "entry", got, "bytes", info.Size)
	return got, nil
}

// bundle puts the recording and its draft's episode.md into a folder,
// then moves the folder into drop/ in one rename.
func (u *uploads) bundle(root *os.Root, bin, name, id, drop string) (string, error) {
	notes, err := root.ReadFile(path.Join(stagingDir, "drafts", id+".md"))
	if err != nil {
		return "", fmt.Errorf("the notes sent with the recording are gone: %w", err)
	}
	folder := path.Join(stagingDir, "bundles", id)
	if err := root.MkdirAll(folder, 0o755); err != nil {
		return "", err
	}
	if err := root.WriteFile(path.Join(folder, "episode.md"), notes, 0o644); err != nil {
		return "", err
	}
	if name == "episode.md" || name == "ERROR.txt" {
		name = "recording" + path.Ext(name)
	}
	if err := root.Rename(filepath.ToSlash(bin), path.Join(folder, name)); err != nil {
		return "", err
	}
	got, err := moveIn(root, folder, drop, draftSlug(notes))
	if err != nil {
		return "", err
	}
	_ = root.Remove(path.Join(stagingDir, "drafts", id+".md"))
	return got, nil
}

// run sweeps the staging folder now and every ten minutes until ctx ends.
func (u *uploads) run(ctx context.Context) {
	if u.off != "" {
		return
	}
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		u.sweep(ctx, u.d.cfg.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep finishes the uploads that arrived whole but were not moved (the
// process stopped in between), and removes what was abandoned: uploads
// and drafts untouched for a day.
func (u *uploads) sweep(ctx context.Context, now time.Time) {
	tusDir := filepath.Join(u.root, stagingDir, "tus")
	entries, _ := os.ReadDir(tusDir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".info") {
			continue
		}
		id := strings.TrimSuffix(e.Name(), ".info")
		var info tusd.FileInfo
		b, err := os.ReadFile(filepath.Join(tusDir, e.Name()))
		if err != nil || json.Unmarshal(b, &info) != nil {
			continue
		}
		bin := filepath.Join(tusDir, id)
		fi, err := os.Stat(bin)
		if errors.Is(err, fs.ErrNotExist) {
			os.Remove(filepath.Join(tusDir, e.Name()))
			continue
		}
		if err != nil {
			continue
		}
		if !info.SizeIsDeferred && fi.Size() == info.Size && now.Sub(fi.ModTime()) > time.Minute {
			info.Offset = info.Size
			info.Storage = map[string]string{filestore.StorageKeyPath: bin}
			if got, err := u.finish(ctx, info); err != nil {
				u.d.cfg.Log.Error("cannot finish an upload", "upload", id, "err", err)
			} else {
				u.d.cfg.Log.Info("finished an upload left whole", "upload", id, "entry", got)
			}
			continue
		}
		if now.Sub(fi.ModTime()) > abandonAfter {
			os.Remove(bin)
			os.Remove(filepath.Join(tusDir, e.Name()))
			os.Remove(filepath.Join(tusDir, id+".lock"))
			u.d.cfg.Log.Info("removed an abandoned upload", "upload", id, "file", info.MetaData["filename"],
				"bytes", fi.Size(), "of", info.Size)
		}
	}
	drafts := filepath.Join(u.root, stagingDir, "drafts")
	entries, _ = os.ReadDir(drafts)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > abandonAfter {
			os.Remove(filepath.Join(drafts, e.Name()))
		}
	}
}
