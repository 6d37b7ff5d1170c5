package workers

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
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
