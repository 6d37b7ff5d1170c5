package ffmpeg_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/prodcast/prodcast/pipeline/ffmpeg"
	"github.com/prodcast/prodcast/pipeline/mp3"
)

// speechLike writes seconds of noise shaped like speech (pink, in
// syllables) with a steady tone under it, at rate, in stereo: a click,
// gap or shift at a seam stands out against the tone.
func speechLike(t *testing.T, path string, rate int, seconds float64) {
	t.Helper()
	r := itoa(rate)
	src := "anoisesrc=color=pink:amplitude=0.3:seed=7:r=" + r + ",tremolo=f=3:d=0.85[n];" +
		"sine=f=330:r=" + r + ",volume=0.08[s];[n][s]amix=inputs=2:normalize=0,pan=stereo|c0=c0|c1=0.8*c0"
	cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-filter_complex", src, "-t", ftoa(seconds),
		"-ar", r, "-c:a", "pcm_s16le", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cannot make the test recording: %v: %s", err, out)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// decode decodes a file's left channel to 44.1 kHz float samples,
// through filter if not empty.
func decode(t *testing.T, path, filter string) []float32 {
	t.Helper()
	args := []string{"-v", "error", "-i", path}
	if filter != "" {
		args = append(args, "-af", filter)
	}
	args = append(args, "-ac", "2", "-ar", "44100", "-f", "f32le", "-")
	out, err := exec.Command("ffmpeg", args...).Output()
	if err != nil {
		t.Fatalf("cannot decode %s: %v", path, err)
	}
	pcm := make([]float32, len(out)/8)
	for i := range pcm {
		pcm[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[8*i:]))
	}
	return pcm
}

// encodeInPieces encodes in.wav in count pieces and joins them.
func encodeInPieces(t *testing.T, dir, in string, rate int, seconds float64, count int, job ffmpeg.Job) (string, *mp3.Joined, []ffmpeg.Steps) {
	t.Helper()
	ctx := context.Background()
	spans := ffmpeg.Plan(int64(seconds*float64(rate)), rate, count, 4)
	var pieces []mp3.Piece
	var steps []ffmpeg.Steps
	for k, sp := range spans {
		p := ffmpeg.Piece{Job: job, InputRate: rate, From: sp.From, To: sp.To, Seek: true}
		p.MP3 = filepath.Join(dir, "piece-"+itoa(k)+".mp3")
		st, err := ffmpeg.EncodePiece(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, *st)
		pieces = append(pieces, mp3.Piece{Path: p.MP3, Start: sp.Start, Seam: sp.Seam})
	}
	joined := filepath.Join(dir, "joined.mp3")
	f, err := os.Create(joined)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j, err := mp3.Join(f, pieces, ffmpeg.OutputRate)
	if err != nil {
		t.Fatal(err)
	}
	return joined, j, steps
}

// TestPiecesJoinSeamlessly encodes a recording whole and in three pieces
// joined, at 44.1 and 48 kHz: the joined MP3 has the same length, no
// click, gap or repeated samples at a seam (its error against the
// conditioned recording is no larger there than anywhere else, and the
// audio after each seam lines up with it sample for sample), and the
// loudness of a single encode to within 0.5 LU.
func TestPiecesJoinSeamlessly(t *testing.T) {
	for _, rate := range []int{44100, 48000} {
		t.Run(itoa(rate), func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.wav")
			const seconds = 120.0
			speechLike(t, in, rate, seconds)
			job := ffmpeg.Job{Input: in, Channels: 2, GainDB: -2.5, MP3Kbps: 128, CutoffHz: 17000}
			whole := job
			whole.MP3 = filepath.Join(dir, "whole.mp3")
			single, err := ffmpeg.Encode(context.Background(), whole)
			if err != nil {
				t.Fatal(err)
			}
			joined, j, steps := encodeInPieces(t, dir, in, rate, seconds, 3, job)

			ref := decode(t, in, "volume=-2.5dB")
			got := decode(t, joined, "")
			one := decode(t, whole.MP3, "")
			if len(got) != len(one) || len(got) != len(ref) {
				t.Fatalf("joined: %d samples, single encode: %d, recording: %d", len(got), len(one), len(ref))
			}
			if want := int64(len(ref)); j.Length != want {
				t.Errorf("the Info frame says %d samples, the recording has %d", j.Length, want)
			}
			checkSeams(t, ref, got, j.Seams)

			lj, err := ffmpeg.Measure(context.Background(), ffmpeg.Measurement{Input: joined, TruePeak: true})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(lj.Integrated - single.Integrated); d > 0.5 {
				t.Errorf("joined %.2f LUFS, single encode %.2f LUFS", lj.Integrated, single.Integrated)
			}
			var seams []float64
			for _, s := range j.Seams {
				seams = append(seams, float64(s)/ffmpeg.OutputRate)
			}
			merged := ffmpeg.MergeSteps(steps, seams)
			if d := math.Abs(merged.Integrated - lj.Integrated); d > 0.2 {
				t.Errorf("the pieces' steps give %.2f LUFS, the joined file measures %.2f", merged.Integrated, lj.Integrated)
			}
			if d := math.Abs(merged.TruePeak - lj.TruePeak); d > 0.3 {
				t.Errorf("the pieces' true peak %.2f dBTP, the joined file's %.2f", merged.TruePeak, lj.TruePeak)
			}
		})
	}
}

// checkSeams compares the left channel of got with ref around each seam.
func checkSeams(t *testing.T, ref, got []float32, seams []int64) {
	t.Helper()
	const win = 441 // 10 ms
	n := len(ref)
	errAt := func(from int) float64 { // the largest error in a window
		m := 0.0
		for i := from; i < from+win && i < n; i++ {
			m = max(m, math.Abs(float64(got[i]-ref[i])))
		}
		return m
	}
	var all []float64
	for from := 0; from+win < n; from += win {
		all = append(all, errAt(from))
	}
	sort.Float64s(all)
	p99 := all[len(all)*99/100]
	for _, s := range seams {
		for from := int(s) - 5*win; from < int(s)+5*win; from += win {
			if e := errAt(from); e > 1.5*p99 {
				t.Errorf("at the seam at sample %d: an error of %.4f at %d, where 99%% of the recording's windows stay under %.4f", s, e, from, p99)
			}
		}
		// After the seam the audio lines up with the recording: no
		// sample lost or repeated.
		if lag := bestLag(ref, got, int(s)+win, 4096, 32); lag != 0 {
			t.Errorf("after the seam at sample %d the audio is %d samples off", s, lag)
		}
	}
}

// bestLag is the shift of got against ref, within ±maxLag, that matches
// best over n samples of the left channel from at.
func bestLag(ref, got []float32, at, n, maxLag int) int {
	best, bestV := 0, math.Inf(-1)
	for lag := -maxLag; lag <= maxLag; lag++ {
		v := 0.0
		for i := at; i < at+n; i++ {
			v += float64(ref[i]) * float64(got[i+lag])
		}
		if v > bestV {
			best, bestV = lag, v
		}
	}
	return best
}

// TestPieceFromURL: a piece read from the bucket over HTTP (a presigned
// URL: ffmpeg seeks with ranged reads) is the same MP3, byte for byte, as
// the piece read from the file.
func TestPieceFromURL(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	const rate, seconds = 48000, 90.0
	speechLike(t, in, rate, seconds)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, in) }))
	defer srv.Close()
	sp := ffmpeg.Plan(int64(seconds*rate), rate, 3, 4)[1]
	var mp3s [][]byte
	for i, input := range []string{in, srv.URL + "/in.wav"} {
		p := ffmpeg.Piece{Job: ffmpeg.Job{Input: input, Channels: 2, GainDB: -2.5, MP3Kbps: 128, CutoffHz: 17000,
			MP3: filepath.Join(dir, "piece-"+itoa(i)+".mp3")}, InputRate: rate, From: sp.From, To: sp.To, Seek: true}
		if _, err := ffmpeg.EncodePiece(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p.MP3)
		if err != nil {
			t.Fatal(err)
		}
		mp3s = append(mp3s, data)
	}
	if len(mp3s[0]) == 0 || !bytes.Equal(mp3s[0], mp3s[1]) {
		t.Errorf("the piece from the URL (%d bytes) differs from the piece from the file (%d bytes)", len(mp3s[1]), len(mp3s[0]))
	}
}
