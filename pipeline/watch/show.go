package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/s3"
	"github.com/prodcast/prodcast/pipeline/site"
)

// syncShow uploads show.yaml, and the show's art if it is a local file,
// whenever either changed, and asks for a rebuild.
func (w *Watcher) syncShow(ctx context.Context) {
	path := filepath.Join(w.Dir, "show.yaml")
	// Cheap check first: it runs at every scan.
	stat := statKey(path) + "|" + statKey(w.showArtPath) + "|" + dirStatKey(w.showTemplates)
	if stat == w.showStat {
		return
	}
	w.showStat = stat
	data, err := os.ReadFile(path)
	if err != nil {
		if w.showSeen != "missing" {
			w.Log.Error("cannot read show.yaml; create it (prodcast up writes a starter)", "path", path, "err", err)
			w.showSeen = "missing"
		}
		return
	}
	show, err := bundle.ParseShow(data, "http://placeholder.invalid")
	if err != nil {
		if w.showSeen != "invalid" {
			w.Log.Error("show.yaml is not valid; keeping the last good one", "err", err)
			w.showSeen = "invalid"
		}
		return
	}
	sum := sha256.Sum256(data)
	fp := hex.EncodeToString(sum[:])
	var art []byte
	artPath := ""
	if show.Image != "" && !strings.Contains(show.Image, "://") {
		artPath = show.Image
		if !filepath.IsAbs(artPath) {
			artPath = filepath.Join(w.Dir, artPath)
		}
		w.showArtPath = artPath
		if artPath, err = w.prepareArt(ctx, artPath); err != nil {
			w.Log.Error("the show image named in show.yaml cannot be used; keeping the last good show", "image", show.Image, "err", err)
			return
		}
		if art, err = os.ReadFile(artPath); err != nil {
			w.Log.Error("cannot read the show image named in show.yaml", "image", show.Image, "err", err)
			return
		}
		a := sha256.Sum256(art)
		fp += hex.EncodeToString(a[:])
	}
	templates, err := w.readTemplates(show.Templates)
	if err != nil {
		w.Log.Error("the templates named in show.yaml cannot be used; keeping the last good show", "templates", show.Templates, "err", err)
		return
	}
	fp += site.TemplatesKey(templates)
	w.showStat = statKey(path) + "|" + statKey(w.showArtPath) + "|" + dirStatKey(w.showTemplates)
	if fp == w.showSeen {
		return
	}
	if err := w.cat.PutTemplates(ctx, templates); err != nil {
		w.Log.Error("cannot upload the templates", "err", err)
		return
	}
	if err := w.publishShow(ctx, data, show.Image, artPath, art); err != nil {
		w.Log.Error("cannot upload the show", "err", err)
		return
	}
	w.showSeen = fp
	w.Log.Info("show.yaml uploaded", "title", show.Title)
}

func (w *Watcher) publishShow(ctx context.Context, data []byte, image, artPath string, art []byte) error {
	cat := w.cat
	if err := cat.PutShow(ctx, data); err != nil {
		return err
	}
	ref := image
	if art != nil {
		a := sha256.Sum256(art)
		ext := strings.ToLower(filepath.Ext(artPath))
		ref = cat.Keys.ArtKey(hex.EncodeToString(a[:]), ext)
		err := w.Store.PutBytes(ctx, ref, art, s3.Put{
			ContentType:  mime.TypeByExtension(ext),
			CacheControl: "public, max-age=31536000, immutable",
		})
		if err != nil {
			return fmt.Errorf("cannot upload show art: %w", err)
		}
	}
	if err := cat.PutShowArt(ctx, ref); err != nil {
		return err
	}
	return w.Queue.EnqueueRebuild(ctx, w.Show, false)
}

// statKey is a file's size and modification time, "" if it is missing.
func statKey(path string) string {
	if path == "" {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d", fi.Size(), fi.ModTime().UnixNano())
}

// prepareArt checks the show's art and fixes what can be fixed (size,
// colour space, alpha) into a JPEG next to the claim files. Without ffmpeg
// the art is used as it is.
func (w *Watcher) prepareArt(ctx context.Context, path string) (string, error) {
	if ffmpeg.Check() != nil {
		w.Log.Warn("ffmpeg is not installed here; publishing the show art unchecked", "image", path)
		return path, nil
	}
	fixed := filepath.Join(w.Dir, "processing", ".show-art.jpg")
	return ffmpeg.PrepareArt(ctx, path, fixed, filepath.Base(path))
}

// dirStatKey is the names, sizes and times of a folder's files, "" if it
// is missing.
func dirStatKey(dir string) string {
	if dir == "" {
		return ""
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.Name() + "=" + statKey(filepath.Join(dir, e.Name())) + ";")
	}
	return b.String()
}

// readTemplates reads the show's own templates from the folder show.yaml
// names (none if it names none) and checks that the site renders with them.
func (w *Watcher) readTemplates(folder string) (map[string][]byte, error) {
	w.showTemplates = ""
	if folder == "" {
		return nil, nil
	}
	dir := folder
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(w.Dir, dir)
	}
	w.showTemplates = dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || bundle.Ignored(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = data
	}
	if err := site.Check(files); err != nil {
		return nil, err
	}
	return files, nil
}
