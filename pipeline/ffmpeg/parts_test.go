package ffmpeg

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// TestMeasureInParts: a recording measured a part at a time (MeasurePart,
// each part through JSON, as tasks on several machines store them) and
// merged (MergeParts) measures as the whole does, for a WAV the meter
// reads and a FLAC ffmpeg decodes; a copy cut short is found from its
// last part; silence stores in JSON.
func TestMeasureInParts(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ name, codec string }{{"talk.wav", "pcm_s16le"}, {"talk.flac", "flac"}} {
		in := makeAudio(t, tc.name, "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.2:seed=4:r=44100:d=200,tremolo=f=3:d=0.8",
			"-ac", "2", "-c:a", tc.codec)
		m := Measurement{Input: in, LowpassHz: 16000, Duration: 200, Expect: 200}
		whole, err := Measure(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		var parts []Part
		for i := range 3 {
			p, err := MeasurePart(ctx, m, i, 3)
			if err != nil {
				t.Fatalf("%s part %d: %v", tc.name, i, err)
			}
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatalf("%s part %d: %v", tc.name, i, err)
			}
			var back Part
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			parts = append(parts, back)
		}
		got, err := MergeParts(m, parts)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Integrated-whole.Integrated) > 0.01 || math.Abs(got.Range-whole.Range) > 0.2 || got.SamplePeak != whole.SamplePeak {
			t.Errorf("%s in 3 parts: %+v; whole: %+v", tc.name, got, whole)
		}
		long := m
		long.Expect = 260 // the header promised a minute more
		var short *ShortError
		if _, err := MergeParts(long, parts); !errors.As(err, &short) {
			t.Errorf("%s: merged parts 60 s short of the header: %v, want a ShortError", tc.name, err)
		}
	}
	silent := makeAudio(t, "silence.wav", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "130", "-c:a", "pcm_s16le")
	p, err := MeasurePart(ctx, Measurement{Input: silent, Duration: 130}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(p); err != nil || p.SamplePeak != -200 {
		t.Errorf("a silent part: peak %v, %v; want -200 dB in JSON", p.SamplePeak, err)
	}
	if _, err := MeasurePart(ctx, Measurement{Input: silent, Duration: 130}, 2, 2); err == nil {
		t.Error("part 3 of 2 was measured")
	}
}
