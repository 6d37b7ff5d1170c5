package ffmpeg

import (
	"context"
	"errors"
	"math"
	"os"
	"testing"
)

// TestMeasureWAV: a PCM WAV the meter reads itself measures as the same
// file decoded by ffmpeg does, in every sample format and layout it reads,
// whole and in parts; a copy cut short is found as ffmpeg's decode finds it.
func TestMeasureWAV(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ codec, rate, ch string }{
		{"pcm_s16le", "44100", "2"}, {"pcm_s24le", "48000", "1"}, {"pcm_s32le", "44100", "2"},
		{"pcm_f32le", "22050", "2"}, {"pcm_f64le", "48000", "2"}, {"pcm_u8", "16000", "1"}, {"pcm_s16le", "48000", "6"},
	} {
		in := makeAudio(t, "talk.wav", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:seed=5:r="+tc.rate+":d=150",
			"-f", "lavfi", "-i", "sine=f=180:r="+tc.rate+":d=150", "-filter_complex", "[0][1]amix=inputs=2,tremolo=f=2:d=0.9,volume='if(lt(t,60),1,0.3)':eval=frame",
			"-ac", tc.ch, "-c:a", tc.codec)
		w, err := openWAV(t.Context(), in)
		if err != nil || w == nil {
			t.Fatalf("%s: openWAV: %v, %v; want it read", tc.codec, w, err)
		}
		w.Close()
		for _, parts := range []int{1, 2} {
			m := Measurement{Input: in, Duration: 150, Parts: parts, Expect: 150, TruePeak: true, LowpassHz: 7000}
			got, err := Measure(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			m.Input = "file:" + in // through ffmpeg
			want, err := Measure(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Integrated-want.Integrated) > 0.01 || math.Abs(got.Range-want.Range) > 0.15 ||
				math.Abs(got.SamplePeak-want.SamplePeak) > 0.01 || math.Abs(got.TruePeak-want.TruePeak) > 0.01 {
				t.Errorf("%s, %s Hz, %s channels, %d parts: %+v; through ffmpeg %+v", tc.codec, tc.rate, tc.ch, parts, got, want)
			}
		}
	}

	in := makeAudio(t, "talk.wav", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:d=200", "-ac", "1", "-c:a", "pcm_s16le")
	data, _ := os.ReadFile(in)
	if err := os.WriteFile(in, data[:len(data)*3/10], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, parts := range []int{1, 2} {
		_, err := Measure(ctx, Measurement{Input: in, Duration: 200, Parts: parts, Expect: 200})
		var short *ShortError
		if !errors.As(err, &short) || short.Decoded > 70 || short.Header != 200 {
			t.Errorf("cut WAV, %d parts: %v, want a ShortError near 60 s of 200", parts, err)
		}
	}
}

// TestOpenWAVOthers: what the meter does not read itself goes to ffmpeg.
func TestOpenWAVOthers(t *testing.T) {
	for _, tc := range []struct{ name, codec string }{{"talk.wav", "adpcm_ms"}, {"talk.flac", "flac"}, {"talk.wav", "pcm_alaw"}} {
		in := makeAudio(t, tc.name, "-f", "lavfi", "-i", "sine=d=2", "-c:a", tc.codec)
		if w, err := openWAV(t.Context(), in); w != nil || err != nil {
			t.Errorf("%s (%s): %v, %v; want it left to ffmpeg", tc.name, tc.codec, w, err)
		}
		if _, err := Measure(context.Background(), Measurement{Input: in}); err != nil {
			t.Errorf("%s (%s): %v", tc.name, tc.codec, err)
		}
	}
}
