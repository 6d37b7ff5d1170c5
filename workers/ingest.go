package workers

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/feeds"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/chapters"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/site"
	"github.com/prodcast/prodcast/pipeline/transcript"
)

// Handlers runs the stages, for every show. Its fields are the stages'
// dependencies.
type Handlers struct {
	Store   Store
	Client  Enqueuer
	Locker  Locker
	BaseURL string // the install's; a show's when its show.yaml names no base_url
	TempDir string // for encodes; "" is the system's
	Log     *slog.Logger
	Now     func() time.Time
	// Changed is told, after a rebuild uploaded a show's feed and pages,
	// so that web servers drop what they keep in memory (nil: nobody).
	Changed func(ctx context.Context, show string)
	// ServeGrace is how long a web server may answer a kept object without
	// asking the bucket: a rebuild waits that long after its upload before
	// it removes media the old feed named, so that no server that missed
	// the news can still name them.
	ServeGrace time.Duration
	// SplitOver is the length over which a recording is encoded in pieces
	// by all the workers at once: 0 for DefaultSplitOver, below 0 never.
	SplitOver time.Duration
	// Faults records the faults of the machine the tasks meet, for
	// status; nil counts them only.
	Faults *Faults

	mu    sync.Mutex
	cats  map[string]*catalog.Catalog // by show
	sites map[string]*site.Renderer   // by show
	feeds feeds.Builder               // keeps each show's items between rebuilds
	slots slots                       // the encode slots all shows share
	lanes *lanes                      // the encode queues this worker serves
	insp  serverLister                // to count the workers and their encode slots; may be nil
}

// serverLister lists the workers' asynq servers: an *asynq.Inspector.
type serverLister interface {
	Servers() ([]*asynq.ServerInfo, error)
}

// serveShow makes sure this worker serves a show's encode queue.
func (h *Handlers) serveShow(show string) {
	if h.lanes != nil {
		h.lanes.ensure(show)
	}
}

// Catalog returns the catalog of a show ("" for the root show). Each keeps
// the manifests it read, so it is made once per show.
func (h *Handlers) Catalog(show string) *catalog.Catalog {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cats == nil {
		h.cats = map[string]*catalog.Catalog{}
	}
	c, ok := h.cats[show]
	if !ok {
		c = catalog.ForShow(h.Store, show)
		h.cats[show] = c
	}
	return c
}

// Show reads a show as its watcher last uploaded it, with its base URL.
func (h *Handlers) Show(ctx context.Context, show string) (*pipeline.Show, error) {
	return h.Catalog(show).Show(ctx, pipeline.ShowBaseURL(h.BaseURL, show))
}

func (h *Handlers) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// Ingest handles bundle:ingest. It parses the bundle, probes the recording
// through a presigned URL, archives it under private/originals/ and
// updates the manifest; then it asks for an encode, or for a publish when
// the audio did not change.
func (h *Handlers) Ingest(ctx context.Context, t *asynq.Task) error {
	var p IngestPayload
	if err := decode(t, &p); err != nil {
		return err
	}
	log := h.Log.With("show", p.Show, "bundle", p.Bundle, "bundle_id", p.BundleID)
	m, err := h.ingest(ctx, p, log)
	var sup *supersededError
	if errors.As(err, &sup) {
		// Sent again (a wiped Redis) after a newer bundle of the same
		// episode was ingested: this one's work is in the episode's past.
		log.Info("bundle already ingested and since replaced", "episode", sup.slug)
		res := &pipeline.BundleResult{BundleID: p.BundleID, Bundle: p.Bundle, Slug: sup.slug, OK: true, Note: err.Error()}
		return h.Catalog(p.Show).PutResult(ctx, res)
	}
	if err != nil {
		if pipeline.IsInput(err) {
			return h.fail(ctx, p.Show, p.BundleID, p.Bundle, "", err)
		}
		return err
	}
	if m.NeedsEncode() {
		h.serveShow(p.Show)
		return h.enqueue(ctx)(NewEncodeTask(p.Show, m.Slug, p.BundleID, m.Original.SHA256))
	}
	log.Info("audio unchanged; not encoding again", "episode", m.Slug)
	return h.enqueue(ctx)(NewPublishTask(p.Show, m.Slug, p.BundleID, time.Time{}))
}

func (h *Handlers) ingest(ctx context.Context, p IngestPayload, log *slog.Logger) (*pipeline.Manifest, error) {
	cat := h.Catalog(p.Show)
	keys := cat.Keys
	names := make([]string, len(p.Files))
	files := map[string]pipeline.BundleFile{}
	for i, f := range p.Files {
		names[i] = f.Name
		files[f.Name] = f
	}
	var notes []byte
	if _, ok := files[bundle.NotesFile]; ok {
		var err error
		if notes, err = h.Store.Get(ctx, keys.BundleFileKey(p.BundleID, bundle.NotesFile)); err != nil {
			return nil, err
		}
	}
	b, err := bundle.Parse(p.Bundle, names, notes)
	if err != nil {
		return nil, err
	}
	if b.Recording == "" {
		return h.update(ctx, cat, b, p, log)
	}
	rec := files[b.Recording]
	if rec.Key != "" && !strings.HasPrefix(rec.Key, keys.Private()+"originals/") {
		return nil, fmt.Errorf("the watcher says it uploaded %q to %q, outside the archive; drop the bundle again", rec.Name, rec.Key)
	}
	upload := cmp.Or(rec.Key, keys.BundleFileKey(p.BundleID, rec.Name))
	if m, err := h.resumed(ctx, b, p, rec, upload); m != nil || err != nil {
		return m, err // a retry after the recording was archived
	}
	if rec.Bytes == 0 {
		return nil, pipeline.Inputf("export or copy the recording again, and drop it once the copy has finished",
			"the recording %q is empty (0 bytes)", rec.Name)
	}
	if err := h.checkHeader(ctx, upload, rec); err != nil {
		return nil, err
	}
	url, err := h.Store.PresignGet(ctx, upload, presignTTL)
	if err != nil {
		return nil, err
	}
	info, err := ffmpeg.Probe(ctx, url, rec.Name)
	if err != nil {
		return nil, err
	}
	if info.Duration < 1 {
		return nil, pipeline.Inputf("check the export; a recording must be at least one second long",
			"%q is only %.2f s long", rec.Name, info.Duration)
	}
	if !b.HasNotes {
		if err := nameLoneRecording(b, info, rec.Name); err != nil {
			return nil, err
		}
	}
	m, err := cat.Manifest(ctx, b.Meta.Slug)
	if errors.Is(err, pipeline.ErrNotFound) {
		m = &pipeline.Manifest{Slug: b.Meta.Slug, State: pipeline.StateIngested}
	} else if err != nil {
		return nil, err
	}
	m.Revive() // a deleted episode comes back under its GUID
	orig := keys.OriginalKey(m.Slug, rec.SHA256, rec.Name)
	// A recording encoded in pieces from this machine's copy (see
	// recordingInput) is fetched while it is archived, not after.
	fetched := make(chan struct{})
	if h.inPieces(info.Duration) && !seekable(rec.Name) {
		go func() {
			defer close(fetched)
			if _, err := h.localCopy(ctx, upload, rec.SHA256, rec.Bytes); err != nil {
				log.Warn("cannot fetch the recording while archiving it; the encode fetches it", "err", err)
			}
		}()
	} else {
		close(fetched)
	}
	defer func() { <-fetched }()
	if err := h.archive(ctx, upload, orig, rec); err != nil {
		return nil, err
	}
	m.Meta, m.NotesMD, m.Bundle, m.BundleID = b.Meta, b.Notes, p.Bundle, p.BundleID
	m.RefusedSHA256 = "" // a new bundle is encoded again, even with the same audio
	m.MediaKept = false
	m.Original = pipeline.Original{Key: orig, Name: rec.Name, Bytes: rec.Bytes, SHA256: rec.SHA256,
		Duration: info.Duration, Channels: min(info.Channels, 2), Codec: info.Codec, SampleRate: info.SampleRate}
	var chapterWarnings, transcriptWarnings []string
	if m.Chapters, chapterWarnings, err = h.bundleChapters(ctx, b, p, info.Duration); err != nil {
		return nil, err
	}
	if m.Transcript, m.Translations, transcriptWarnings, err = h.bundleTranscripts(ctx, b, p, m.Slug, info.Duration); err != nil {
		return nil, err
	}
	m.Warnings = append(chapterWarnings, transcriptWarnings...)
	for _, w := range m.Warnings {
		log.Warn("bundle warning", "episode", m.Slug, "warning", w)
	}
	m.Cover = coverKey(keys, b, p.BundleID)
	if err := cat.PutManifest(ctx, m); err != nil {
		return nil, err
	}
	if err := cat.PutIngested(ctx, p.BundleID, m.Slug); err != nil {
		return nil, err
	}
	// The archive holds the recording now; drop the upload's copy, if it
	// is one: a recording uploaded to an archive key other than this
	// episode's (a watcher that named the episode otherwise) is left.
	<-fetched
	if upload == keys.BundleFileKey(p.BundleID, rec.Name) {
		if err := h.Store.Delete(ctx, upload); err != nil {
			return nil, err
		}
	} else if upload != orig {
		log.Warn("the watcher archived the recording under another episode's key; it is left there",
			"episode", m.Slug, "key", upload)
	}
	log.Info("bundle ingested", "episode", m.Slug, "duration", info.Duration, "codec", info.Codec)
	return m, nil
}

// update applies a bundle without a recording to its episode: the notes
// and front matter, and the chapters, transcript and cover it brings. No
// encode runs: the media, its URLs and the GUID stay.
func (h *Handlers) update(ctx context.Context, cat *catalog.Catalog, b *bundle.Bundle, p IngestPayload, log *slog.Logger) (*pipeline.Manifest, error) {
	m, err := cat.Manifest(ctx, b.Meta.Slug)
	if (err == nil && (m.State == pipeline.StateDeleted || m.MP3 == nil)) || errors.Is(err, pipeline.ErrNotFound) {
		return nil, pipeline.Inputf("add one recording ("+strings.Join(bundle.AudioExts, ", ")+") to the bundle folder, or set slug: to that of an episode to update",
			"bundle %q has no recording, and there is no published episode %q for it to update", p.Bundle, b.Meta.Slug)
	}
	if err != nil {
		return nil, err
	}
	duration := m.Original.Duration
	if m.MP3 != nil {
		duration = m.MP3.Duration
	}
	chapters, chapterWarnings, err := h.bundleChapters(ctx, b, p, duration)
	if err != nil {
		return nil, err
	}
	transcriptRef, translations, transcriptWarnings, err := h.bundleTranscripts(ctx, b, p, m.Slug, duration)
	if err != nil {
		return nil, err
	}
	m.Meta, m.NotesMD, m.Bundle, m.BundleID = b.Meta, b.Notes, p.Bundle, p.BundleID
	if chapters != nil {
		m.Chapters = chapters
	}
	if transcriptRef != nil {
		m.Transcript = transcriptRef
	}
	if translations != nil {
		m.Translations = translations
	}
	m.Warnings = append(chapterWarnings, transcriptWarnings...)
	if cover := coverKey(cat.Keys, b, p.BundleID); cover != "" {
		m.Cover = cover
		show, err := h.Show(ctx, p.Show)
		if err != nil {
			return nil, err
		}
		dir, err := newEncodeDir(h.TempDir)
		if err != nil {
			return nil, err
		}
		defer dir.Release()
		if _, err := h.episodeArt(ctx, show, m, dir.Path); err != nil {
			return nil, err
		}
	}
	m.MediaKept = true
	if err := cat.PutManifest(ctx, m); err != nil {
		return nil, err
	}
	if err := cat.PutIngested(ctx, p.BundleID, m.Slug); err != nil {
		return nil, err
	}
	log.Info("episode updated without its recording; not encoding", "episode", m.Slug)
	return m, nil
}

// checkHeader refuses a recording that is text, such as a playlist that
// would have ffmpeg fetch what it names, and a WAV whose header promises
// more audio than the file holds (a copy cut short), reading only its
// first bytes.
func (h *Handlers) checkHeader(ctx context.Context, key string, rec pipeline.BundleFile) error {
	n := int64(bundle.SniffBytes)
	if strings.EqualFold(path.Ext(rec.Name), ".wav") {
		n = bundle.WAVHeaderBytes
	}
	r, _, err := h.Store.OpenObject(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	head := make([]byte, min(rec.Bytes, n))
	if _, err := io.ReadFull(r, head); err != nil {
		return fmt.Errorf("cannot read the header of %q: %w", rec.Name, err)
	}
	return bundle.CheckRecording(rec.Name, head, rec.Bytes)
}

// nameLoneRecording names an episode dropped as a lone recording: from its
// title tag, else from its file name.
func nameLoneRecording(b *bundle.Bundle, info *ffmpeg.Info, name string) error {
	b.Meta.Title = info.Title()
	if r := []rune(b.Meta.Title); len(r) > bundle.MaxTitle {
		b.Meta.Title = string(r[:bundle.MaxTitle])
	}
	if b.Meta.Title == "" {
		b.Meta.Title = bundle.TitleFromFile(name)
	}
	b.Meta.Slug = bundle.SlugFromTitle(b.Meta.Title)
	if b.Meta.Slug == "" {
		return pipeline.Inputf("rename the file, or drop it in a folder with an episode.md",
			"cannot make an episode name from %q", name)
	}
	return nil
}

// coverKey is where the bundle's cover was uploaded, "" if it has none.
func coverKey(keys catalog.Layout, b *bundle.Bundle, bundleID string) string {
	for _, x := range b.Extras {
		if n := strings.ToLower(x); n == "cover.jpg" || n == "cover.jpeg" || n == "cover.png" {
			return keys.BundleFileKey(bundleID, x)
		}
	}
	return ""
}

// archive copies the uploaded recording to its permanent key, once, and
// checks the copy's size. A recording the watcher uploaded to its
// permanent key is not copied. Its SHA-256 was checked as the watcher
// uploaded it, and is again whenever a worker downloads it.
func (h *Handlers) archive(ctx context.Context, from, to string, rec pipeline.BundleFile) error {
	o, err := h.Store.Stat(ctx, to)
	if err == nil && o.Size == rec.Bytes {
		return nil
	}
	if from == to {
		if err != nil && !errors.Is(err, pipeline.ErrNotFound) {
			return err
		}
		return pipeline.Inputf("drop the bundle again: move it from failed/ back into drop/",
			"the recording %q is not in the archive at %q, where the watcher uploaded it", rec.Name, to)
	}
	if err := h.Store.Copy(ctx, from, to); err != nil {
		return err
	}
	o, err = h.Store.Stat(ctx, to)
	if err != nil {
		return err
	}
	if o.Size != rec.Bytes {
		_ = h.Store.Delete(ctx, to)
		return fmt.Errorf("archived original %q has %d bytes, want %d", to, o.Size, rec.Bytes)
	}
	return nil
}

// resumed returns the manifest of a bundle whose ingest already archived
// its recording (and deleted the upload), so that a retry, or an ingest
// sent again after Redis was wiped, does not probe a recording that is no
// longer uploaded, nor ingest again a bundle since encoded. A recording
// the watcher uploaded to its archive key (rec.Key) is never deleted: the
// bundle's ingested record alone says it was ingested.
func (h *Handlers) resumed(ctx context.Context, b *bundle.Bundle, p IngestPayload, rec pipeline.BundleFile, upload string) (*pipeline.Manifest, error) {
	cat := h.Catalog(p.Show)
	archived := rec.Key != ""
	if !archived {
		_, err := h.Store.Stat(ctx, upload)
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, pipeline.ErrNotFound) {
			return nil, err
		}
	}
	slug, err := cat.Ingested(ctx, p.BundleID)
	if errors.Is(err, pipeline.ErrNotFound) {
		if archived {
			return nil, nil
		}
		return nil, fmt.Errorf("the recording of bundle %q is not uploaded, and no episode records it; "+
			"the watcher uploads it again, or move the bundle from processing/ back into drop/", p.Bundle)
	}
	if err != nil {
		return nil, err
	}
	m, err := cat.Manifest(ctx, slug)
	if err != nil {
		return nil, err
	}
	if m.BundleID != p.BundleID {
		return nil, &supersededError{slug: slug, by: m.Bundle}
	}
	return m, nil
}

// supersededError says that a bundle's episode was changed since by a
// newer bundle.
type supersededError struct{ slug, by string }

func (e *supersededError) Error() string {
	return fmt.Sprintf("episode %q was updated since by bundle %q", e.slug, e.by)
}

// fail reports a bundle that cannot succeed and stops its retries.
func (h *Handlers) fail(ctx context.Context, show, bundleID, name, slug string, cause error) error {
	res := &pipeline.BundleResult{BundleID: bundleID, Bundle: name, Slug: slug, Problem: cause.Error()}
	var ie *pipeline.InputError
	if errors.As(cause, &ie) {
		res.Problem, res.Fix = ie.Problem, ie.Fix
		if ie.Err != nil {
			res.Problem += ": " + ie.Err.Error()
		}
	}
	if err := h.Catalog(show).PutResult(ctx, res); err != nil {
		return err // retried: the outcome must reach the watcher
	}
	bundlesTotal.WithLabelValues("refused").Inc()
	h.Log.Warn("bundle refused", "show", show, "bundle", name, "problem", res.Problem, "fix", res.Fix)
	if s, err := h.Show(ctx, show); err == nil {
		m := &pipeline.Manifest{Slug: slug, Meta: pipeline.Meta{Title: name}}
		if err := h.emit(ctx, s, "bundle.failed", m, res.Problem+"\nHow to fix it: "+res.Fix); err != nil {
			return err
		}
	}
	// The task did its work: the outcome is recorded and the watcher moves
	// the bundle to failed/. So it completes, rather than being archived,
	// and the reconciler can take every archived task for an outage's.
	return nil
}

// enqueue returns a function that sends the task a constructor returned,
// so that h.enqueue(ctx)(NewXxxTask(...)) reads as one step.
func (h *Handlers) enqueue(ctx context.Context) func(*asynq.Task, error) error {
	return func(t *asynq.Task, err error) error {
		if err != nil {
			return err
		}
		return enqueue(ctx, h.Client, t)
	}
}

// bundleChapters reads and checks the bundle's chapters, if it has any,
// and says what is worth a look but does not stop the episode.
func (h *Handlers) bundleChapters(ctx context.Context, b *bundle.Bundle, p IngestPayload, duration float64) ([]pipeline.Chapter, []string, error) {
	for _, x := range b.Extras {
		for _, name := range chapters.Files {
			if !strings.EqualFold(x, name) {
				continue
			}
			data, err := h.Store.Get(ctx, h.Catalog(p.Show).Keys.BundleFileKey(p.BundleID, x))
			if err != nil {
				return nil, nil, err
			}
			return chapters.Parse(x, data, duration)
		}
	}
	return nil, nil, nil
}

// bundleTranscripts reads and checks the bundle's transcripts, if it has
// any: transcript.vtt (or .srt) in the episode's language, and
// transcript.<lang>.vtt (or .srt) in others. It keeps their cues in the
// catalog until the episode is published, and says what is worth a look
// without stopping the episode. A transcript.<lang>.vtt in the episode's
// own language, without a transcript.vtt, is its main transcript.
func (h *Handlers) bundleTranscripts(ctx context.Context, b *bundle.Bundle, p IngestPayload, slug string, duration float64) (*pipeline.TranscriptRef, []pipeline.TranscriptRef, []string, error) {
	byLang := map[string][]string{}
	var langs []string
	for _, x := range b.Extras {
		lang, ok := transcript.FileLanguage(x)
		if !ok {
			continue
		}
		if byLang[lang] == nil {
			langs = append(langs, lang)
		}
		byLang[lang] = append(byLang[lang], x)
	}
	if len(langs) == 0 {
		return nil, nil, nil, nil
	}
	for _, lang := range langs {
		if files := byLang[lang]; len(files) > 1 {
			return nil, nil, nil, pipeline.Inputf("keep one transcript per language in the bundle, the .vtt or the .srt",
				"bundle %q has %d transcripts in one language (%s)", p.Bundle, len(files), strings.Join(files, ", "))
		}
	}
	if byLang[""] == nil {
		own := b.Meta.TranscriptLanguage
		if own == "" {
			show, err := h.Show(ctx, p.Show)
			if err != nil {
				return nil, nil, nil, err
			}
			own = show.Language
		}
		for i, lang := range langs {
			if strings.EqualFold(lang, own) {
				byLang[""], langs[i] = byLang[lang], ""
				break
			}
		}
	}
	sort.Strings(langs)
	cat := h.Catalog(p.Show)
	var main *pipeline.TranscriptRef
	var others []pipeline.TranscriptRef
	var warnings []string
	for _, lang := range langs {
		name := byLang[lang][0]
		data, err := h.Store.Get(ctx, cat.Keys.BundleFileKey(p.BundleID, name))
		if err != nil {
			return nil, nil, nil, err
		}
		cues, warned, err := transcript.Parse(name, data, duration)
		if err != nil {
			return nil, nil, nil, err
		}
		sum := sha256.Sum256(data)
		hexSum := hex.EncodeToString(sum[:])
		ref := pipeline.TranscriptRef{Key: cat.Keys.TranscriptKey(slug, hexSum), Name: name, SHA256: hexSum,
			Cues: len(cues), Speakers: transcript.Speakers(cues), Language: lang}
		if err := cat.PutTranscript(ctx, &ref, cues); err != nil {
			return nil, nil, nil, err
		}
		if lang == "" {
			main = &ref
		} else {
			others = append(others, ref)
			for i, w := range warned {
				warned[i] = name + ": " + w
			}
		}
		warnings = append(warnings, warned...)
	}
	return main, others, warnings, nil
}
