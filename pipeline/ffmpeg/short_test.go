package ffmpeg

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMeasureShort guards issue 9: a FLAC cut short by an interrupted copy
// keeps a header that promises the whole length; the measure, which
// decodes every sample anyway, finds where the audio really ends.
func TestMeasureShort(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "talk.flac")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:d=200",
		"-ac", "1", full).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	fi, _ := os.Stat(full)
	cut := filepath.Join(dir, "cut.flac")
	data, _ := os.ReadFile(full)
	os.WriteFile(cut, data[:fi.Size()*3/10], 0o644)
	ctx := context.Background()
	for _, parts := range []int{1, 2} {
		m := Measurement{Input: full, Duration: 200, Parts: parts, Expect: 200}
		if _, err := Measure(ctx, m); err != nil {
			t.Errorf("whole file, %d parts: %v", parts, err)
		}
		m.Input = cut
		_, err := Measure(ctx, m)
		var short *ShortError
		if !errors.As(err, &short) || short.Decoded > 70 || short.Header != 200 {
			t.Errorf("cut file, %d parts: %v, want a ShortError near 60 s of 200", parts, err)
		}
	}
}
