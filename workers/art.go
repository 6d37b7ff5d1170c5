package workers

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// episodeArt finds the episode's art (the bundle's cover, else the show's),
// checks and fixes it, publishes it under a content-hashed key, and returns
// a local copy to embed. It returns "" when there is no art to embed.
func (h *Handlers) episodeArt(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, tmp string) (string, error) {
	keys := h.Catalog(show.Name).Keys
	src := m.Cover
	if src == "" && keys.IsPublic(show.Art) {
		src = show.Art
	}
	if src == "" {
		m.Art = ""
		return "", nil
	}
	raw := filepath.Join(tmp, "art-in"+strings.ToLower(path.Ext(src)))
	if err := h.Store.GetFile(ctx, src, raw); err != nil {
		if errors.Is(err, pipeline.ErrNotFound) && src == show.Art {
			return "", nil // show art replaced meanwhile; the next encode has it
		}
		return "", err
	}
	ready, err := ffmpeg.PrepareArt(ctx, raw, filepath.Join(tmp, "art.jpg"), path.Base(src))
	if err != nil {
		return "", err
	}
	sum, size, err := fileSHA256(ready)
	if err != nil {
		return "", err
	}
	ext := strings.ToLower(filepath.Ext(ready))
	key := keys.ArtKey(sum, ext)
	ct := "image/jpeg"
	if ext == ".png" {
		ct = "image/png"
	}
	if err := h.putMedia(ctx, keys, m, key, ready, size, s3.Put{ContentType: ct,
		CacheControl: "public, max-age=31536000, immutable"}); err != nil {
		return "", err
	}
	m.Art = key
	sizes, err := artSizes(ctx, keys, key, ready, tmp, h.stored(ctx), func(key, path string, size int64, ct string) error {
		return h.putMedia(ctx, keys, m, key, path, size, s3.Put{ContentType: ct, CacheControl: "public, max-age=31536000, immutable"})
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		// The art itself is fine and embedded; apps and pages use it whole.
		h.Log.Warn("cannot make the art's sizes; it is published at its own only", "episode", m.Slug, "err", err)
		m.Warnings = append(m.Warnings, "the art could not be scaled for apps and the blog: "+err.Error())
	}
	m.ArtSizes = sizes
	return ready, nil
}

// artSizes scales the art at local path, published at key, to
// ffmpeg.ArtWidths as JPEG and WebP, and puts each next to it, unless
// have says all of them are there. It returns the art's own size first,
// then the scaled ones.
func artSizes(ctx context.Context, keys catalog.Layout, key, local, tmp string,
	have func(key string) bool, put func(key, path string, size int64, contentType string) error) ([]pipeline.Image, error) {
	info, err := ffmpeg.ProbeImage(ctx, local, path.Base(key))
	if err != nil {
		return nil, err
	}
	own := pipeline.Image{Key: key, Width: info.Width, Height: info.Height, Type: "image/jpeg"}
	if info.Codec == "png" {
		own.Type = "image/png"
	}
	out := []pipeline.Image{own}
	// Art is stored by its hash, and so are its sizes: the show's art, and
	// any an earlier episode used, are scaled once.
	plan := ffmpeg.ArtPlan(info)
	made := len(plan) > 0
	for _, v := range plan {
		k := keys.ArtSizeKey(key, v.Width, filepath.Ext(v.Path))
		made = made && have(k)
		out = append(out, pipeline.Image{Key: k, Width: v.Width, Height: v.Height, Type: v.Type})
	}
	if made {
		return out, nil
	}
	out = out[:1]
	dir, err := os.MkdirTemp(tmp, "art-sizes-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	variants, err := ffmpeg.ArtVariants(ctx, local, dir, path.Base(key), info)
	if err != nil {
		return nil, err
	}
	for _, v := range variants {
		fi, err := os.Stat(v.Path)
		if err != nil {
			return nil, err
		}
		k := keys.ArtSizeKey(key, v.Width, filepath.Ext(v.Path))
		if err := put(k, v.Path, fi.Size(), v.Type); err != nil {
			return nil, err
		}
		out = append(out, pipeline.Image{Key: k, Width: v.Width, Height: v.Height, Type: v.Type})
	}
	return out, nil
}

// stored says whether an object is in the bucket, not empty.
func (h *Handlers) stored(ctx context.Context) func(key string) bool {
	return func(key string) bool {
		o, err := h.Store.Stat(ctx, key)
		return err == nil && o.Size > 0
	}
}

// showArtSizes makes the sizes of the show's art once per art, and sets
// them on show. A failure is kept, logged and not tried again for the same
// art: the show's art is still published at its own size.
func (h *Handlers) showArtSizes(ctx context.Context, cat *catalog.Catalog, show *pipeline.Show) error {
	if show.Art == "" || !cat.Keys.IsPublic(show.Art) || len(show.ArtSizes) > 0 {
		return nil
	}
	if done, err := cat.ShowArtSizes(ctx); err == nil && done.Of == show.Art {
		return nil // failed before; the error is kept there
	} else if err != nil && !errors.Is(err, pipeline.ErrNotFound) {
		return err
	}
	dir, err := newEncodeDir(h.TempDir)
	if err != nil {
		return err
	}
	defer dir.Release()
	tmp := dir.Path
	local := filepath.Join(tmp, "show-art"+strings.ToLower(path.Ext(show.Art)))
	if err := h.Store.GetFile(ctx, show.Art, local); err != nil {
		if errors.Is(err, pipeline.ErrNotFound) {
			return nil // replaced meanwhile; the rebuild the watcher asked for has the new one
		}
		return err
	}
	record := &catalog.ArtSizes{Of: show.Art}
	sizes, err := artSizes(ctx, cat.Keys, show.Art, local, tmp, h.stored(ctx), func(key, path string, size int64, ct string) error {
		if err := h.fence(ctx); err != nil {
			return err
		}
		return h.Store.PutFile(ctx, key, path, s3.Put{ContentType: ct, CacheControl: "public, max-age=31536000, immutable"})
	})
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrLeaseLost) {
			return err
		}
		h.Log.Warn("cannot make the show art's sizes; it is published at its own only", "show", show.Name, "err", err)
		record.Error = err.Error()
	}
	record.Sizes = sizes
	if err := h.fence(ctx); err != nil {
		return err
	}
	if err := cat.PutShowArtSizes(ctx, record); err != nil {
		return err
	}
	show.ArtSizes = sizes
	return nil
}
