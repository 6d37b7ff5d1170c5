package ffmpeg

import (
	"math"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
)

func TestParseEBUR128(t *testing.T) {
	out := `[Parsed_ebur128_0 @ 0x55] t: 1199.9  M: -16.5 S: -16.5 I: -16.5 LUFS
[Parsed_ebur128_0 @ 0x55c713571240] Summary:

  Integrated loudness:
    I:         -16.5 LUFS
    Threshold: -26.5 LUFS

  Loudness range:
    LRA:         3.2 LU
    Threshold: -36.5 LUFS
    LRA low:   -16.6 LUFS
    LRA high:  -16.5 LUFS

  Sample peak:
    Peak:       -5.7 dBFS

  True peak:
    Peak:       -5.5 dBFS
`
	l, err := parseEBUR128(out)
	if err != nil {
		t.Fatal(err)
	}
	want := pipeline.Loudness{Integrated: -16.5, Range: 3.2, SamplePeak: -5.7, TruePeak: -5.5}
	if *l != want {
		t.Errorf("got %+v, want %+v", *l, want)
	}
	l, err = parseEBUR128("Summary:\n  Integrated loudness:\n    I: -70.0 LUFS\n  Sample peak:\n    Peak: -inf dBFS\n")
	if err != nil || l.Integrated != -70 || !math.IsInf(l.SamplePeak, -1) {
		t.Errorf("silence: %+v %v", l, err)
	}
	if _, err := parseEBUR128("no summary here"); err == nil {
		t.Error("want an error without a summary")
	}
}

// TestParseFrameFused guards issue 9: ebur128 prints a three-digit value
// with no space after its colon ("M:-120.7"), as it does for silence; such
// frames were skipped, so the length of a silent file read as 0 s.
func TestParseFrameFused(t *testing.T) {
	tm, m, s, ok := parseFrame("[Parsed_ebur128_0 @ 0x5] t: 2.9  TARGET:-23 LUFS    M:-120.7 S:-120.7     I: -70.0 LUFS  LRA:   0.0 LU")
	if !ok || tm != 2.9 || m != -120.7 || s != -120.7 {
		t.Errorf("got t=%v M=%v S=%v ok=%v", tm, m, s, ok)
	}
}
