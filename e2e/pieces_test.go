package e2e

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	mp3file "github.com/prodcast/prodcast/pipeline/mp3"
	"github.com/prodcast/prodcast/workers"
)

// TestLongEpisodeInPieces drops a recording longer than --split-over with
// two workers of one slot each: its pieces are encoded by both, joined,
// and published as one MP3 of exactly the recording's length, on target,
// with its chapters, tags and AAC encoding; the pieces are gone after.
func TestLongEpisodeInPieces(t *testing.T) {
	env := MustShowEnv(t, "audio: {formats: [aac]}\n")
	vars := append(env.Vars(), "PRODCAST_SPLIT_OVER=2m", "PRODCAST_CONCURRENCY=1")
	w1 := Start(t, vars, "worker")
	w2 := Start(t, vars, "worker")
	Start(t, vars, "watch")
	Start(t, vars, "serve")
	WaitFor(t, 30*time.Second, "the first (empty) feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 0 })
	// Both workers serve the show's encode queue (they find a new show
	// within seconds), so the plan counts their slots.
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: env.RedisAddr, DB: env.DB})
	defer insp.Close()
	WaitFor(t, 30*time.Second, "both workers serving the show's encode queue", func() bool {
		servers, _ := insp.Servers()
		n := 0
		for _, s := range servers {
			if _, ok := s.Queues[workers.EncodeQueue("")]; ok {
				n++
			}
		}
		return n == 2
	})

	const seconds = 270
	dir := filepath.Join(t.TempDir(), "panel")
	wav := filepath.Join(dir, "panel.wav")
	MustFFmpeg(t, "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:seed=3:r=48000,tremolo=f=3:d=0.8",
		"-f", "lavfi", "-i", "sine=f=220:r=48000", "-filter_complex", "[0][1]amix=inputs=2,pan=stereo|c0=c0|c1=0.7*c0",
		"-t", "270", "-ar", "48000", "-c:a", "pcm_s16le", wav)
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: A panel on async Python\nepisode: 7\n---\nFour guests, one hour.\n")
	MustWrite(t, filepath.Join(dir, "chapters.txt"), "00:00 Welcome\n01:10 Why asyncio\n03:20 Questions\n")
	MoveIn(t, env.Data, dir)
	WaitFor(t, 240*time.Second, "the episode in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })

	// A WAV is read from the bucket through presigned URLs, each task
	// reading the spans it needs: no worker copies all of it to its disk,
	// to ingest it, plan its pieces or encode them.
	ingested, measured := 0, 0
	for _, w := range []*Proc{w1, w2} {
		out := w.Output()
		if strings.Contains(out, "bundle ingested") {
			ingested++
		}
		if strings.Contains(out, "recording fetched to this worker") {
			t.Errorf("a worker copied the WAV to its disk:\n%s", out)
		}
		if strings.Contains(out, "recording measured in part") {
			measured++
		}
	}
	if ingested != 1 {
		t.Errorf("%d workers logged the ingest, want 1", ingested)
	}
	// Two workers: the plan's measuring is spread over them, in parts.
	if measured == 0 {
		t.Errorf("no worker measured a part of the recording:\n%s\n%s", tail(w1.Output(), 20), tail(w2.Output(), 20))
	}
	for i, w := range []*Proc{w1, w2} {
		if !strings.Contains(w.Output(), "piece encoded") {
			t.Errorf("worker %d encoded no piece:\n%s", i+1, tail(w.Output(), 20))
		}
	}
	ctx := context.Background()
	st := env.Store(t)
	m, err := catalog.New(st).Manifest(ctx, "a-panel-on-async-python")
	if err != nil {
		t.Fatal(err)
	}
	mp3 := filepath.Join(t.TempDir(), "panel.mp3")
	if _, _, err := st.GetFileSHA256(ctx, m.MP3.Key, mp3); err != nil {
		t.Fatal(err)
	}
	// Exactly the recording's length at 44.1 kHz.
	samples := func(path string) int {
		out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", "44100", "-f", "s16le", "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		return len(out) / 2
	}
	if got, want := samples(mp3), seconds*44100; got != want {
		t.Errorf("the MP3 decodes to %d samples; the recording is %d at 44.1 kHz", got, want)
	}
	l, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: mp3, TruePeak: true})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l.Integrated-(-16)) > 1 || l.TruePeak > -1 {
		t.Errorf("the MP3 measures %.1f LUFS, %.1f dBTP; want -16 ±1 and at most -1", l.Integrated, l.TruePeak)
	}
	if m.Loudness == nil || math.Abs(m.Loudness.After.Integrated-l.Integrated) > 0.3 {
		t.Errorf("the pieces' merged loudness %+v is not the MP3's %.2f LUFS", m.Loudness, l.Integrated)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_chapters", "-show_format", "-of", "json", mp3).Output()
	if err != nil {
		t.Fatal(err)
	}
	var probed struct {
		Chapters []struct {
			Start string            `json:"start_time"`
			Tags  map[string]string `json:"tags"`
		} `json:"chapters"`
		Format struct {
			Duration string            `json:"duration"`
			Tags     map[string]string `json:"tags"`
		} `json:"format"`
	}
	json.Unmarshal(out, &probed)
	if len(probed.Chapters) != 3 || probed.Chapters[1].Start != "70.000000" || probed.Chapters[2].Tags["title"] != "Questions" {
		t.Errorf("chapters in the MP3: %+v", probed.Chapters)
	}
	if probed.Format.Tags["title"] != "A panel on async Python" || probed.Format.Tags["track"] != "7" {
		t.Errorf("tags of the MP3: %v", probed.Format.Tags)
	}
	// One ID3 header, then the Info frame and the audio: nothing between.
	if s, err := mp3file.ReadFile(mp3); err != nil || s.Info == nil || s.Length() != seconds*44100 {
		t.Errorf("the MP3's frames: %v; want an Info frame saying %d samples", err, seconds*44100)
	}
	if len(m.Alternates) != 1 || m.Alternates[0].ContentType != "audio/mp4" || math.Abs(m.Alternates[0].Duration-seconds) > 0.1 {
		t.Errorf("alternates: %+v", m.Alternates)
	}
	left, err := st.List(ctx, catalog.Layout{}.PiecesPrefix(m.Slug, m.Original.SHA256))
	if err != nil || len(left) != 0 {
		t.Errorf("pieces left in the bucket after the join: %v (%v)", left, err)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
