package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Encode handles episode:encode. ffmpeg streams the original from a
// presigned URL and writes the MP3 to a temporary file, which is uploaded
// under a content-hashed, immutable key.
func (h *Handlers) Encode(ctx context.Context, t *asynq.Task) error {
	var p EpisodePayload
	if err := decode(t, &p); err != nil {
		return err
	}
	m, err := h.Catalog.Manifest(ctx, p.Slug)
	if err != nil {
		return err
	}
	if m.NeedsEncode() {
		show, err := h.Catalog.Show(ctx, h.BaseURL)
		if err != nil {
			return err
		}
		media, err := h.encode(ctx, show, m)
		if err != nil {
			if pipeline.IsInput(err) {
				return h.fail(ctx, p.BundleID, m.Bundle, m.Slug, err)
			}
			return err
		}
		m.MP3 = media
		if m.State == pipeline.StateIngested {
			m.State = pipeline.StateEncoded
		}
		if err := h.Catalog.PutManifest(ctx, m); err != nil {
			return err
		}
		h.Log.Info("episode encoded", "episode", m.Slug, "key", media.Key, "bytes", media.Bytes)
	}
	return h.enqueue(ctx)(NewPublishTask(m.Slug, p.BundleID, time.Time{}))
}

func (h *Handlers) encode(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest) (*pipeline.Media, error) {
	in, err := h.Store.PresignGet(ctx, m.Original.Key, 6*time.Hour)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(h.TempDir, "prodcast-*.mp3")
	if err != nil {
		return nil, fmt.Errorf("cannot create temporary file: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	tags := map[string]string{
		"title":   m.Meta.Title,
		"artist":  show.Author,
		"album":   show.Title,
		"comment": m.Meta.Summary,
		"date":    strconv.Itoa(m.PubDateOrNow(h.now()).Year()),
	}
	if m.Meta.Episode > 0 {
		tags["track"] = strconv.Itoa(m.Meta.Episode)
	}
	if err := ffmpeg.EncodeMP3(ctx, in, tmp.Name(), ffmpeg.MP3Options{Channels: m.Original.Channels, Tags: tags}); err != nil {
		return nil, pipeline.Inputf("export the recording again as WAV or FLAC and drop the bundle again",
			"cannot encode %q: %v", m.Original.Name, err)
	}
	info, err := ffmpeg.Probe(ctx, tmp.Name(), "encoded MP3")
	if err != nil {
		return nil, fmt.Errorf("cannot probe the encoded MP3: %w", err)
	}
	sum, size, err := fileSHA256(tmp.Name())
	if err != nil {
		return nil, err
	}
	key := catalog.MediaKey(m.Slug, sum, ".mp3")
	put := s3.Put{ContentType: "audio/mpeg", CacheControl: "public, max-age=31536000, immutable"}
	if err := h.Store.PutFile(ctx, key, tmp.Name(), put); err != nil {
		return nil, err
	}
	o, err := h.Store.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if o.Size != size {
		return nil, fmt.Errorf("uploaded %q has %d bytes, want %d", key, o.Size, size)
	}
	return &pipeline.Media{Key: key, ContentType: put.ContentType, Bytes: o.Size, Duration: info.Duration,
		SHA256: sum, Bitrate: info.BitRate, Source: m.Original.SHA256}, nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
