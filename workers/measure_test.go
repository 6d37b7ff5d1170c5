package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// servers is a list of n workers of concurrency 2 serving the encode
// queue of the show "".
type servers int

func (n servers) Servers() ([]*asynq.ServerInfo, error) {
	var out []*asynq.ServerInfo
	for i := range int(n) {
		out = append(out, &asynq.ServerInfo{PID: 100 + i, Concurrency: 2, Status: "active", Queues: map[string]int{EncodeQueue(""): 1}})
	}
	return out, nil
}

// TestMeasureAcross: with two workers serving the show, the measuring
// that plans a long recording's pieces is spread over episode:measure
// tasks, the loudness in parts, then the limiter's and encoder's samples
// in shares, and plans what one task on one worker plans.
func TestMeasureAcross(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
	}
	defer func(old time.Duration) { limiterSampleFrom = old }(limiterSampleFrom)
	limiterSampleFrom = time.Minute // a sample of 3 windows of 240 s
	ctx := context.Background()
	wav := filepath.Join(t.TempDir(), "talk.wav")
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.25:seed=9:r=44100,tremolo=f=3:d=0.8",
		"-t", "240", "-ac", "2", "-c:a", "pcm_s16le", wav).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	data, _ := os.ReadFile(wav)
	sum := sha256.Sum256(data)
	ep := EpisodePayload{Slug: "talk", BundleID: "b1"}
	setup := func(workers servers) (*Handlers, *queue, *pipeline.Manifest) {
		st, q := memstore.New(), &queue{}
		h := mustHandlers(st, q, &memLocker{})
		h.TempDir, h.SplitOver, h.slots, h.insp = t.TempDir(), 2*time.Minute, make(slots, 2), workers
		cat := catalog.ForShow(st, "")
		// A loud target: the limiter acts, and its loss is measured.
		if err := cat.PutShow(ctx, []byte(showYAML+"audio: {loudness_stereo: -12}\n")); err != nil {
			t.Fatal(err)
		}
		orig := pipeline.Original{Name: "talk.wav", Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
			Duration: 240, Channels: 2, SampleRate: 44100, Codec: "pcm_s16le"}
		orig.Key = cat.Keys.OriginalKey("talk", orig.SHA256, orig.Name)
		st.PutBytes(ctx, orig.Key, data, pipeline.Put{})
		m := &pipeline.Manifest{Slug: "talk", State: pipeline.StateIngested, Bundle: "talk", BundleID: "b1",
			Meta: pipeline.Meta{Title: "A long talk", Slug: "talk"}, Original: orig}
		if err := cat.PutManifest(ctx, m); err != nil {
			t.Fatal(err)
		}
		return h, q, m
	}
	run := func(typ string, f func(context.Context, *asynq.Task) error, payload any) {
		t.Helper()
		b, _ := json.Marshal(payload)
		if err := f(ctx, asynq.NewTask(typ, b)); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	// taken empties the queue, and returns the measure tasks in it, each
	// once, and the count of the other tasks.
	taken := func(q *queue) (measures []MeasurePayload, others int) {
		q.mu.Lock()
		defer q.mu.Unlock()
		seen := map[[2]int]bool{}
		for _, tk := range q.tasks {
			var p MeasurePayload
			if tk.Type() != TypeEpisodeMeasure {
				others++
			} else if json.Unmarshal(tk.Payload(), &p) == nil && !seen[[2]int{p.Stage, p.Index}] {
				seen[[2]int{p.Stage, p.Index}] = true
				measures = append(measures, p)
			}
		}
		q.tasks = nil
		return measures, others
	}

	one, q1, m1 := setup(1)
	run(TypeEpisodeEncode, one.Encode, ep)
	want, err := one.readPlan(ctx, "", m1)
	if err != nil {
		t.Fatalf("one worker: no plan: %v", err)
	}
	if ms, _ := taken(q1); len(ms) != 0 {
		t.Fatalf("one worker queued %d measure tasks; want the plan made in the encode", len(ms))
	}
	if want.LimitDBFS == 0 {
		t.Fatal("the plan has no limiter: the test needs one to measure its loss")
	}

	two, q2, m2 := setup(2)
	run(TypeEpisodeEncode, two.Encode, ep)
	if _, err := two.readPlan(ctx, "", m2); err == nil {
		t.Fatal("two workers: the encode planned alone")
	}
	stage1, _ := taken(q2)
	if len(stage1) != 4 {
		t.Fatalf("two workers of 2 slots: %d tasks measure the loudness; want 4 parts, one a slot: %+v", len(stage1), stage1)
	}
	for i, p := range stage1 {
		if p.Stage != 1 || p.Index != i {
			t.Fatalf("task %d measures stage %d part %d", i, p.Stage, p.Index)
		}
		run(TypeEpisodeMeasure, two.Measure, p)
	}
	run(TypeEpisodeMeasure, two.Measure, stage1[0]) // asked twice: stored already
	// Each part done queues those not yet done again (in Redis, each
	// task's id keeps it once): the shares follow the last.
	var stage2 []MeasurePayload
	queued, _ := taken(q2)
	for _, p := range queued {
		if p.Stage == 2 {
			stage2 = append(stage2, p)
		}
	}
	if len(stage2) != 3 {
		t.Fatalf("after the parts, %d tasks queued; want 3 shares of the sample's 3 windows: %+v", len(stage2), stage2)
	}
	for i, p := range stage2 {
		if p.Stage != 2 || p.Index != i {
			t.Fatalf("task %d measures stage %d share %d", i, p.Stage, p.Index)
		}
		run(TypeEpisodeMeasure, two.Measure, p)
		if i < len(stage2)-1 {
			if _, err := two.readPlan(ctx, "", m2); err == nil {
				t.Fatalf("planned after %d shares of 3", i+1)
			}
		}
	}
	got, err := two.readPlan(ctx, "", m2)
	if err != nil {
		t.Fatalf("two workers: no plan after the shares: %v", err)
	}
	if _, pieces := taken(q2); pieces != len(got.Spans) || len(got.Spans) != 4 {
		t.Errorf("queued %d tasks for %d pieces; want the 4 pieces", pieces, len(got.Spans))
	}
	if d := math.Abs(got.Before.Integrated - want.Before.Integrated); d > 1e-4 {
		t.Errorf("measured in parts %.6f LUFS, in one task %.6f", got.Before.Integrated, want.Before.Integrated)
	}
	if d := math.Abs(got.Before.Range - want.Before.Range); d > 0.1 {
		t.Errorf("loudness range in parts %.2f LU, in one task %.2f", got.Before.Range, want.Before.Range)
	}
	if d := math.Abs(got.GainDB - want.GainDB); d > 0.01 || got.LimitDBFS != want.LimitDBFS {
		t.Errorf("measured across: gain %.4f dB, limit %.2f; in one task %.4f, %.2f", got.GainDB, got.LimitDBFS, want.GainDB, want.LimitDBFS)
	}
	// A task that comes late, once the plan is made, does nothing.
	run(TypeEpisodeMeasure, two.Measure, stage2[0])
	if ms, others := taken(q2); len(ms) != 0 || others != 0 {
		t.Errorf("a late measure task queued %d measures and %d others", len(ms), others)
	}
}
