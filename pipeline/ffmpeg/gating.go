package ffmpeg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"sync"

	"github.com/prodcast/prodcast/pipeline"
)

// Window is a span of a recording, in seconds.
type Window struct{ Start, Length float64 }

// SampleWindows spreads n windows of length seconds evenly over a
// recording of duration seconds: one window, the whole, if they would
// cover it.
func SampleWindows(duration float64, n int, length float64) []Window {
	if n < 1 || float64(n)*length >= duration {
		return []Window{{0, duration}}
	}
	ws := make([]Window, n)
	gap := (duration - float64(n)*length) / float64(n)
	for i := range ws {
		ws[i] = Window{Start: gap/2 + float64(i)*(length+gap), Length: length}
	}
	return ws
}

// windowPreroll is how much is read before a window and not counted: a
// filter with memory (a limiter's release, a high-pass) settles in it.
const windowPreroll = 1.0

// measureWindows measures m.Windows only, parts at a time: the integrated
// loudness of the 400 ms blocks that lie within them (see WindowBlocks).
func measureWindows(ctx context.Context, m Measurement) (*pipeline.Loudness, error) {
	p, err := WindowBlocks(ctx, m)
	if err != nil {
		return nil, err
	}
	return &pipeline.Loudness{Integrated: integrated(p.Blocks), SamplePeak: p.SamplePeak}, nil
}

// WindowBlocks measures m.Windows only, m.Parts at a time: the 400 ms
// blocks that lie within them, each window read from windowPreroll
// seconds before it through m.Filter, and their sample peak. A PCM WAV,
// unfiltered, the meter reads itself (see measureWAV). The blocks of
// windows measured apart, on several machines, gate together as those of
// one measurement (Integrated).
func WindowBlocks(ctx context.Context, m Measurement) (*Part, error) {
	wav, err := wavFor(ctx, m)
	if err != nil {
		return nil, err
	}
	if wav != nil {
		defer wav.Close()
	}
	type result struct {
		blocks []float64
		peak   float64
		err    error
	}
	results := make([]result, len(m.Windows))
	sem := make(chan struct{}, max(1, m.Parts))
	var wg sync.WaitGroup
	for i, w := range m.Windows {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r := &results[i]
			var st *Steps
			var ss float64 // the time st begins at
			if wav != nil {
				// From the step (100 ms) at or before the preroll.
				step := int64(max(0, w.Start-windowPreroll) * 10)
				from, to := step*int64(wav.rate)/10, min(wav.frames, int64((w.Start+w.Length)*float64(wav.rate)))
				mt := newMeter(wav.rate, wav.channels, m.LowpassHz)
				if r.err = wav.read(ctx, mt, from, max(from, to)); r.err != nil {
					return
				}
				st, ss = mt.result(), float64(step)/10
			} else {
				ss = max(0, w.Start-windowPreroll)
				if st, r.err = runSteps(ctx, decodeArgs(m.Input, m.Filter, ss, w.Start+w.Length-ss), nil, m.LowpassHz, false); r.err != nil {
					return
				}
			}
			r.peak, r.blocks = st.SamplePeak, st.within(w, ss)
		})
	}
	wg.Wait()
	p := &Part{SamplePeak: math.Inf(-1)}
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		p.Blocks = append(p.Blocks, r.blocks...)
		p.SamplePeak = max(p.SamplePeak, r.peak)
	}
	return p, nil
}

// decodeArgs makes ffmpeg decode input, from from seconds (0: the start)
// for length seconds (0: to the end), through filter if set, to stdout as
// wavOut says. -nostdin: else ffmpeg, logging at info, reads its keys
// from a stream on stdin.
func decodeArgs(input, filter string, from, length float64) []string {
	args := []string{"-hide_banner", "-nostats", "-nostdin", "-threads", "1"}
	if from > 0 {
		args = append(args, "-ss", strconv.FormatFloat(from, 'f', 3, 64))
	}
	if length > 0 {
		args = append(args, "-t", strconv.FormatFloat(length, 'f', 3, 64))
	}
	args = append(args, inputArgs(input)...)
	args = append(args, "-map", "0:a:0", "-filter_threads", "1")
	if filter != "" {
		args = append(args, "-af", filter)
	}
	return append(args, wavOut...)
}

// within is the momentary loudness of the 400 ms blocks of st that lie in
// w, st's times counting from at in the recording.
func (st *Steps) within(w Window, at float64) []float64 {
	var blocks []float64
	for i, t := range st.T {
		if end := at + t; end-0.4 >= w.Start-0.001 && end <= w.Start+w.Length+0.001 {
			blocks = append(blocks, st.M[i])
		}
	}
	return blocks
}

// wavOut makes ffmpeg write the decoded audio to stdout as 32-bit float
// WAV, for the meter. -flush_packets 0 (and flush_packets=0 where an
// encode streams its MP3 to the meter): ffmpeg writes a pipe in 32 KB
// buffers, not a write for every packet, which cost the encode of a
// 30-minute piece and its meter about 15% more CPU.
var wavOut = []string{"-flush_packets", "0", "-c:a", "pcm_f32le", "-f", "wav", "-"}

// gate is the steps' 400 ms blocks (every step: the meter leaves out those
// before the first full block) and their short-term loudness from the
// first full 3 s window on, as ebur128 counts them for the loudness range.
func (st *Steps) gate() (blocks, short []float64) {
	for i, t := range st.T {
		blocks = append(blocks, st.M[i])
		if t >= 2.999 {
			short = append(short, st.S[i])
		}
	}
	return blocks, short
}

// Steps are the loudness of every 100 ms step of a piece of audio: the
// time the step ends, the momentary (400 ms) and the short-term (3 s)
// loudness; and the peaks of the whole piece.
type Steps struct {
	// Offset is the time of the whole recording at which the piece's
	// audio starts: a step at T[i] ends at Offset+T[i] in the whole.
	Offset     float64   `json:"offset"`
	T          []float64 `json:"t"`
	M          []float64 `json:"m"`
	S          []float64 `json:"s"`
	SamplePeak float64   `json:"sample_peak"`
	TruePeak   float64   `json:"true_peak"`

	seconds float64 // decoded
}

// runSteps runs ffmpeg, whose stdout is the audio as 32-bit float WAV
// (wavOut), and meters it, with its true peak if truePeak. stdin, if not
// nil, is ffmpeg's standard input.
func runSteps(ctx context.Context, args []string, stdin io.Reader, lowpassHz int, truePeak bool) (*Steps, error) {
	cmd := command(ctx, "ffmpeg", args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start ffmpeg: %w", err)
	}
	m, readErr := readWAV(out, lowpassHz, truePeak)
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("ffmpeg failed to decode for the loudness meter: %w: %s", err, lastLine(stderr.String()))
	}
	if readErr != nil {
		return nil, readErr
	}
	st := m.result()
	st.seconds = m.seconds()
	return st, nil
}

// MergeSteps is the loudness of a recording measured in pieces that
// overlap: piece k counts the steps that end in the whole between
// seams[k-1] and seams[k] (seconds; the first piece from the start, the
// last to the end), gated together as one measurement of the whole is.
// Its steps in the first 3 s of its own audio are never counted: a seam
// must lie beyond them.
func MergeSteps(pieces []Steps, seams []float64) *pipeline.Loudness {
	var blocks, short []float64
	l := &pipeline.Loudness{SamplePeak: math.Inf(-1), TruePeak: math.Inf(-1)}
	for k, p := range pieces {
		lo, hi := math.Inf(-1), math.Inf(1)
		if k > 0 {
			lo = seams[k-1]
		}
		if k < len(seams) {
			hi = seams[k]
		}
		for i, t := range p.T {
			if at := p.Offset + t; at <= lo || at > hi {
				continue
			}
			if t >= 0.399 {
				blocks = append(blocks, p.M[i])
			}
			if t >= 2.999 {
				short = append(short, p.S[i])
			}
		}
		l.SamplePeak = max(l.SamplePeak, p.SamplePeak)
		l.TruePeak = max(l.TruePeak, p.TruePeak)
	}
	l.Integrated, l.Range = integrated(blocks), loudnessRange(short)
	return l
}

// integrated gates block loudnesses as BS.1770-4 does: absolute at -70
// LUFS, then relative at 10 LU below the mean of the blocks that pass.
// Integrated is the integrated loudness of gating blocks (momentary
// loudness of 400 ms blocks, in LUFS), gated as ITU-R BS.1770-4 gates
// them: the blocks of all the parts or windows of a measurement at once.
func Integrated(blocks []float64) float64 { return integrated(blocks) }

func integrated(blocks []float64) float64 {
	mean := func(gate float64) (float64, int) {
		sum, n := 0.0, 0
		for _, l := range blocks {
			if l > gate && l > -70 {
				sum += math.Pow(10, (l+0.691)/10)
				n++
			}
		}
		if n == 0 {
			return math.Inf(-1), 0
		}
		return -0.691 + 10*math.Log10(sum/float64(n)), n
	}
	abs, n := mean(-70)
	if n == 0 {
		return -70
	}
	i, _ := mean(abs - 10)
	return i
}

// loudnessRange is EBU Tech 3342's LRA over short-term loudnesses.
func loudnessRange(short []float64) float64 {
	var gated []float64
	sum := 0.0
	for _, l := range short {
		if l > -70 {
			gated = append(gated, l)
			sum += math.Pow(10, l/10)
		}
	}
	if len(gated) == 0 {
		return 0
	}
	rel := 10*math.Log10(sum/float64(len(gated))) - 20
	var in []float64
	for _, l := range gated {
		if l > rel {
			in = append(in, l)
		}
	}
	if len(in) < 2 {
		return 0
	}
	sort.Float64s(in)
	p := func(q float64) float64 { return in[int(math.Round(q*float64(len(in)-1)))] }
	return math.Round((p(0.95)-p(0.10))*10) / 10
}
