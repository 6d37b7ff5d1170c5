package ffmpeg

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

func makeAudio(t *testing.T, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("ffmpeg", append(append([]string{"-v", "error", "-y"}, args...), path)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	return path
}

// TestMeterSine checks the meter against BS.1770's calibration: a 997 Hz
// sine at 0 dBFS in one channel measures -3.01 LKFS, so one in both
// channels measures its peak level; a steady tone has no loudness range.
func TestMeterSine(t *testing.T) {
	for _, rate := range []string{"48000", "44100"} {
		in := makeAudio(t, "sine.wav", "-f", "lavfi", "-i", "sine=f=997:r="+rate+":d=10", "-af", "volume=-16.99dB",
			"-ac", "2", "-c:a", "pcm_f32le")
		l, err := Measure(context.Background(), Measurement{Input: in})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(l.Integrated-l.SamplePeak) > 0.02 || l.Range != 0 || math.Abs(l.SamplePeak-(-38.06)) > 0.05 {
			t.Errorf("%s Hz: %+v, want the peak level (-38.06) in LUFS and no range", rate, l)
		}
	}
}

// ebur128 is ffmpeg's own meter, the reference.
func ebur128(t *testing.T, in string) (integrated, lra, peak float64) {
	t.Helper()
	out, _ := exec.Command("ffmpeg", "-hide_banner", "-nostats", "-i", in, "-af", "ebur128=peak=sample", "-f", "null", "-").CombinedOutput()
	get := func(re string) float64 {
		m := regexp.MustCompile(re).FindAllStringSubmatch(string(out), -1)
		if len(m) == 0 {
			t.Fatalf("no %s in ebur128's summary:\n%s", re, out)
		}
		v, _ := strconv.ParseFloat(m[len(m)-1][1], 64)
		return v
	}
	return get(`I:\s+(-?[\d.]+) LUFS`), get(`LRA:\s+(-?[\d.]+) LU`), get(`Peak:\s+(-?[\d.]+) dBFS`)
}

// TestMeterMatchesEBUR128 measures speech-like audio at three rates, mono
// and stereo, whole and in parts, and compares with ffmpeg's ebur128.
func TestMeterMatchesEBUR128(t *testing.T) {
	for _, tc := range []struct{ rate, ch string }{{"44100", "2"}, {"48000", "1"}, {"22050", "2"}} {
		in := makeAudio(t, "talk.flac", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:seed=11:r="+tc.rate+":d=90",
			"-f", "lavfi", "-i", "sine=f=180:r="+tc.rate+":d=90", "-filter_complex", "[0][1]amix=inputs=2,tremolo=f=2:d=0.9,volume='if(lt(t,40),1,0.4)':eval=frame",
			"-ac", tc.ch)
		wantI, wantLRA, wantPeak := ebur128(t, in)
		for _, parts := range []int{1, 2} {
			l, err := Measure(context.Background(), Measurement{Input: in, Duration: 90, Parts: parts})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(l.Integrated-wantI) > 0.1 || math.Abs(l.Range-wantLRA) > 0.6 || math.Abs(l.SamplePeak-wantPeak) > 0.05 {
				t.Errorf("%s Hz, %s channels, %d parts: %.2f LUFS, LRA %.1f, peak %.2f; ebur128: %.1f, %.1f, %.1f",
					tc.rate, tc.ch, parts, l.Integrated, l.Range, l.SamplePeak, wantI, wantLRA, wantPeak)
			}
		}
	}
}

func TestMeterSilence(t *testing.T) {
	in := makeAudio(t, "silence.wav", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "5")
	l, err := Measure(context.Background(), Measurement{Input: in, TruePeak: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.Integrated != -70 || !math.IsInf(l.SamplePeak, -1) || l.TruePeak > -90 {
		t.Errorf("silence: %+v", l)
	}
}
