package workers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/mp3"
)

// A long recording is encoded in pieces, by as many workers as there are:
//
//   - episode:encode measures the whole recording, plans the gain (the
//     same for every piece) and the pieces, writes the plan next to the
//     original and queues a task for each piece;
//   - episode:piece encodes one piece, overlapping its neighbours by a few
//     seconds, measures it as it is written, and uploads both; the last to
//     finish queues the join;
//   - episode:join joins the pieces into one MP3 (mp3.Join), gates the
//     pieces' loudness as one, tags it, and records the episode encoded,
//     as episode:encode does for a short one.
//
// Each step can run again at any time: the plan and each finished piece
// are in the bucket, and the reconciler's episode:encode queues whatever
// is missing.
const (
	TypeEpisodePiece = "episode:piece"
	TypeEpisodeJoin  = "episode:join"
)

// DefaultSplitOver is the length over which a recording is encoded in
// pieces.
const DefaultSplitOver = 20 * time.Minute

// piecePad is how far, in seconds, pieces overlap on each side of a seam.
const piecePad = 4.0

// PiecePayload names one piece of an episode's encode; Index is -1 for the
// join.
type PiecePayload struct {
	EpisodePayload
	Original string `json:"original"` // the recording's SHA-256
	Round    int    `json:"round"`
	Index    int    `json:"index"`
}

// plan is how a recording is encoded in pieces, kept as plan.json next to
// the original. Round 2 is the plan again with the gain corrected, when
// the first joined MP3 missed the target.
type plan struct {
	Original  string            `json:"original"`
	Round     int               `json:"round"`
	Rate      int               `json:"rate"`
	Channels  int               `json:"channels"`
	Seek      bool              `json:"seek"`
	GainDB    float64           `json:"gain_db"`
	LimitDBFS float64           `json:"limit_dbfs,omitempty"`
	Kbps      int               `json:"kbps"`
	Before    pipeline.Loudness `json:"before"`
	Spans     []ffmpeg.Span     `json:"spans"`
	Started   time.Time         `json:"started"`
}

func pieceTaskID(p PiecePayload) string {
	id := fmt.Sprintf("piece:%s:%s:r%d:%d", episodeID(p.Show, p.Slug), short(p.Original), p.Round, p.Index)
	if p.Index < 0 {
		id = fmt.Sprintf("join:%s:%s:r%d", episodeID(p.Show, p.Slug), short(p.Original), p.Round)
	}
	return id
}

// NewPieceTask returns the task that encodes one piece (or, for Index -1,
// joins them), on the show's encode queue.
func NewPieceTask(p PiecePayload) (*asynq.Task, error) {
	typ, timeout := TypeEpisodePiece, 3*time.Hour
	if p.Index < 0 {
		typ, timeout = TypeEpisodeJoin, time.Hour
	}
	return newTask(typ, p, asynq.TaskID(pieceTaskID(p)), asynq.Queue(EncodeQueue(p.Show)),
		asynq.MaxRetry(maxRetry), asynq.Timeout(timeout))
}

// inPieces says whether a recording that plays seconds is long enough to
// be encoded in pieces.
func (h *Handlers) inPieces(seconds float64) bool {
	over := h.SplitOver
	if over == 0 {
		over = DefaultSplitOver
	}
	return over > 0 && seconds > over.Seconds()
}

// pieceCount is how many pieces a recording is cut into: one for each
// encode slot of the workers serving the show (at least two), so that all
// encode at once and none waits for a second round; never pieces shorter
// than a minute.
func (h *Handlers) pieceCount(show string, duration float64) int {
	_, slots := h.encodeServers(show)
	return max(2, min(slots, int(duration/60)))
}

// encodeServers is how many workers serve the show's encodes (asynq's
// list of servers; 1, this one, if it cannot be read) and their encode
// slots in all (at least this worker's).
func (h *Handlers) encodeServers(show string) (workers, slots int) {
	workers, slots = 1, cap(h.slots)
	if h.insp == nil {
		return workers, slots
	}
	servers, err := h.insp.Servers()
	if err != nil {
		return workers, slots
	}
	n, total := 0, 0
	for _, s := range servers {
		if _, ok := s.Queues[EncodeQueue(show)]; ok && s.Status == "active" {
			n++
			total += s.Concurrency
		}
	}
	return max(workers, n), max(slots, total)
}

// planPieces measures the recording, plans its pieces and queues them;
// with a plan already made (the reconciler asked again), it only queues
// what is missing. With more than one worker serving the show, the
// measuring is spread over them (measureAcross).
func (h *Handlers) planPieces(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, p EpisodePayload) error {
	keys := h.Catalog(p.Show).Keys
	if pl, err := h.readPlan(ctx, p.Show, m); err == nil {
		return h.queuePieces(ctx, p, pl, keys.PiecesPrefix(m.Slug, m.Original.SHA256))
	} else if !errors.Is(err, pipeline.ErrNotFound) {
		return err
	}
	if parts := h.measureSpread(p.Show, m); parts > 1 {
		return h.measureAcross(ctx, show, m, p, parts)
	}
	start := h.now()
	in, release, err := h.takeRecording(ctx, m)
	if err != nil {
		return err
	}
	defer release()
	kbps := mp3Kbps(show, m)
	before, err := measureOriginal(ctx, m, in, kbps)
	if err != nil {
		return err
	}
	job := h.job(show, m, before, kbps, in, "", "", nil)
	rate, err := sampleRate(ctx, m, in)
	if err != nil {
		return err
	}
	dir, err := newEncodeDir(h.TempDir)
	if err != nil {
		return err
	}
	defer dir.Release()
	// The gain is corrected for the limiter (on a sample of a long
	// recording; see correctGain) and the encoder: without, a miss of
	// over 0.5 LU would send every piece round again.
	encoderLoss, err := h.correctGain(ctx, show, m, before, &job, rate, dir.Path)
	if err != nil {
		return err
	}
	return h.plan(ctx, p, m, before, job, rate, kbps, start, encoderLoss)
}

// plan writes the plan of a recording measured (before) and its gain and
// limiter set (job), and queues its pieces.
func (h *Handlers) plan(ctx context.Context, p EpisodePayload, m *pipeline.Manifest, before *pipeline.Loudness, job ffmpeg.Job, rate, kbps int, start time.Time, encoderLoss float64) error {
	count := h.pieceCount(p.Show, m.Original.Duration)
	pl := &plan{Original: m.Original.SHA256, Round: 1, Rate: rate, Channels: m.Original.Channels,
		Seek: seekable(m.Original.Name), GainDB: job.GainDB, LimitDBFS: job.LimitDBFS, Kbps: kbps, Before: *before,
		Spans:   ffmpeg.Plan(int64(m.Original.Duration*float64(rate)), rate, count, piecePad),
		Started: start}
	if err := h.writePlan(ctx, p.Show, m, pl); err != nil {
		return err
	}
	h.Log.Info("encoding in pieces", "show", p.Show, "episode", m.Slug, "pieces", count,
		"minutes", math.Round(m.Original.Duration/60), "gain_db", pl.GainDB, "encoder_loss_lu", math.Round(encoderLoss*100)/100,
		"measure_s", h.now().Sub(start).Round(100*time.Millisecond).Seconds())
	return h.queuePieces(ctx, p, pl, h.Catalog(p.Show).Keys.PiecesPrefix(m.Slug, m.Original.SHA256))
}

// mp3Kbps is the bitrate of the episode's MP3.
func mp3Kbps(show *pipeline.Show, m *pipeline.Manifest) int {
	if m.Original.Channels == 1 {
		return show.Audio.MP3MonoKbps
	}
	return show.Audio.MP3StereoKbps
}

// sampleRate is the recording's sample rate, as the ingest found it; a
// manifest from before the ingest kept it is probed.
func sampleRate(ctx context.Context, m *pipeline.Manifest, in string) (int, error) {
	rate := m.Original.SampleRate
	if rate <= 0 {
		info, err := ffmpeg.Probe(ctx, in, m.Original.Name)
		if err != nil {
			return 0, err
		}
		rate = info.SampleRate
	}
	if rate <= 0 {
		return 0, pipeline.Inputf("export the recording again as WAV or FLAC", "ffprobe reports no sample rate for %q", m.Original.Name)
	}
	return rate, nil
}

// seekable says whether ffmpeg's timestamps are exact after a seek in a
// recording of this name's format; other formats are decoded from the
// start and cut by sample count.
func seekable(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".wav", ".flac":
		return true
	}
	return false
}

func pieceKey(prefix string, round, i int, ext string) string {
	return fmt.Sprintf("%sr%d-%03d%s", prefix, round, i, ext)
}

func (h *Handlers) readPlan(ctx context.Context, show string, m *pipeline.Manifest) (*plan, error) {
	var pl plan
	if err := h.getJSON(ctx, h.measureKey(show, m, "plan.json"), &pl); err != nil {
		return nil, err
	}
	return &pl, nil
}

func (h *Handlers) writePlan(ctx context.Context, show string, m *pipeline.Manifest, pl *plan) error {
	return h.putJSON(ctx, h.measureKey(show, m, "plan.json"), pl)
}

// queuePieces queues each piece of the plan's round not yet done, or the
// join when all are.
func (h *Handlers) queuePieces(ctx context.Context, p EpisodePayload, pl *plan, prefix string) error {
	objs, err := h.Store.List(ctx, prefix)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, o := range objs {
		done[o.Key] = true
	}
	send := h.enqueue(ctx)
	missing := 0
	for i := range pl.Spans {
		if done[pieceKey(prefix, pl.Round, i, ".json")] {
			continue
		}
		missing++
		if err := send(NewPieceTask(PiecePayload{EpisodePayload: p, Original: pl.Original, Round: pl.Round, Index: i})); err != nil {
			return err
		}
	}
	if missing > 0 {
		return nil
	}
	return send(NewPieceTask(PiecePayload{EpisodePayload: p, Original: pl.Original, Round: pl.Round, Index: -1}))
}

// current reads a piece task's payload and the manifest and plan it
// belongs to; ok is false when the task is stale: the episode was encoded
// meanwhile, its recording replaced, or its plan moved on to another round.
func (h *Handlers) current(ctx context.Context, t *asynq.Task) (p PiecePayload, m *pipeline.Manifest, pl *plan, ok bool, err error) {
	_, m, err = h.episodeOf(ctx, t, &p)
	if errors.Is(err, pipeline.ErrNotFound) {
		return p, nil, nil, false, nil
	}
	if err != nil {
		return p, nil, nil, false, err
	}
	if !m.NeedsEncode() || m.Original.SHA256 != p.Original {
		return p, m, nil, false, nil
	}
	pl, err = h.readPlan(ctx, p.Show, m)
	if errors.Is(err, pipeline.ErrNotFound) {
		return p, m, nil, false, nil
	}
	if err != nil {
		return p, nil, nil, false, err
	}
	return p, m, pl, pl.Round == p.Round && p.Index < len(pl.Spans), nil
}

// Piece handles episode:piece: it encodes one piece and uploads it with
// its measurement; the last piece done queues the join.
func (h *Handlers) Piece(ctx context.Context, t *asynq.Task) error {
	p, m, pl, ok, err := h.current(ctx, t)
	if err != nil || !ok {
		return err
	}
	keys := h.Catalog(p.Show).Keys
	prefix := keys.PiecesPrefix(m.Slug, m.Original.SHA256)
	if _, err := h.Store.Stat(ctx, pieceKey(prefix, pl.Round, p.Index, ".json")); err == nil {
		return h.queuePieces(ctx, p.EpisodePayload, pl, prefix)
	}
	in, release, err := h.takeRecording(ctx, m)
	if err != nil {
		return err
	}
	defer release()
	dir, err := newEncodeDir(h.TempDir)
	if err != nil {
		return err
	}
	defer dir.Release()
	span := pl.Spans[p.Index]
	piece := ffmpeg.Piece{
		Job: ffmpeg.Job{Input: in, Channels: pl.Channels, GainDB: pl.GainDB, LimitDBFS: pl.LimitDBFS,
			MP3: filepath.Join(dir.Path, "piece.mp3"), MP3Kbps: pl.Kbps, CutoffHz: ffmpeg.Cutoff(pl.Kbps)},
		InputRate: pl.Rate, From: span.From, To: span.To, Seek: pl.Seek,
	}
	length := m.Original.Duration - float64(span.From)/float64(pl.Rate)
	if span.To > 0 {
		length = float64(span.To-span.From) / float64(pl.Rate)
	}
	piece.Progress = progressWriter(t, length)
	start := time.Now()
	steps, err := ffmpeg.EncodePiece(ctx, piece)
	if err != nil {
		return err
	}
	data, err := json.Marshal(steps)
	if err != nil {
		return err
	}
	// The measurement goes last: it says the piece is there.
	if err := h.Store.PutFile(ctx, pieceKey(prefix, pl.Round, p.Index, ".mp3"), piece.MP3, pipeline.Put{ContentType: "audio/mpeg"}); err != nil {
		return err
	}
	if err := h.Store.PutBytes(ctx, pieceKey(prefix, pl.Round, p.Index, ".json"), data, pipeline.Put{ContentType: "application/json"}); err != nil {
		return err
	}
	h.Log.Info("piece encoded", "show", p.Show, "episode", m.Slug, "piece", p.Index+1, "of", len(pl.Spans),
		"seconds", math.Round(length), "took_s", math.Round(time.Since(start).Seconds()*10)/10)
	return h.queuePieces(ctx, p.EpisodePayload, pl, prefix)
}

// Join handles episode:join: it joins the pieces into the episode's MP3,
// checks its loudness (a second round of pieces, with the gain corrected,
// if it missed), tags it and records the episode encoded.
func (h *Handlers) Join(ctx context.Context, t *asynq.Task) error {
	p, m, pl, ok, err := h.current(ctx, t)
	if err != nil || !ok {
		return err
	}
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	keys := h.Catalog(p.Show).Keys
	prefix := keys.PiecesPrefix(m.Slug, m.Original.SHA256)
	dir, err := newEncodeDir(h.TempDir)
	if err != nil {
		return err
	}
	defer dir.Release()
	tmp := dir.Path
	// The episode's art is made while the pieces are fetched and joined;
	// it is waited for before anything else reads the manifest it sets.
	var art string
	artDone := make(chan error, 1)
	go func() {
		var err error
		art, err = h.episodeArt(ctx, show, m, tmp)
		artDone <- err
	}()
	joined := filepath.Join(tmp, "joined.mp3")
	j, steps, err := h.joinPieces(ctx, m, pl, prefix, joined)
	if err := <-artDone; err != nil {
		return err
	}
	if errors.Is(err, pipeline.ErrNotFound) {
		return h.queuePieces(ctx, p.EpisodePayload, pl, prefix) // lost: encoded again
	}
	if err != nil {
		return err
	}
	var seams []float64
	for _, s := range j.Seams {
		seams = append(seams, float64(s)/ffmpeg.OutputRate)
	}
	after := ffmpeg.MergeSteps(steps, seams)
	job := ffmpeg.Job{GainDB: pl.GainDB, LimitDBFS: pl.LimitDBFS}
	if again := retarget(show, m, job, after); again != nil && pl.Round == 1 {
		h.Log.Info("encoded loudness off target; encoding the pieces again", "episode", m.Slug,
			"lufs", after.Integrated, "true_peak", after.TruePeak, "target", targetLUFS(show, m), "gain_db", again.GainDB)
		next := *pl
		next.Round, next.GainDB, next.LimitDBFS = 2, again.GainDB, again.LimitDBFS
		if err := h.writePlan(ctx, p.Show, m, &next); err != nil {
			return err
		}
		return h.queuePieces(ctx, p.EpisodePayload, &next, prefix)
	}
	if err := offTarget(show, m, after); err != nil {
		h.removePieces(ctx, prefix)
		return h.refuse(ctx, p.EpisodePayload, m, err)
	}
	in := ""
	if len(show.Audio.Formats) > 0 {
		// The extra encodings are made from the recording, whole.
		if in, err = h.recordingInput(ctx, m); err != nil {
			return err
		}
	}
	job = h.job(show, m, &pl.Before, pl.Kbps, in, tmp, art, t)
	job.GainDB, job.LimitDBFS = pl.GainDB, pl.LimitDBFS
	job.MP3 = filepath.Join(tmp, "episode.mp3")
	var cs *ffmpeg.Chapters
	if len(m.Chapters) > 0 {
		if cs, err = writeChapters(m, tmp); err != nil {
			return err
		}
	}
	if err := ffmpeg.Tag(ctx, job, joined, job.MP3, cs); err != nil {
		return err
	}
	if len(job.Extra) > 0 {
		if err := ffmpeg.EncodeExtras(ctx, job); err != nil {
			return err
		}
	}
	m.Loudness = &pipeline.LoudnessReport{Target: targetLUFS(show, m), GainDB: pl.GainDB, Limited: pl.LimitDBFS != 0,
		Before: pl.Before, After: *after}
	if err := addExtraChapters(ctx, cs, &job, tmp); err != nil {
		return err
	}
	if err := h.publishOutputs(ctx, show, m, job); err != nil {
		return err
	}
	if err := h.encoded(ctx, p.EpisodePayload, m, h.now().Sub(pl.Started), len(pl.Spans)); err != nil {
		return err
	}
	h.removePieces(ctx, prefix)
	h.dropLocalOriginal(m)
	return nil
}

// joinPieces fetches the pieces of the plan's round, all at once, and
// joins them into path. A lost piece gives pipeline.ErrNotFound.
func (h *Handlers) joinPieces(ctx context.Context, m *pipeline.Manifest, pl *plan, prefix, path string) (*mp3.Joined, []ffmpeg.Steps, error) {
	pieces := make([]mp3.Piece, len(pl.Spans))
	steps := make([]ffmpeg.Steps, len(pl.Spans))
	g, gctx := errgroup.WithContext(ctx)
	for i, span := range pl.Spans {
		pieces[i] = mp3.Piece{Path: filepath.Join(filepath.Dir(path), fmt.Sprintf("piece-%03d.mp3", i)), Start: span.Start, Seam: span.Seam}
		g.Go(func() error {
			if err := h.Store.GetFile(gctx, pieceKey(prefix, pl.Round, i, ".mp3"), pieces[i].Path); err != nil {
				return err
			}
			data, err := h.Store.Get(gctx, pieceKey(prefix, pl.Round, i, ".json"))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(data, &steps[i]); err != nil {
				return fmt.Errorf("the measurement of piece %d of %s is damaged: %w", i, m.Slug, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	j, err := mp3.Join(f, pieces, ffmpeg.OutputRate)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot join the pieces of %s: %w", m.Slug, err)
	}
	return j, steps, nil
}

// removePieces deletes an encode's pieces and plan; what is left is swept
// by the daily GC.
func (h *Handlers) removePieces(ctx context.Context, prefix string) {
	objs, err := h.Store.List(ctx, prefix)
	if err != nil {
		return
	}
	for _, o := range objs {
		if err := h.Store.Delete(ctx, o.Key); err != nil {
			h.Log.Warn("cannot remove a piece of an encode; the daily sweep will", "key", o.Key, "err", err)
		}
	}
}

// recordingInput is where the plan and the pieces read a long recording:
// a WAV or FLAC straight from the bucket, through a presigned URL, each
// task reading only the spans it needs; other formats, decoded from the
// start, from this machine's copy. A copy of all of an hour's WAV to the
// worker's disk took longer than the plan that measures it.
func (h *Handlers) recordingInput(ctx context.Context, m *pipeline.Manifest) (string, error) {
	if seekable(m.Original.Name) {
		return h.Store.PresignGet(ctx, m.Original.Key, presignTTL)
	}
	return h.localOriginal(ctx, m)
}

// takeRecording waits for an encode slot and returns where the recording
// is read from (recordingInput), and the slot's release.
func (h *Handlers) takeRecording(ctx context.Context, m *pipeline.Manifest) (in string, release func(), err error) {
	release, err = h.slots.take(ctx)
	if err != nil {
		return "", nil, err
	}
	if in, err = h.recordingInput(ctx, m); err != nil {
		release()
		return "", nil, err
	}
	return in, release, nil
}

// presignTTL is how long the URL a task reads a recording through is
// good for: longer than any one task runs.
const presignTTL = 6 * time.Hour

// originalsDir is where a worker keeps the recordings its pieces are
// encoded from, one copy a machine for all the pieces it encodes.
const originalsDir = "prodcast-originals"

var fetching singleflight.Group

// localOriginal returns the path of a local copy of the episode's
// recording, downloading and checking it once for all the tasks of this
// machine that need it.
func (h *Handlers) localOriginal(ctx context.Context, m *pipeline.Manifest) (string, error) {
	return h.localCopy(ctx, m.Original.Key, m.Original.SHA256, m.Original.Bytes)
}

// localCopy returns the path of this machine's copy of the recording with
// SHA-256 sum, downloading it from key once, and checking it, for all the
// tasks that need it: the ingest of a long recording fetches it from the
// upload while the upload is archived, so that the encode finds it here.
func (h *Handlers) localCopy(ctx context.Context, key, sum string, size int64) (string, error) {
	path := h.localCopyPath(sum, key)
	dir := filepath.Dir(path)
	_, err, _ := fetching.Do(path, func() (any, error) {
		if fi, err := os.Stat(path); err == nil && fi.Size() == size {
			now := time.Now()
			return nil, os.Chtimes(path, now, now) // in use: not swept
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		if err := h.checkTemp(size); err != nil {
			return nil, err // waits for room, rather than fail mid-write
		}
		part := fmt.Sprintf("%s.%d.part", path, os.Getpid())
		defer os.Remove(part)
		start := time.Now()
		if err := h.download(ctx, key, sum, size, part); err != nil {
			return nil, err
		}
		h.Log.Info("recording fetched to this worker", "key", key, "bytes", size,
			"seconds", time.Since(start).Round(100*time.Millisecond).Seconds())
		return nil, os.Rename(part, path)
	})
	return path, err
}

// dropLocalOriginal removes this machine's copy of a recording once its
// episode is encoded; other machines' copies go with SweepTemp.
func (h *Handlers) dropLocalOriginal(m *pipeline.Manifest) { os.Remove(h.localOriginalPath(m)) }

// localOriginalPath is where this machine keeps its copy of a recording.
func (h *Handlers) localOriginalPath(m *pipeline.Manifest) string {
	return h.localCopyPath(m.Original.SHA256, m.Original.Key)
}

// localCopyPath is where this machine keeps its copy of the recording with
// SHA-256 sum, stored under key.
func (h *Handlers) localCopyPath(sum, key string) string {
	base := cmp.Or(h.TempDir, os.TempDir())
	return filepath.Join(base, originalsDir, sum+strings.ToLower(filepath.Ext(key)))
}
