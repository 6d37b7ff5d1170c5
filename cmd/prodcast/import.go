package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/internal/fetch"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/chapters"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/s3"
	"github.com/prodcast/prodcast/workers"
)

// runImport brings an existing show's episodes into the catalog, keeping
// their GUIDs, dates, notes and media.
func (m *Main) runImport(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: prodcast import [--keep-media-urls] FEED (a URL or a file)")
	}
	src := args[0]
	data, err := readFeed(ctx, src)
	if err != nil {
		return err
	}
	f, items, skipped, err := feeds.Import(data, src)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		for _, sk := range skipped {
			fmt.Fprintf(m.Stdout, "  ! item %d %q not imported: %s\n", sk.Item, sk.Title, sk.Why)
		}
		if len(f.Items) == 0 {
			return fmt.Errorf("%s has no episodes (no <item>): nothing to import; is it the podcast's feed?", src)
		}
		return fmt.Errorf("none of the %d items of %s can be imported (listed above): nothing was imported; is it the podcast's feed, with an <enclosure> of audio in each episode?", len(f.Items), src)
	}
	if err := m.resolveServices(); err != nil {
		return err
	}
	svc, err := m.connect(ctx, true, true)
	if err != nil {
		return err
	}
	q := workers.NewClient(svc.redis)
	defer q.Close()
	show, err := m.pickShow(ctx, svc.store)
	if err != nil {
		return err
	}
	cat := catalog.ForShow(svc.store, show)
	existing, err := cat.Manifests(ctx)
	if err != nil {
		return err
	}
	byGUID, slugs := map[string]string{}, map[string]bool{}
	for _, e := range existing {
		byGUID[e.GUID], slugs[e.Slug] = e.Slug, true
	}
	fmt.Fprintf(m.Stdout, "importing %d episodes of %q into %s\n", len(items), f.Title, showLabel(show))
	imported := feeds.ImportShow(f)
	if err := m.importShowYAML(ctx, show, src, imported); err != nil {
		return err
	}
	n, already := 0, 0
	for _, it := range items {
		mf := it.Manifest
		if slug, ok := byGUID[mf.GUID]; ok {
			fmt.Fprintf(m.Stdout, "  = %s (GUID %s is already here)\n", slug, mf.GUID)
			already++
			continue
		}
		for i := 2; slugs[mf.Slug]; i++ {
			mf.Slug = fmt.Sprintf("%s-%d", it.Manifest.Meta.Slug, i)
		}
		mf.Meta.Slug, slugs[mf.Slug] = mf.Slug, true
		if it.ChaptersURL != "" && !m.keepMediaURLs {
			if cs, err := fetchChapters(ctx, it.ChaptersURL); err != nil {
				fmt.Fprintf(m.Stdout, "  ~ %s: its chapters are not kept: %v\n", mf.Meta.Title, err)
			} else {
				mf.Chapters = cs
			}
		}
		err := m.importArt(ctx, svc.store, cat, it)
		if err == nil {
			err = m.importTranscripts(ctx, cat, it, imported.Show.Language)
		}
		if err == nil && m.keepMediaURLs {
			err = m.linkMedia(ctx, cat, it)
		} else if err == nil {
			err = m.copyMedia(ctx, svc.store, cat, q, it)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// One episode that cannot be had now does not hold up the
			// others: it is reported, and the same import run again
			// takes it (the others are already here).
			skipped = append(skipped, feeds.Skipped{Title: mf.Meta.Title, Why: err.Error()})
			delete(slugs, mf.Slug)
			fmt.Fprintf(m.Stdout, "  ! %s: %v\n", mf.Meta.Title, err)
			continue
		}
		n++
		fmt.Fprintf(m.Stdout, "  + %s  GUID %s  %s\n", mf.Slug, mf.GUID, mf.PublishedAt.Format("2006-01-02"))
	}
	if err := q.EnqueueRebuild(ctx, show, false); err != nil {
		return err
	}
	lost := 0
	for _, sk := range skipped {
		where := ""
		if sk.Item > 0 {
			where = fmt.Sprintf("item %d ", sk.Item)
		}
		mark := "!"
		if sk.Duplicate {
			mark = "="
		} else {
			lost++
		}
		fmt.Fprintf(m.Stdout, "  %s %s%q not imported: %s\n", mark, where, sk.Title, sk.Why)
	}
	feedURL := pipeline.ShowBaseURL(m.Config.BaseURL, show) + "/feed.xml"
	if n+already == 0 {
		return fmt.Errorf("none of the feed's %d items could be imported (listed above): fix them and run the same import again", len(f.Items))
	}
	fmt.Fprintf(m.Stdout, `imported %d episodes; the feed is rebuilt as the workers finish (see prodcast status).

To move the show here without apps downloading episodes again:
  1. On the old host, add <itunes:new-feed-url>%s</itunes:new-feed-url> to the old feed.
  2. Then answer the old feed URL with a permanent redirect (HTTP 301) to %s.
  3. Keep the redirect for good; apps and directories follow it and keep the GUIDs.
`, n, feedURL, feedURL)
	if lost > 0 {
		return fmt.Errorf("%d of the feed's %d items were not imported (listed above; %d imported now, %d already here): fix them and run the same import again, which takes only what is missing",
			lost, len(f.Items), n, already)
	}
	return nil
}

// fetchChapters downloads an episode's podcast:chapters JSON.
func fetchChapters(ctx context.Context, u string) ([]pipeline.Chapter, error) {
	data, _, err := fetchSmall(ctx, u, 1<<20)
	if err != nil {
		return nil, err
	}
	cs, _, err := chapters.Parse("chapters.json", data, 0)
	return cs, err
}

// linkMedia records an episode whose media stays where it is.
func (m *Main) linkMedia(ctx context.Context, cat *catalog.Catalog, it feeds.Imported) error {
	length, typ := it.Length, it.Type
	if length <= 0 || typ == "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, it.MediaURL, nil)
		if err != nil {
			return err
		}
		resp, err := feedClient.Do(req, fetch.Input)
		if err != nil {
			return fmt.Errorf("the feed gives no length and HEAD %s fails: %w", it.MediaURL, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("the feed gives no length and HEAD %s answers %s", it.MediaURL, resp.Status)
		}
		if length <= 0 {
			length = resp.ContentLength
		}
		if typ == "" {
			typ = resp.Header.Get("Content-Type")
		}
	}
	if length <= 0 {
		return fmt.Errorf("neither the feed nor the server gives the length of %s", it.MediaURL)
	}
	mf := it.Manifest
	mf.PublishImported(pipeline.Media{Key: it.MediaURL, ContentType: typ, Bytes: length, Duration: it.Duration})
	return cat.PutManifest(ctx, mf)
}

// copyMedia downloads the media into private/originals/ and queues it to be
// encoded and published like a dropped recording.
func (m *Main) copyMedia(ctx context.Context, st *s3.Store, cat *catalog.Catalog, q *workers.Client, it feeds.Imported) error {
	tmp, err := os.CreateTemp("", "prodcast-import-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, it.MediaURL, nil)
	if err != nil {
		return err
	}
	resp, err := mediaClient.Do(req, fetch.Input)
	if err != nil {
		return fmt.Errorf("cannot download %s: %w", it.MediaURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cannot download %s: %s", it.MediaURL, resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if err != nil {
		return fmt.Errorf("cannot download %s: %w", it.MediaURL, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	name := path.Base(strings.SplitN(it.MediaURL, "?", 2)[0])
	if filepath.Ext(name) == "" {
		if exts, _ := mime.ExtensionsByType(it.Type); len(exts) > 0 {
			name += exts[0]
		}
	}
	if err := checkRecordingFile(tmp.Name(), name, n); err != nil {
		return err
	}
	info, err := ffmpeg.Probe(ctx, tmp.Name(), name)
	if err != nil {
		return err
	}
	mf := it.Manifest
	key := cat.Keys.OriginalKey(mf.Slug, sum, name)
	if err := st.PutFile(ctx, key, tmp.Name(), s3.Put{ContentType: it.Type}); err != nil {
		return err
	}
	mf.Ingest()
	mf.Original = pipeline.Original{Key: key, Name: name, Bytes: n, SHA256: sum,
		Duration: info.Duration, Channels: min(info.Channels, 2), Codec: info.Codec}
	if err := cat.PutManifest(ctx, mf); err != nil {
		return err
	}
	return q.EnqueueEncode(ctx, cat.ShowName(), mf.Slug, sum)
}

// checkRecordingFile refuses a downloaded enclosure that is not a
// recording, such as a playlist naming URLs for ffmpeg to fetch.
func checkRecordingFile(file, name string, size int64) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, min(size, bundle.WAVHeaderBytes))
	if _, err := io.ReadFull(f, head); err != nil {
		return fmt.Errorf("cannot read %q: %w", name, err)
	}
	return bundle.CheckRecording(name, head, size)
}
