package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/internal/fetch"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/s3"
	"github.com/prodcast/prodcast/pipeline/transcript"
)

// fetchSmall GETs a small file (a transcript, chapters, art) of at most limit
// bytes, with feedClient's timeout.
func fetchSmall(ctx context.Context, u string, limit int64) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := feedClient.Do(req, fetch.Input)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%s answers %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("cannot read %s: %w", u, err)
	}
	if int64(len(data)) > limit {
		return nil, "", fmt.Errorf("%s is larger than %d bytes", u, limit)
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// importShowYAML writes what the old feed says of the show as a whole. A
// show.yaml that is still the starter one `up` wrote (or none) is
// replaced; one the producer wrote is left alone, and the import's goes
// beside it as show.imported.yaml.
func (m *Main) importShowYAML(ctx context.Context, show, src string, imp *feeds.ImportedShow) error {
	dir := m.Config.Data
	if show != "" {
		dir = filepath.Join(dir, "shows", show)
	}
	target := filepath.Join(dir, "show.yaml")
	first := fmt.Sprintf("# show.yaml of %q, imported from %s", imp.Show.Title, src)
	current, err := os.ReadFile(target)
	// The producer's own, unless it is the starter or this import's.
	ours := err == nil && !bundle.IsStarterShow(current) && !strings.HasPrefix(string(current), first+"\n")
	image := ""
	if imp.ImageURL != "" {
		if m.keepMediaURLs {
			image = imp.ImageURL
		} else if name, err := downloadArt(ctx, imp.ImageURL, dir, ours); err != nil {
			fmt.Fprintf(m.Stdout, "  ~ the show art is not kept: %v\n", err)
		} else {
			image = name
		}
	}
	header := fmt.Sprintf("%s\non %s. Check it, then edit it as you like: prodcast picks up changes.",
		strings.TrimPrefix(first, "# "), time.Now().UTC().Format("2006-01-02"))
	data, err := imp.YAML(header, image)
	if err != nil {
		return err
	}
	if _, err := bundle.ParseShow(data, m.Config.BaseURL); err != nil {
		ours = true // written beside, for the producer to complete
		fmt.Fprintf(m.Stdout, "  ~ the old feed's show settings are incomplete: %v\n", err)
	}
	if ours {
		target = filepath.Join(dir, "show.imported.yaml")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeFileAtomic(target, data); err != nil {
		return fmt.Errorf("cannot write the imported show settings: %w", err)
	}
	if ours {
		fmt.Fprintf(m.Stdout, "the old feed's show settings are in %s; show.yaml is left as it is: move over what you want to keep\n", target)
	} else {
		fmt.Fprintf(m.Stdout, "%s now holds the old feed's show settings (title, art, owner, category, podcast: tags)\n", target)
	}
	return nil
}

// writeFileAtomic writes a file that a watcher may read at any moment.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".import-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// downloadArt saves the old feed's show art in the show's folder as
// cover.<ext> (cover-imported.<ext> beside the producer's own files) and
// returns its name.
func downloadArt(ctx context.Context, u, dir string, keepTheirs bool) (string, error) {
	data, ctype, err := fetchSmall(ctx, u, 32<<20)
	if err != nil {
		return "", err
	}
	ext := strings.ToLower(path.Ext(strings.SplitN(u, "?", 2)[0]))
	if ext != ".jpg" && ext != ".jpeg" && ext != ".png" {
		ext = ".jpg"
		if strings.HasPrefix(ctype, "image/png") {
			ext = ".png"
		}
	}
	name := "cover" + ext
	if _, err := os.Stat(filepath.Join(dir, name)); err == nil && keepTheirs {
		name = "cover-imported" + ext
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return name, writeFileAtomic(filepath.Join(dir, name), data)
}

// importArt brings an episode's own art: uploaded beside its original, to
// be checked and published by the encode, or linked where it is.
func (m *Main) importArt(ctx context.Context, st *s3.Store, cat *catalog.Catalog, it feeds.Imported) error {
	if it.ArtURL == "" {
		return nil
	}
	mf := it.Manifest
	if m.keepMediaURLs {
		mf.Art = it.ArtURL
		return nil
	}
	data, ctype, err := fetchSmall(ctx, it.ArtURL, 32<<20)
	if err != nil {
		return err
	}
	ext := ".jpg"
	if strings.HasPrefix(ctype, "image/png") || strings.HasSuffix(strings.ToLower(strings.SplitN(it.ArtURL, "?", 2)[0]), ".png") {
		ext = ".png"
	}
	sum := sha256.Sum256(data)
	key := cat.Keys.OriginalKey(mf.Slug, hex.EncodeToString(sum[:]), "cover"+ext)
	if err := st.PutBytes(ctx, key, data, s3.Put{ContentType: mime.TypeByExtension(ext)}); err != nil {
		return err
	}
	mf.Cover = key
	return nil
}

// importTranscripts brings an episode's transcripts: the one in the old
// feed's language is its main one, the others its translations.
func (m *Main) importTranscripts(ctx context.Context, cat *catalog.Catalog, it feeds.Imported, showLang string) error {
	if m.keepMediaURLs || len(it.Transcripts) == 0 {
		return nil
	}
	mf := it.Manifest
	main := 0
	for i, t := range it.Transcripts {
		if strings.EqualFold(t.Language, showLang) {
			main = i
			break
		}
	}
	for i, t := range it.Transcripts {
		if i != main && !pipeline.IsLanguageTag(t.Language) {
			fmt.Fprintf(m.Stdout, "  ~ %s: its transcript at %s is not kept: language %q is not a language tag\n", mf.Meta.Title, t.URL, t.Language)
			continue
		}
		data, _, err := fetchSmall(ctx, t.URL, 16<<20)
		if err != nil {
			fmt.Fprintf(m.Stdout, "  ~ %s: its transcript (%s) is not kept: %v\n", mf.Meta.Title, t.Language, err)
			continue
		}
		cues, _, err := transcript.Parse(t.Name, data, 0)
		if err != nil {
			fmt.Fprintf(m.Stdout, "  ~ %s: its transcript (%s) is not kept: %v\n", mf.Meta.Title, t.Language, err)
			continue
		}
		sum := sha256.Sum256(data)
		hexSum := hex.EncodeToString(sum[:])
		ref := pipeline.TranscriptRef{Key: cat.Keys.TranscriptKey(mf.Slug, hexSum), Name: t.Name, SHA256: hexSum,
			Cues: len(cues), Speakers: transcript.Speakers(cues)}
		if i != main {
			ref.Language = t.Language
			ref.Name = strings.TrimSuffix(t.Name, path.Ext(t.Name)) + "." + t.Language + path.Ext(t.Name)
		}
		if err := cat.PutTranscript(ctx, &ref, cues); err != nil {
			return err
		}
		if i == main {
			mf.Transcript = &ref
			if !strings.EqualFold(t.Language, showLang) && pipeline.IsLanguageTag(t.Language) {
				mf.Meta.TranscriptLanguage = t.Language
			}
		} else {
			mf.Translations = append(mf.Translations, ref)
		}
	}
	return nil
}
