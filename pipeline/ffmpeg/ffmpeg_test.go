package ffmpeg_test

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
)

// MustFFmpeg runs ffmpeg to make test media; a missing ffmpeg fails.
func MustFFmpeg(tb testing.TB, args ...string) {
	tb.Helper()
	if err := ffmpeg.Check(); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// speech makes speech-like audio: noise shaped by a syllable-rate tremolo,
// with gaps and a level that changes halfway.
func speech(tb testing.TB, path string, seconds, channels, rate int) {
	tb.Helper()
	MustFFmpeg(tb, "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.25:seed=7:d="+itoa(seconds),
		"-af", "tremolo=f=4:d=0.9,volume='if(lt(t,"+itoa(seconds/2)+"),1,0.3)':eval=frame,"+
			"volume='if(lt(mod(t,9),1.5),0.02,1)':eval=frame",
		"-ac", itoa(channels), "-ar", itoa(rate), path)
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestMeasurePartsMatchesWhole(t *testing.T) {
	in := filepath.Join(t.TempDir(), "talk.wav")
	speech(t, in, 150, 2, 44100)
	ctx := context.Background()
	whole, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: in, LowpassHz: 17000})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: in, LowpassHz: 17000, Duration: 150, Parts: 2})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(whole.Integrated-parts.Integrated) > 0.1 || math.Abs(whole.SamplePeak-parts.SamplePeak) > 0.05 {
		t.Errorf("whole %+v, in parts %+v: want the same integrated loudness and peak", whole, parts)
	}
	if math.Abs(whole.Range-parts.Range) > 1 {
		t.Errorf("loudness range: whole %.1f, in parts %.1f", whole.Range, parts.Range)
	}
}

func TestSampleWindows(t *testing.T) {
	ws := ffmpeg.SampleWindows(3600, 6, 60)
	if len(ws) != 6 || ws[0].Start != 270 || ws[5].Start != 3270 || ws[5].Start+ws[5].Length != 3330 {
		t.Errorf("six minutes of an hour: %v, want a minute at 270 s, then every 600 s", ws)
	}
	if ws := ffmpeg.SampleWindows(150, 3, 60); len(ws) != 1 || ws[0] != (ffmpeg.Window{Start: 0, Length: 150}) {
		t.Errorf("windows that would cover the recording: %v, want the whole", ws)
	}
}

// TestMeasureWindows: a sample of a recording measures as those spans of
// it do; the windows of the quiet half alone measure quieter; and the
// loss a limiter causes, measured on a sample with and without it, adds up
// to what a whole pass through it measures.
func TestMeasureWindows(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "talk.wav")
	speech(t, in, 240, 2, 44100) // the level drops 10 dB at 120 s
	ctx := context.Background()
	measure := func(m ffmpeg.Measurement) *pipeline.Loudness {
		t.Helper()
		m.Input, m.LowpassHz = in, 17000
		l, err := ffmpeg.Measure(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cut := func(name string, from, to int) string {
		p := filepath.Join(dir, name)
		MustFFmpeg(t, "-i", in, "-af", fmt.Sprintf("atrim=start=%d:end=%d", from, to), p)
		return p
	}
	// The spans [20, 60) and [140, 180), cut out and joined, against the
	// same two windows measured in place.
	joined := filepath.Join(dir, "joined.wav")
	MustFFmpeg(t, "-i", cut("a.wav", 20, 60), "-i", cut("b.wav", 140, 180), "-filter_complex", "[0][1]concat=n=2:v=0:a=1", joined)
	want, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: joined, LowpassHz: 17000})
	if err != nil {
		t.Fatal(err)
	}
	got := measure(ffmpeg.Measurement{Windows: []ffmpeg.Window{{Start: 20, Length: 40}, {Start: 140, Length: 40}}, Parts: 2})
	if math.Abs(got.Integrated-want.Integrated) > 0.1 {
		t.Errorf("two windows measure %.2f LUFS; the same spans cut out and joined, %.2f", got.Integrated, want.Integrated)
	}
	// The meter reads the WAV itself; through ffmpeg ("file:") it is the same.
	viaFFmpeg, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: "file:" + in, LowpassHz: 17000,
		Windows: []ffmpeg.Window{{Start: 20, Length: 40}, {Start: 140, Length: 40}}, Parts: 2})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Integrated-viaFFmpeg.Integrated) > 0.01 {
		t.Errorf("two windows of the WAV measure %.3f LUFS read by the meter, %.3f through ffmpeg", got.Integrated, viaFFmpeg.Integrated)
	}
	quiet := measure(ffmpeg.Measurement{Windows: []ffmpeg.Window{{Start: 140, Length: 40}}})
	if d := got.Integrated - quiet.Integrated; d < 2 {
		t.Errorf("a window of the quiet half alone is %.2f LU quieter than with one of the loud half, want several", d)
	}
	// A limiter's loss, estimated on three minutes of four.
	limited := ffmpeg.Job{GainDB: 20, LimitDBFS: -2}
	full := measure(ffmpeg.Measurement{Filter: limited.Conditioning(), Duration: 240, Parts: 2})
	before := measure(ffmpeg.Measurement{})
	ws := ffmpeg.SampleWindows(240, 3, 60)
	with := measure(ffmpeg.Measurement{Filter: limited.Conditioning(), Windows: ws, Parts: 2})
	without := measure(ffmpeg.Measurement{Filter: "volume=20dB", Windows: ws, Parts: 2})
	if plain := measure(ffmpeg.Measurement{Windows: ws, Parts: 2}); math.Abs(plain.Integrated+20-without.Integrated) > 0.01 {
		t.Errorf("the sample measures %.3f LUFS, %.3f with 20 dB of gain: want 20 dB more", plain.Integrated, without.Integrated)
	}
	loss := without.Integrated - with.Integrated
	if loss < 0.3 {
		t.Fatalf("the limiter takes %.2f LU off: the test needs it to act", loss)
	}
	if est := before.Integrated + 20 - loss; math.Abs(est-full.Integrated) > 0.2 {
		t.Errorf("estimated through the limiter %.2f LUFS (a loss of %.2f LU), measured whole %.2f", est, loss, full.Integrated)
	}
}

// TestEncoderLoss: what the MP3 encoder takes off, estimated on 40 s of a
// three-minute recording, is what it takes off the whole.
func TestEncoderLoss(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "talk.wav")
	MustFFmpeg(t, "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.25:seed=7:d=180,tremolo=f=4:d=0.9", "-ac", "2", "-ar", "44100", in)
	ctx := context.Background()
	job := ffmpeg.Job{Input: in, Channels: 2, GainDB: 6, LimitDBFS: -2, MP3: filepath.Join(dir, "whole.mp3"), MP3Kbps: 128, CutoffHz: ffmpeg.Cutoff(128)}
	est, err := ffmpeg.EncoderLoss(ctx, job, 44100, ffmpeg.SampleWindows(180, 2, 20), dir)
	if err != nil {
		t.Fatal(err)
	}
	after, err := ffmpeg.Encode(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: in, Filter: job.Conditioning(), LowpassHz: job.CutoffHz})
	if err != nil {
		t.Fatal(err)
	}
	loss := pcm.Integrated - after.Integrated
	if loss < 0.2 {
		t.Fatalf("the encoder takes %.2f LU off this audio: the test needs it to take more", loss)
	}
	if math.Abs(est-loss) > 0.15 {
		t.Errorf("the encoder's loss estimated at %.2f LU, measured on the whole %.2f", est, loss)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "encoder-loss-*")); len(left) > 0 {
		t.Errorf("probe encodes left behind: %v", left)
	}
}

func TestEncode(t *testing.T) {
	dir := t.TempDir()
	in, art, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "art.jpg"), filepath.Join(dir, "out.mp3")
	speech(t, in, 20, 1, 48000)
	MustFFmpeg(t, "-f", "lavfi", "-i", "color=c=blue:s=1400x1400", "-frames:v", "1", art)
	var progress []float64
	after, err := ffmpeg.Encode(context.Background(), ffmpeg.Job{
		Input: in, Channels: 1, GainDB: 3, MP3: out, MP3Kbps: 64, CutoffHz: ffmpeg.Cutoff(64), Art: art,
		Tags:     map[string]string{"title": "Async & <you>", "artist": "Jo Host", "album": "Python in Production", "track": "7"},
		Extra:    []ffmpeg.Output{{Format: "aac", Path: filepath.Join(dir, "out.m4a"), Kbps: 48}, {Format: "opus", Path: filepath.Join(dir, "out.opus"), Kbps: 24}},
		Progress: func(s float64) { progress = append(progress, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	check, err := ffmpeg.Measure(context.Background(), ffmpeg.Measurement{Input: out, TruePeak: true})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(check.Integrated-after.Integrated) > 0.2 || math.Abs(check.TruePeak-after.TruePeak) > 0.2 {
		t.Errorf("measured while encoding %+v, measured after %+v", after, check)
	}
	info, err := ffmpeg.Probe(context.Background(), out, "out.mp3")
	if err != nil {
		t.Fatal(err)
	}
	if info.Channels != 1 || info.SampleRate != 44100 || info.Tags["title"] != "Async & <you>" ||
		info.Tags["artist"] != "Jo Host" || info.Tags["album"] != "Python in Production" || info.Tags["track"] != "7" {
		t.Errorf("MP3: %+v", info)
	}
	if math.Abs(info.Duration-20) > 0.1 {
		t.Errorf("duration %.2f, want 20", info.Duration)
	}
	pic, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
		"stream=codec_name,width:stream_disposition=attached_pic", "-of", "csv=p=0", out).Output()
	if err != nil || string(pic) != "mjpeg,1400,1\n" {
		t.Errorf("embedded art: %q %v", pic, err)
	}
	for _, x := range []string{"out.m4a", "out.opus"} {
		xi, err := ffmpeg.Probe(context.Background(), filepath.Join(dir, x), x)
		if err != nil || math.Abs(xi.Duration-20) > 0.1 || xi.Tags["title"] != "Async & <you>" {
			t.Errorf("%s: %+v %v", x, xi, err)
		}
	}
	if len(progress) == 0 || progress[len(progress)-1] < 19 {
		t.Errorf("progress reports %v, want up to 20 s", progress)
	}
}

func TestFixArt(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, tc := range []struct {
		name, src, size string
		want            int
	}{
		{"OK/SmallUpscaled", "color=c=red", "800x800", 1400},
		{"OK/LargeDownscaled", "color=c=red", "3500x3500", 3000},
		{"OK/AlphaFlattened", "color=c=red@0.5", "1500x1500", 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(dir, tc.name[3:]+".png")
			MustFFmpeg(t, "-f", "lavfi", "-i", tc.src+":s="+tc.size, "-frames:v", "1", "-pix_fmt", "rgba", in)
			out := filepath.Join(dir, tc.name[3:]+".jpg")
			info, err := ffmpeg.FixArt(ctx, in, out, "cover.png")
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != tc.want || info.Height != tc.want || info.Codec != "mjpeg" || !info.Fine() {
				t.Errorf("got %+v, want a fine %dx%d JPEG", info, tc.want, tc.want)
			}
		})
	}
	t.Run("ErrNotSquare", func(t *testing.T) {
		in := filepath.Join(dir, "wide.png")
		MustFFmpeg(t, "-f", "lavfi", "-i", "color=c=red:s=1600x1400", "-frames:v", "1", in)
		_, err := ffmpeg.FixArt(ctx, in, filepath.Join(dir, "wide.jpg"), "cover.png")
		if !pipeline.IsInput(err) {
			t.Fatalf("got %v, want an InputError", err)
		}
	})
}

// TestTruePeak checks the fast true-peak meter on audio whose inter-sample
// peaks lie well above its samples: a 0.7 tone at a quarter of the sample
// rate, sampled off its crests, has a true peak of 20·log10(0.7) = -3.10
// dBTP and a sample peak of -6.0 dBFS. ebur128's meter is logged beside it.
func TestTruePeak(t *testing.T) {
	in := filepath.Join(t.TempDir(), "peaky.wav")
	// A tone near a quarter of the sample rate, phase-shifted so that the
	// samples miss the crests: the true peak lies well above the sample peak.
	MustFFmpeg(t, "-f", "lavfi", "-i", "aevalsrc=0.7*sin(2*PI*11025*t+PI/4)|0.5*sin(2*PI*3000*t):s=44100:d=5", in)
	fast, err := ffmpeg.Measure(context.Background(), ffmpeg.Measurement{Input: in, TruePeak: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostats", "-i", in, "-af", "ebur128=framelog=verbose:peak=true", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	i := strings.Index(s, "True peak:")
	if i < 0 {
		t.Fatalf("no true peak from ebur128:\n%s", s)
	}
	var ref float64
	fmt.Sscanf(strings.TrimSpace(strings.SplitN(s[i:], "Peak:", 2)[1]), "%f", &ref)
	exact := 20 * math.Log10(0.7)
	if fast.TruePeak < exact-0.1 || fast.TruePeak > exact+0.3 {
		t.Errorf("true peak %.2f dBTP, want %.2f (-0.1, +0.3); ebur128 says %.2f", fast.TruePeak, exact, ref)
	}
	t.Logf("sample peak %.2f dBFS, true peak %.2f (ebur128 %.2f) dBTP", fast.SamplePeak, fast.TruePeak, ref)
}

// TestArtVariants: art is scaled to each width below its own, as JPEG and
// WebP, each the size it says it is.
func TestArtVariants(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "cover.jpg")
	MustFFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=1400x1400", "-frames:v", "1", in)
	got, err := ffmpeg.ArtVariants(context.Background(), in, dir, "cover.jpg", nil)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []string
	for _, v := range got {
		info, err := ffmpeg.ProbeImage(context.Background(), v.Path, filepath.Base(v.Path))
		if err != nil {
			t.Fatal(err)
		}
		codec := map[string]string{"image/jpeg": "mjpeg", "image/webp": "webp"}[v.Type]
		if info.Width != v.Width || info.Height != v.Height || info.Codec != codec {
			t.Errorf("%s: %+v, want %dx%d %s", v.Path, info, v.Width, v.Height, codec)
		}
		sizes = append(sizes, fmt.Sprintf("%d %s", v.Width, v.Type))
	}
	want := []string{"600 image/jpeg", "600 image/webp", "300 image/jpeg", "300 image/webp", "150 image/jpeg", "150 image/webp"}
	if !slices.Equal(sizes, want) {
		t.Errorf("variants %v, want %v", sizes, want)
	}
}
