package workers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
)

// With more than one worker serving a show, the measuring that plans a
// long recording's pieces is spread over them too, as episode:measure
// tasks on the show's encode queue:
//
//   - stage 1 measures the loudness of the whole, a part a task
//     (ffmpeg.MeasurePart); the last part done merges them
//     (ffmpeg.MergeParts) into the loudness before;
//   - stage 2, for a recording of limiterSampleFrom or more, measures the
//     samples that correct the gain for the limiter and the encoder, a
//     share of their windows a task; the last share done corrects the
//     gain, writes the plan and queues the pieces, as planPieces does.
//
// Each task's result is stored next to the plan, under the pieces' prefix
// (measure.json says how the work is spread; m1-NNN.json, measured.json
// and m2-NNN.json are the results), so that every step can run again, and
// the reconciler's episode:encode queues whatever is missing. On one
// worker the plan's measuring uses its cores at once already, in one task.
const TypeEpisodeMeasure = "episode:measure"

// MeasurePayload names one part (stage 1) or share (stage 2) of the
// measuring of an episode's recording.
type MeasurePayload struct {
	EpisodePayload
	Original string `json:"original"` // the recording's SHA-256
	Stage    int    `json:"stage"`
	Index    int    `json:"index"`
}

// NewMeasureTask returns the task that measures one part or share of a
// recording, on the show's encode queue.
func NewMeasureTask(p MeasurePayload) (*asynq.Task, error) {
	id := fmt.Sprintf("measure:%s:%s:s%d:%d", episodeID(p.Show, p.Slug), short(p.Original), p.Stage, p.Index)
	return newTask(TypeEpisodeMeasure, p, asynq.TaskID(id), asynq.Queue(EncodeQueue(p.Show)),
		asynq.MaxRetry(maxRetry), asynq.Timeout(time.Hour))
}

// spread is how the measuring of a recording is spread over the workers,
// kept as measure.json: decided once, so that a task run again measures
// the same part as before.
type spread struct {
	Parts   int       `json:"parts"`  // stage 1's tasks
	Shares  int       `json:"shares"` // stage 2's tasks, 0 if there is no stage 2
	Rate    int       `json:"rate"`
	Kbps    int       `json:"kbps"`
	Started time.Time `json:"started"`
}

// share is one stage 2 task's measurements: the gating blocks of its
// limiter windows through the job and as they are, and of its encoder
// windows through the job and as MP3.
type share struct {
	With       []float64 `json:"with,omitempty"`
	Without    []float64 `json:"without,omitempty"`
	PCM        []float64 `json:"pcm,omitempty"`
	MP3        []float64 `json:"mp3,omitempty"`
	EncoderErr string    `json:"encoder_err,omitempty"` // the encoder's windows could not be measured
}

// measureSpread is how many parts the measuring of m's recording is
// spread over: one for each encode slot of the workers serving the show,
// at most one a minute, when more than one worker does; 1 (in one task)
// when one does, or for a recording ffmpeg cannot seek in exactly.
func (h *Handlers) measureSpread(show string, m *pipeline.Manifest) int {
	workers, slots := h.encodeServers(show)
	if workers < 2 || !seekable(m.Original.Name) {
		return 1
	}
	return max(1, min(slots, int(m.Original.Duration/60)))
}

// measureKey is the key of name under the prefix of m's encode in pieces,
// next to its plan.
func (h *Handlers) measureKey(show string, m *pipeline.Manifest, name string) string {
	return h.Catalog(show).Keys.PiecesPrefix(m.Slug, m.Original.SHA256) + name
}

func resultKey(stage, i int) string { return fmt.Sprintf("m%d-%03d.json", stage, i) }

func (h *Handlers) getJSON(ctx context.Context, key string, v any) error {
	return catalog.GetJSON(ctx, h.Store, key, v)
}

func (h *Handlers) putJSON(ctx context.Context, key string, v any) error {
	return catalog.PutJSON(ctx, h.Store, key, v)
}

// measureAcross spreads the measuring of m's recording over parts tasks
// (the spread made once), or carries on where it stands: it queues the
// parts or shares not yet measured, or merges those that are.
func (h *Handlers) measureAcross(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, p EpisodePayload, parts int) error {
	var sp spread
	err := h.getJSON(ctx, h.measureKey(p.Show, m, "measure.json"), &sp)
	if errors.Is(err, pipeline.ErrNotFound) {
		in, err := h.recordingInput(ctx, m)
		if err != nil {
			return err
		}
		rate, err := sampleRate(ctx, m, in)
		if err != nil {
			return err
		}
		sp = spread{Parts: parts, Rate: rate, Kbps: mp3Kbps(show, m), Started: h.now()}
		if m.Original.Duration >= limiterSampleFrom.Seconds() {
			sp.Shares = min(parts, len(limiterWindows(m.Original.Duration)))
		}
		if err := h.putJSON(ctx, h.measureKey(p.Show, m, "measure.json"), sp); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return h.advance(ctx, show, m, p, &sp)
}

// advance queues what the spread measuring still needs, or, when a stage
// is done, merges it.
func (h *Handlers) advance(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, p EpisodePayload, sp *spread) error {
	objs, err := h.Store.List(ctx, h.measureKey(p.Show, m, ""))
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, o := range objs {
		done[o.Key] = true
	}
	queue := func(stage, count int) (int, error) {
		missing := 0
		for i := range count {
			if done[h.measureKey(p.Show, m, resultKey(stage, i))] {
				continue
			}
			missing++
			if err := h.enqueue(ctx)(NewMeasureTask(MeasurePayload{EpisodePayload: p, Original: m.Original.SHA256, Stage: stage, Index: i})); err != nil {
				return 0, err
			}
		}
		return missing, nil
	}
	if missing, err := queue(1, sp.Parts); err != nil || missing > 0 {
		return err
	}
	// measured.json: the loudness before, stage 1's result.
	var before pipeline.Loudness
	if err := h.getJSON(ctx, h.measureKey(p.Show, m, "measured.json"), &before); errors.Is(err, pipeline.ErrNotFound) {
		merged, err := h.mergeParts(ctx, m, p, sp)
		if err != nil {
			return err
		}
		before = *merged
		if sp.Shares > 0 {
			if err := h.putJSON(ctx, h.measureKey(p.Show, m, "measured.json"), before); err != nil {
				return err
			}
		}
	} else if err != nil {
		return err
	}
	if sp.Shares == 0 {
		// A recording too short for a sample: the gain is corrected here,
		// as planPieces does.
		return h.planMeasured(ctx, show, m, p, sp, &before)
	}
	if missing, err := queue(2, sp.Shares); err != nil || missing > 0 {
		return err
	}
	return h.mergeShares(ctx, show, m, p, sp, &before)
}

// mergeParts merges stage 1's parts into the loudness of the whole, and
// refuses a copy cut short or a silent recording, as measureOriginal does.
func (h *Handlers) mergeParts(ctx context.Context, m *pipeline.Manifest, p EpisodePayload, sp *spread) (*pipeline.Loudness, error) {
	parts := make([]ffmpeg.Part, sp.Parts)
	for i := range parts {
		if err := h.getJSON(ctx, h.measureKey(p.Show, m, resultKey(1, i)), &parts[i]); err != nil {
			return nil, err
		}
	}
	before, err := ffmpeg.MergeParts(ffmpeg.Measurement{Expect: headerDuration(m.Original)}, parts)
	return checkMeasured(m, before, err)
}

// planMeasured corrects the gain of a recording measured in parts in this
// task, as planPieces does, and plans its pieces.
func (h *Handlers) planMeasured(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, p EpisodePayload, sp *spread, before *pipeline.Loudness) error {
	in, release, err := h.takeRecording(ctx, m)
	if err != nil {
		return err
	}
	defer release()
	job := h.job(show, m, before, sp.Kbps, in, "", "", nil)
	dir, err := newEncodeDir(h.TempDir)
	if err != nil {
		return err
	}
	defer dir.Release()
	loss, err := h.correctGain(ctx, show, m, before, &job, sp.Rate, dir.Path)
	if err != nil {
		return err
	}
	return h.plan(ctx, p, m, before, job, sp.Rate, sp.Kbps, sp.Started, loss)
}

// mergeShares corrects the gain by stage 2's shares, as correctGain does
// from the same windows measured in one task, and plans the pieces.
func (h *Handlers) mergeShares(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, p EpisodePayload, sp *spread, before *pipeline.Loudness) error {
	var all share
	for i := range sp.Shares {
		var s share
		if err := h.getJSON(ctx, h.measureKey(p.Show, m, resultKey(2, i)), &s); err != nil {
			return err
		}
		all.With, all.Without = append(all.With, s.With...), append(all.Without, s.Without...)
		all.PCM, all.MP3 = append(all.PCM, s.PCM...), append(all.MP3, s.MP3...)
		if s.EncoderErr != "" {
			all.EncoderErr = s.EncoderErr
		}
	}
	job := h.job(show, m, before, sp.Kbps, "", "", "", nil)
	if job.LimitDBFS != 0 {
		correctLimited(show, m, before, &job, ffmpeg.Integrated(all.Without)+job.GainDB-ffmpeg.Integrated(all.With))
	}
	loss := 0.0
	if all.EncoderErr != "" {
		h.Log.Warn("cannot measure what the MP3 encoder takes off; encoding without that correction", "episode", m.Slug, "err", all.EncoderErr)
	} else if probeEncoder(m) {
		loss = ffmpeg.Integrated(all.PCM) - ffmpeg.Integrated(all.MP3)
	}
	loss = correctForEncoder(show, before, &job, loss)
	return h.plan(ctx, p, m, before, job, sp.Rate, sp.Kbps, sp.Started, loss)
}

// Measure handles episode:measure: it measures its part or share of the
// recording and stores the result; the last of a stage done moves the
// measuring on.
func (h *Handlers) Measure(ctx context.Context, t *asynq.Task) error {
	var p MeasurePayload
	_, m, err := h.episodeOf(ctx, t, &p)
	if errors.Is(err, pipeline.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !m.NeedsEncode() || m.Original.SHA256 != p.Original {
		return nil // encoded meanwhile, or its recording replaced
	}
	if _, err := h.readPlan(ctx, p.Show, m); err == nil {
		return nil // planned already
	}
	var sp spread
	if err := h.getJSON(ctx, h.measureKey(p.Show, m, "measure.json"), &sp); errors.Is(err, pipeline.ErrNotFound) {
		return nil // swept: the reconciler's encode starts again
	} else if err != nil {
		return err
	}
	show, err := h.Show(ctx, p.Show)
	if err != nil {
		return err
	}
	err = h.measure(ctx, show, m, p, &sp)
	if err == nil {
		err = h.advance(ctx, show, m, p.EpisodePayload, &sp)
	}
	if pipeline.IsInput(err) {
		return h.refuse(ctx, p.EpisodePayload, m, err)
	}
	return err
}

// measure measures one part or share and stores it, unless it is stored.
func (h *Handlers) measure(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, p MeasurePayload, sp *spread) error {
	key := h.measureKey(p.Show, m, resultKey(p.Stage, p.Index))
	if _, err := h.Store.Stat(ctx, key); err == nil {
		return nil
	}
	count := map[int]int{1: sp.Parts, 2: sp.Shares}[p.Stage]
	if p.Index < 0 || p.Index >= count {
		return fmt.Errorf("%w: no part %d of stage %d of %d", asynq.SkipRetry, p.Index, p.Stage, count)
	}
	in, release, err := h.takeRecording(ctx, m)
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	var result any
	if p.Stage == 1 {
		result, err = ffmpeg.MeasurePart(ctx, ffmpeg.Measurement{Input: in, LowpassHz: ffmpeg.Cutoff(sp.Kbps),
			Duration: m.Original.Duration}, p.Index, sp.Parts)
	} else {
		result, err = h.measureShare(ctx, show, m, p, sp, in)
	}
	if err != nil {
		return err
	}
	if err := h.putJSON(ctx, key, result); err != nil {
		return err
	}
	h.Log.Info("recording measured in part", "show", p.Show, "episode", m.Slug, "stage", p.Stage,
		"part", p.Index+1, "of", count, "took_s", math.Round(time.Since(start).Seconds()*10)/10)
	return nil
}

// measureShare measures stage 2's share p.Index: every Shares-th window
// of the limiter's sample and of the encoder's, as correctGain measures
// all of them.
func (h *Handlers) measureShare(ctx context.Context, show *pipeline.Show, m *pipeline.Manifest, p MeasurePayload, sp *spread, in string) (*share, error) {
	var before pipeline.Loudness
	if err := h.getJSON(ctx, h.measureKey(p.Show, m, "measured.json"), &before); err != nil {
		return nil, err
	}
	job := h.job(show, m, &before, sp.Kbps, in, "", "", nil)
	mine := func(ws []ffmpeg.Window) []ffmpeg.Window {
		var out []ffmpeg.Window
		for i := p.Index; i < len(ws); i += sp.Shares {
			out = append(out, ws[i])
		}
		return out
	}
	var s share
	g, gctx := errgroup.WithContext(ctx)
	if ws := mine(limiterWindows(m.Original.Duration)); job.LimitDBFS != 0 && len(ws) > 0 {
		g.Go(func() error {
			with, err := ffmpeg.WindowBlocks(gctx, ffmpeg.Measurement{Input: in, Filter: job.Conditioning(),
				LowpassHz: job.CutoffHz, Windows: ws, Parts: max(1, measureParts()/2)})
			if err == nil {
				s.With = with.Blocks
			}
			return err
		})
		g.Go(func() error {
			without, err := ffmpeg.WindowBlocks(gctx, ffmpeg.Measurement{Input: in,
				LowpassHz: job.CutoffHz, Windows: ws, Parts: max(1, measureParts()/2)})
			if err == nil {
				s.Without = without.Blocks
			}
			return err
		})
	}
	var encErr error
	if ws := mine(encoderWindows(m.Original.Duration)); probeEncoder(m) && len(ws) > 0 {
		dir, err := newEncodeDir(h.TempDir)
		if err != nil {
			return nil, err
		}
		defer dir.Release()
		g.Go(func() error {
			s.PCM, s.MP3, encErr = ffmpeg.EncoderLossBlocks(gctx, job, sp.Rate, ws, dir.Path)
			return nil // see below
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if encErr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.EncoderErr = encErr.Error()
	}
	return &s, nil
}
