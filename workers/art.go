package workers

import (
	"context"
	"errors"
	"path"
	"path/filepath"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
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
	return ready, nil
}
