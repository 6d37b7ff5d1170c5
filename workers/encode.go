package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/chapters"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Encode handles episode:encode: loudness, encodings, tags and art. ffmpeg
// streams the original from a presigned URL; the outputs go to a temporary
// folder and are uploaded under content-hashed, immutable keys.
func (h *Handlers) Encode(ctx context.Context, t *asynq.Task) error {
	var p EpisodePayload
	_, m, err := h.episodeOf(ctx, t, &p)
	if err != nil {
		return err
	}
	if !m.NeedsEncode() {
		return h.enqueue(ctx)(NewPublishTask(p.Show, m.Slug, p.BundleID, time.Time{}))
	}
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	if h.inPieces(m.Original.Duration) {
		if err := h.planPieces(ctx, show, m, p); pipeline.IsInput(err) {
			return h.refuse(ctx, p, m, err)
		} else if err != nil {
			return err
		}
		return nil // the pieces and their join take it from here
	}
	release, err := h.slots.take(ctx)
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	if err := h.encode(ctx, t, show, m); err != nil {
		if !pipeline.IsInput(err) {
			return err
		}
		return h.refuse(ctx, p, m, err)
	}
	return h.encoded(ctx, p, m, time.Since(start), 1)
}

// refuse records that an episode's recording cannot be encoded, so that no
// reconcile encodes it again, and reports its bundle.
func (h *Handlers) refuse(ctx context.Context, p EpisodePayload, m *pipeline.Manifest, cause error) error {
	m.RefusedSHA256 = m.Original.SHA256
	if err := h.Catalog(p.Show).PutManifest(ctx, m); err != nil {
		return err
	}
	return h.fail(ctx, p.Show, p.BundleID, m.Bundle, m.Slug, cause)
}

// encoded records an episode's encode, done in pieces parts, and asks for
// its publish.
func (h *Handlers) encoded(ctx context.Context, p EpisodePayload, m *pipeline.Manifest, took time.Duration, pieces int) error {
	encodeSeconds.Observe(took.Seconds())
	audioSecondsTotal.Add(m.Original.Duration)
	m.Encoded()
	if err := h.Catalog(p.Show).PutManifest(ctx, m); err != nil {
		return err
	}
	h.Log.Info("episode encoded", "show", p.Show, "episode", m.Slug, "key", m.MP3.Key, "bytes", m.MP3.Bytes,
		"lufs_before", m.Loudness.Before.Integrated, "lufs_after", m.Loudness.After.Integrated,
		"true_peak", m.Loudness.After.TruePeak, "pieces", pieces)
	return h.enqueue(ctx)(NewPublishTask(p.Show, m.Slug, p.BundleID, time.Time{}))
}

func (h *Handlers) encode(ctx context.Context, t *asynq.Task, show *pipeline.Show, m *pipeline.Manifest) error {
	if err := h.checkTemp(encodeNeeds(m, mp3Kbps(show, m))); err != nil {
		return err // waits for room, rather than fail mid-write
	}
	dir, err := newEncodeDir(h.TempDir)
	if err != nil {
		return err
	}
	defer dir.Release()
	tmp := dir.Path
	in, err := h.fetchOriginal(ctx, m, tmp)
	if err != nil {
		return err
	}
	kbps := mp3Kbps(show, m)
	t0 := time.Now()
	before, err := measureOriginal(ctx, m, in, kbps)
	if err != nil {
		return err
	}
	art, err := h.episodeArt(ctx, show, m, tmp)
	if err != nil {
		return err
	}
	job := h.job(show, m, before, kbps, in, tmp, art, t)
	t1 := time.Now()
	after, err := h.encodeToTarget(ctx, show, m, before, &job, tmp)
	if err != nil {
		return err
	}
	h.Log.Info("audio passes", "episode", m.Slug, "measure_s", t1.Sub(t0).Seconds(), "encode_s", time.Since(t1).Seconds())
	m.Loudness = &pipeline.LoudnessReport{Target: targetLUFS(show, m), GainDB: job.GainDB, Limited: job.LimitDBFS != 0,
		Before: *before, After: *after}
	if err := addChapters(ctx, m, &job, tmp); err != nil {
		return err
	}
	return h.publishOutputs(ctx, show, m, job)
}

// measureOriginal measures the recording's loudness through the MP3
// encoder's lowpass, and refuses a copy cut short or a silent recording.
func measureOriginal(ctx context.Context, m *pipeline.Manifest, in string, kbps int) (*pipeline.Loudness, error) {
	before, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: in, LowpassHz: ffmpeg.Cutoff(kbps),
		Duration: m.Original.Duration, Parts: measureParts(), Expect: headerDuration(m.Original)})
	return checkMeasured(m, before, err)
}

// checkMeasured refuses a copy cut short or a silent recording.
func checkMeasured(m *pipeline.Manifest, before *pipeline.Loudness, err error) (*pipeline.Loudness, error) {
	var short *ffmpeg.ShortError
	if errors.As(err, &short) {
		return nil, pipeline.Inputf("copy the recording again and drop it once the copy has finished; check that it plays to the end",
			"the copy of %q looks unfinished: %s", m.Original.Name, short)
	}
	if err != nil {
		return nil, err
	}
	if math.IsInf(before.Integrated, -1) || before.Integrated < -60 {
		return nil, pipeline.Inputf("check the export: the recording should hold the interview",
			"%q is silent (%.1f LUFS)", m.Original.Name, before.Integrated)
	}
	return before, nil
}

// fetchOriginal downloads the archived original into tmp and checks it
// against what was dropped. Every pass reads it: from local disk, not over
// HTTP three times. It is streamed to disk, never held in memory.
func (h *Handlers) fetchOriginal(ctx context.Context, m *pipeline.Manifest, tmp string) (string, error) {
	in := filepath.Join(tmp, "original"+filepath.Ext(m.Original.Key))
	return in, h.download(ctx, m.Original.Key, m.Original.SHA256, m.Original.Bytes, in)
}

// download writes the recording stored under key to path, streaming, and
// checks that it has the size and SHA-256 that were dropped.
func (h *Handlers) download(ctx context.Context, key, sum string, size int64, path string) error {
	got, n, err := h.Store.GetFileSHA256(ctx, key, path)
	if err != nil {
		return err
	}
	if got != sum || n != size {
		return fmt.Errorf("the stored recording %q has %d bytes with SHA-256 %s, but %d bytes with %s were dropped; drop the bundle again",
			key, n, got, size, sum)
	}
	return nil
}

// headerDuration is the length a recording's header states exactly, for
// the formats whose header does (FLAC's STREAMINFO, MP4's moov, WAV's
// data size); 0 for those whose length ffprobe estimates (MP3 without a
// frame count, Ogg), whose decoded length may differ without any fault.
func headerDuration(o pipeline.Original) float64 {
	switch strings.ToLower(filepath.Ext(o.Name)) {
	case ".flac", ".m4a", ".wav":
		return o.Duration
	}
	return 0
}

func measureParts() int { return min(runtime.NumCPU(), 4) }

// encodeToTarget encodes the job and returns the loudness of the MP3 it
// made: once when the prediction holds, twice when the encoder moved the
// loudness or its overshoot broke the ceiling. An MP3 still off target is
// the producer's to fix.
func (h *Handlers) encodeToTarget(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, before *pipeline.Loudness, job *ffmpeg.Job, tmp string) (*pipeline.Loudness, error) {
	target := targetLUFS(show, m)
	rate := 0
	if probeEncoder(m) {
		info, err := ffmpeg.Probe(ctx, job.Input, m.Original.Name)
		if err != nil {
			return nil, err
		}
		rate = info.SampleRate
	}
	if _, err := h.correctGain(ctx, show, m, before, job, rate, tmp); err != nil {
		return nil, err
	}
	after, err := ffmpeg.Encode(ctx, *job)
	if err != nil {
		return nil, err
	}
	if again := retarget(show, m, *job, after); again != nil {
		*job = *again
		h.Log.Info("encoded loudness off target; encoding again", "episode", m.Slug,
			"lufs", after.Integrated, "true_peak", after.TruePeak, "target", target, "gain_db", job.GainDB)
		if after, err = ffmpeg.Encode(ctx, *job); err != nil {
			return nil, err
		}
	}
	return after, offTarget(show, m, after)
}

// correctGain corrects the gain planned from before for what the limiter
// (correctForLimiter) and, for a recording of limiterSampleFrom or more in
// a format read from anywhere (WAV, FLAC) at rate, the MP3 encoder
// (encoderWindows) will take off, the two measured at once. The encoder's
// loss is estimated at the gain before the limiter's correction: a few
// tenths of a dB change it by far less than its error; and it is only an
// estimate: if it cannot be made, the encode goes on without it (the
// encode's own measure decides, as always). It returns that loss, 0 if not
// measured. Probe encodes go to tmp.
func (h *Handlers) correctGain(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, before *pipeline.Loudness, job *ffmpeg.Job, rate int, tmp string) (float64, error) {
	var loss float64
	var lossErr error
	var wg sync.WaitGroup
	if probeEncoder(m) && rate > 0 {
		probe := *job
		wg.Go(func() {
			loss, lossErr = ffmpeg.EncoderLoss(ctx, probe, rate, encoderWindows(m.Original.Duration), tmp)
		})
	}
	err := correctForLimiter(ctx, show, m, before, job)
	wg.Wait()
	if err != nil {
		return 0, err
	}
	if lossErr != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		h.Log.Warn("cannot measure what the MP3 encoder takes off; encoding without that correction", "episode", m.Slug, "err", lossErr)
		loss = 0
	}
	return correctForEncoder(show, before, job, loss), nil
}

// correctForEncoder raises the job's gain by the loudness the MP3 encoder
// takes off, loss, and returns the correction made: an estimate, from
// 40 s, so a wild one is held to a dB (the encode's own measure still
// decides); without a limiter, only as far as the peaks allow.
func correctForEncoder(show *pipeline.Show, before *pipeline.Loudness, job *ffmpeg.Job, loss float64) float64 {
	loss = max(-1, min(1, loss))
	if job.LimitDBFS == 0 && loss > 0 {
		loss = min(loss, max(0, show.Audio.TruePeak-1-(before.SamplePeak+job.GainDB)))
	}
	job.GainDB += loss
	return loss
}

// probeEncoder says whether the encoder's loss is measured before m's
// recording is encoded: for a long one (a second encode would cost much),
// in a format that can be read from anywhere.
func probeEncoder(m *pipeline.Manifest) bool {
	return m.Original.Duration >= limiterSampleFrom.Seconds() && seekable(m.Original.Name)
}

// encoderWindows are where the encoder's loss is measured: two windows of
// 20 s, at a quarter and three quarters of the recording.
func encoderWindows(duration float64) []ffmpeg.Window {
	return ffmpeg.SampleWindows(duration, 2, 20)
}

// correctForLimiter corrects the gain of a job with a limiter: the limiter
// lowers the loudness by an amount the first measure (before) cannot know,
// so the recording is measured through it (far cheaper than encoding
// twice). A recording of limiterSampleFrom or more is measured on a
// sample, a minute in every ten (limiterWindows), with the limiter
// and without: the difference is the limiter's loss, within 0.01 LU of a
// whole pass in a fraction of its time. The encode's own measure, of the
// MP3, is what is checked and reported either way.
func correctForLimiter(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, before *pipeline.Loudness, job *ffmpeg.Job) error {
	if job.LimitDBFS == 0 {
		return nil
	}
	if m.Original.Duration < limiterSampleFrom.Seconds() {
		sim, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: job.Input, Filter: job.Conditioning(), LowpassHz: job.CutoffHz,
			Duration: m.Original.Duration, Parts: measureParts()})
		if err != nil {
			return err
		}
		job.GainDB += targetLUFS(show, m) - sim.Integrated
		return nil
	}
	loss, err := limiterLoss(ctx, m.Original.Duration, *job)
	if err != nil {
		return err
	}
	correctLimited(show, m, before, job, loss)
	return nil
}

// correctLimited raises the gain of a job with a limiter by the loudness
// the limiter takes off, loss, as measured on the sample.
func correctLimited(show *pipeline.Show, m *pipeline.Manifest, before *pipeline.Loudness, job *ffmpeg.Job, loss float64) {
	job.GainDB += targetLUFS(show, m) - (before.Integrated + job.GainDB - loss)
}

// limiterSampleFrom is the length from which the limiter's loss is
// estimated on a sample of the recording (a variable for the tests).
var limiterSampleFrom = 10 * time.Minute

// limiterWindows is the sample: a minute in every ten, at least three in
// all. (Each window costs an ffmpeg of its own: half-minute windows cost
// half as much again for the same share.)
func limiterWindows(duration float64) []ffmpeg.Window {
	return ffmpeg.SampleWindows(duration, max(3, int(math.Ceil(duration/600))), 60)
}

// limiterLoss is how many LU the job's limiter takes off the loudness of
// the sample of the recording.
func limiterLoss(ctx context.Context, duration float64, job ffmpeg.Job) (float64, error) {
	ws := limiterWindows(duration)
	var with, without *pipeline.Loudness
	var errWith, errWithout error
	var wg sync.WaitGroup
	wg.Go(func() {
		with, errWith = ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: job.Input, Filter: job.Conditioning(),
			LowpassHz: job.CutoffHz, Windows: ws, Parts: max(1, measureParts()/2)})
	})
	// Without the limiter, the gain only adds to the loudness: the
	// recording is measured as it is (a PCM WAV read by the meter itself,
	// with no ffmpeg).
	without, errWithout = ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: job.Input,
		LowpassHz: job.CutoffHz, Windows: ws, Parts: max(1, measureParts()/2)})
	wg.Wait()
	if err := errors.Join(errWith, errWithout); err != nil {
		return 0, err
	}
	return without.Integrated + job.GainDB - with.Integrated, nil
}

// retarget is the correction of a job whose MP3 measured after: nil if it
// is on target, else the job to encode again with. The second encode
// corrects the gain by the miss and, if the peaks broke the ceiling (or a
// limiter was on), sets the limiter lower by the overshoot.
func retarget(show *pipeline.Show, m *pipeline.Manifest, job ffmpeg.Job, after *pipeline.Loudness) *ffmpeg.Job {
	miss := targetLUFS(show, m) - after.Integrated
	if math.Abs(miss) <= 0.5 && after.TruePeak <= show.Audio.TruePeak {
		return nil
	}
	job.GainDB += miss
	if after.TruePeak > show.Audio.TruePeak || job.LimitDBFS != 0 {
		job.LimitDBFS = show.Audio.TruePeak - 1 - max(0, after.TruePeak-show.Audio.TruePeak) - 0.5
	}
	return &job
}

// offTarget refuses an MP3 still off target after the second encode: the
// producer's to fix.
func offTarget(show *pipeline.Show, m *pipeline.Manifest, after *pipeline.Loudness) error {
	target := targetLUFS(show, m)
	if math.Abs(after.Integrated-target) > 1 || after.TruePeak > show.Audio.TruePeak {
		return pipeline.Inputf("check the recording: long silences, heavy clipping or a very wide dynamic range defeat normalisation; a cleaner export usually fixes it",
			"the encoded MP3 measures %.1f LUFS and %.1f dBTP; the target is %.1f LUFS (±1) and at most %.1f dBTP",
			after.Integrated, after.TruePeak, target, show.Audio.TruePeak)
	}
	return nil
}

// addChapters writes the episode's chapters into every encoded file, each
// in its format's own form, and points the job at the files with them.
func addChapters(ctx context.Context, m *pipeline.Manifest, job *ffmpeg.Job, tmp string) error {
	if len(m.Chapters) == 0 {
		return nil
	}
	cs, err := writeChapters(m, tmp)
	if err != nil {
		return err
	}
	mp3 := filepath.Join(tmp, "episode-chapters.mp3")
	if err := ffmpeg.AddChapters(ctx, job.MP3, mp3, "mp3", *cs); err != nil {
		return err
	}
	job.MP3 = mp3
	return addExtraChapters(ctx, cs, job, tmp)
}

// writeChapters writes the episode's chapters as an ffmpeg metadata file.
func writeChapters(m *pipeline.Manifest, tmp string) (*ffmpeg.Chapters, error) {
	meta := filepath.Join(tmp, "chapters.ffmeta")
	if err := os.WriteFile(meta, []byte(chapters.FFMetadata(m.Chapters, m.Original.Duration)), 0o644); err != nil {
		return nil, err
	}
	return &ffmpeg.Chapters{Meta: meta, Vorbis: chapters.Vorbis(m.Chapters)}, nil
}

// addExtraChapters writes the chapters (none if cs is nil) into the extra
// encodings.
func addExtraChapters(ctx context.Context, cs *ffmpeg.Chapters, job *ffmpeg.Job, tmp string) error {
	if cs == nil {
		return nil
	}
	for i, x := range job.Extra {
		format := map[string]string{"aac": "ipod", "opus": "ogg"}[x.Format]
		withChapters := filepath.Join(tmp, fmt.Sprintf("extra-chapters-%d%s", i, filepath.Ext(x.Path)))
		if err := ffmpeg.AddChapters(ctx, x.Path, withChapters, format, *cs); err != nil {
			return err
		}
		job.Extra[i].Path = withChapters
	}
	return nil
}

// publishOutputs uploads the MP3 and the extra encodings and records them.
func (h *Handlers) publishOutputs(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, job ffmpeg.Job) error {
	mp3, err := h.publishMedia(ctx, show, m, job.MP3, "audio/mpeg", ".mp3")
	if err != nil {
		return err
	}
	mp3.ChaptersSHA = pipeline.ChaptersHash(m.Chapters)
	old := m.Media()
	m.MP3, m.Alternates = mp3, nil
	for _, x := range job.Extra {
		ct, ext := "audio/mp4", ".m4a"
		if x.Format == "opus" {
			ct, ext = "audio/ogg", ".opus"
		}
		media, err := h.publishMedia(ctx, show, m, x.Path, ct, ext)
		if err != nil {
			return err
		}
		m.Alternates = append(m.Alternates, *media)
	}
	keep := map[string]bool{}
	for _, media := range m.Media() {
		keep[media.Key] = true
	}
	for _, media := range old {
		if !keep[media.Key] && !slices.Contains(m.Retired, media.Key) {
			m.Retired = append(m.Retired, media.Key)
		}
	}
	return nil
}

func targetLUFS(show *pipeline.Show, m *pipeline.Manifest) float64 {
	if m.Original.Channels == 1 {
		return show.Audio.LoudnessMono
	}
	return show.Audio.LoudnessStereo
}

// job plans the encode: gain to the target, a limiter only if the gain
// would push peaks within 1 dB of the true-peak ceiling, and the outputs.
func (h *Handlers) job(show *pipeline.Show, m *pipeline.Manifest, before *pipeline.Loudness, kbps int, in, tmp, art string, t *asynq.Task) ffmpeg.Job {
	target := targetLUFS(show, m)
	gain := target - before.Integrated
	limit := 0.0
	if ceiling := show.Audio.TruePeak - 1; before.SamplePeak+gain > ceiling {
		limit = ceiling
	}
	mono := m.Original.Channels == 1
	tags := map[string]string{
		"title":        m.Meta.Title,
		"artist":       show.Author,
		"album_artist": show.Author,
		"album":        show.Title,
		"comment":      m.Meta.Summary,
		"genre":        "Podcast",
		"date":         strconv.Itoa(m.PubDateOrNow(h.now()).Year()),
	}
	if m.Meta.Episode > 0 {
		tags["track"] = strconv.Itoa(m.Meta.Episode)
	}
	job := ffmpeg.Job{
		Input: in, Duration: m.Original.Duration, Channels: m.Original.Channels,
		GainDB: gain, LimitDBFS: limit,
		MP3: filepath.Join(tmp, "episode.mp3"), MP3Kbps: kbps, CutoffHz: ffmpeg.Cutoff(kbps),
		Art: art, Tags: tags,
		Progress: progressWriter(t, m.Original.Duration),
	}
	for _, f := range show.Audio.Formats {
		x := ffmpeg.Output{Format: f, Path: filepath.Join(tmp, "episode."+f)}
		switch {
		case f == "aac" && mono:
			x.Kbps = 48
		case f == "aac":
			x.Kbps = 96
		case f == "opus" && mono:
			x.Kbps = 24
		default:
			x.Kbps = 48
		}
		job.Extra = append(job.Extra, x)
	}
	return job
}

// Progress is what a running encode reports through asynq's result.
type Progress struct {
	Done  float64   `json:"done"`  // seconds encoded
	Total float64   `json:"total"` // seconds in all
	Start time.Time `json:"start"`
}

// progressWriter stores the encode's progress as the task's result, for
// `prodcast status` and the desk: the first progress at once (a short
// encode may be over within the second), then at most once a second.
func progressWriter(t *asynq.Task, total float64) func(float64) {
	if t == nil {
		return nil
	}
	w := t.ResultWriter()
	if w == nil {
		return nil
	}
	start, last := time.Now(), time.Time{}
	return func(done float64) {
		if done <= 0 || time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		data, _ := json.Marshal(Progress{Done: done, Total: total, Start: start})
		_, _ = w.Write(data)
	}
}

// publishMedia uploads an encoded file under its content hash and checks
// what the store reports.
func (h *Handlers) publishMedia(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, path, contentType, ext string) (*pipeline.Media, error) {
	info, err := ffmpeg.Probe(ctx, path, filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("cannot probe the encoded file: %w", err)
	}
	sum, size, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	keys := h.Catalog(show.Name).Keys
	key := keys.MediaKey(m.Slug, sum, ext)
	put := s3.Put{ContentType: contentType, CacheControl: "public, max-age=31536000, immutable", Duration: info.Duration}
	if err := h.putMedia(ctx, keys, m, key, path, size, put); err != nil {
		return nil, err
	}
	return &pipeline.Media{Key: key, ContentType: contentType, Bytes: size, Duration: info.Duration,
		SHA256: sum, Bitrate: info.BitRate, Source: m.Original.SHA256}, nil
}

// putMedia uploads a file of media or art for key, a public key: to the key
// itself, or, while the episode is scheduled, to its staged key in private/,
// from where Publish releases it. It checks the stored size.
func (h *Handlers) putMedia(ctx context.Context, keys catalog.Layout, m *pipeline.Manifest, key, path string, size int64, put s3.Put) error {
	if o, err := h.Store.Stat(ctx, key); err == nil && o.Size == size {
		return nil // public already: the same bytes, by their hash
	}
	if at := m.Meta.PublishAt; at != nil && at.After(h.now()) {
		key = keys.StagedKey(key)
	}
	if o, err := h.Store.Stat(ctx, key); err != nil || o.Size != size {
		if err := h.Store.PutFile(ctx, key, path, put); err != nil {
			return err
		}
	}
	o, err := h.Store.Stat(ctx, key)
	if err != nil {
		return err
	}
	if o.Size != size {
		return fmt.Errorf("uploaded %q has %d bytes, want %d", key, o.Size, size)
	}
	return nil
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

// encodeNeeds is the room an encode of m takes in the temp folder, at
// most: a copy of the recording, and the MP3 twice (with its chapters
// added) with the other encodings beside it.
func encodeNeeds(m *pipeline.Manifest, kbps int) int64 {
	mp3 := int64(m.Original.Duration * float64(kbps) * 1000 / 8)
	return m.Original.Bytes + 3*mp3
}
