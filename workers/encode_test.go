package workers

import (
	"context"
	"log/slog"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
)

// TestCorrectForLimiterSampled: the gain a sample of the recording gives,
// through the limiter and without, is the gain a whole pass through it
// gives, and brings the limited audio to the target.
func TestCorrectForLimiterSampled(t *testing.T) {
	in := filepath.Join(t.TempDir(), "talk.wav")
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.25:seed=3:d=240",
		"-af", "tremolo=f=4:d=0.9,volume='if(lt(mod(t,9),1.5),0.02,1)':eval=frame", "-ac", "2", "-ar", "44100", in).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg (from Debian's packages) makes the test recording: %v: %s", err, out)
	}
	ctx := context.Background()
	show := &pipeline.Show{Audio: pipeline.Audio{LoudnessStereo: -12, TruePeak: -1}}
	m := &pipeline.Manifest{Original: pipeline.Original{Duration: 240, Channels: 2}}
	before, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: in, LowpassHz: 17000})
	if err != nil {
		t.Fatal(err)
	}
	gain := func(sampleFrom time.Duration) float64 {
		t.Helper()
		defer func(old time.Duration) { limiterSampleFrom = old }(limiterSampleFrom)
		limiterSampleFrom = sampleFrom
		job := ffmpeg.Job{Input: in, GainDB: -12 - before.Integrated, LimitDBFS: -2.5, CutoffHz: 17000}
		if err := correctForLimiter(ctx, show, m, before, &job); err != nil {
			t.Fatal(err)
		}
		return job.GainDB
	}
	whole, sampled := gain(time.Hour), gain(time.Minute)
	if plain := -12 - before.Integrated; whole-plain < 0.3 {
		t.Fatalf("the limiter costs %.2f dB of gain: the test needs it to act", whole-plain)
	}
	if math.Abs(whole-sampled) > 0.1 {
		t.Errorf("gain %.2f dB from a sample, %.2f dB from a whole pass", sampled, whole)
	}
	job := ffmpeg.Job{GainDB: sampled, LimitDBFS: -2.5}
	got, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: in, Filter: job.Conditioning(), LowpassHz: 17000})
	if err != nil {
		t.Fatal(err)
	}
	// One correction, as a whole pass makes: the higher gain drives the
	// limiter a little harder (0.3 LU here), within what the encode accepts.
	if math.Abs(got.Integrated+12) > 0.5 {
		t.Errorf("with the sampled gain the limited audio measures %.2f LUFS, want -12 ± 0.5", got.Integrated)
	}
}

// TestCorrectGainForEncoder: a long recording's gain is raised by what the
// encoder takes off (estimated on a sample), unless the peaks, with no
// limiter, have no room for it.
func TestCorrectGainForEncoder(t *testing.T) {
	defer func(old time.Duration) { limiterSampleFrom = old }(limiterSampleFrom)
	limiterSampleFrom = time.Minute
	dir := t.TempDir()
	in := filepath.Join(dir, "talk.wav")
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.25:seed=7:d=180,tremolo=f=4:d=0.9",
		"-ac", "2", "-ar", "44100", in).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg (from Debian's packages) makes the test recording: %v: %s", err, out)
	}
	ctx := context.Background()
	var logged strings.Builder
	h := &Handlers{Log: slog.New(slog.NewTextHandler(&logged, nil))}
	show := &pipeline.Show{Audio: pipeline.Audio{LoudnessStereo: -16, TruePeak: -1}}
	m := &pipeline.Manifest{Original: pipeline.Original{Name: "talk.wav", Duration: 180, Channels: 2}}
	for _, c := range []struct {
		peak     float64 // the recording's sample peak, dBFS
		wantMore bool    // the gain rises by the loss
	}{{-12, true}, {-4, false}} {
		before := &pipeline.Loudness{Integrated: -20, SamplePeak: c.peak}
		job := ffmpeg.Job{Input: in, Channels: 2, GainDB: 4, MP3Kbps: 128, CutoffHz: ffmpeg.Cutoff(128)}
		loss, err := h.correctGain(ctx, show, m, before, &job, 44100, dir)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.wantMore && (loss < 0.2 || job.GainDB != 4+loss):
			t.Errorf("peaks at %v dBFS: a loss of %.2f LU, gain %.2f dB; want about 0.3 more than 4", c.peak, loss, job.GainDB)
		case !c.wantMore && (loss != 0 || job.GainDB != 4):
			t.Errorf("peaks at %v dBFS, at the ceiling after the gain: a loss of %.2f LU, gain %.2f dB; want none, 4", c.peak, loss, job.GainDB)
		}
	}
	// A probe that fails (here: no such recording) leaves the gain alone
	// and says so; the encode goes on.
	broken := ffmpeg.Job{Input: filepath.Join(dir, "gone.wav"), Channels: 2, GainDB: 4, MP3Kbps: 128, CutoffHz: ffmpeg.Cutoff(128)}
	if loss, err := h.correctGain(ctx, show, m, &pipeline.Loudness{Integrated: -20, SamplePeak: -12}, &broken, 44100, dir); err != nil || loss != 0 || broken.GainDB != 4 {
		t.Errorf("a failed probe: loss %v, gain %v, %v; want 0, 4 and no error", loss, broken.GainDB, err)
	}
	if !strings.Contains(logged.String(), "cannot measure what the MP3 encoder takes off") {
		t.Errorf("a failed probe is not logged: %s", logged.String())
	}
	// A format read only from the start is not probed.
	mp3 := &pipeline.Manifest{Original: pipeline.Original{Name: "talk.mp3", Duration: 180, Channels: 2}}
	if probeEncoder(mp3) || !probeEncoder(m) {
		t.Error("the encoder is probed for a WAV, not for an MP3")
	}
}
