package ffmpeg

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/prodcast/prodcast/pipeline"
)

// Part is the measurement of one part of a recording measured in parts:
// its 400 ms gating blocks and short-term loudness, which, put together
// with the other parts' (MergeParts), gate as one measurement of the
// whole. The parts may be measured at once here (Measure with Parts) or
// by tasks on several machines (MeasurePart), the Part stored between.
type Part struct {
	Blocks     []float64 `json:"blocks"`              // momentary loudness of each block, LUFS
	Short      []float64 `json:"short"`               // short-term loudness from 3 s on, for the range
	SamplePeak float64   `json:"sample_peak"`         // dBFS
	TruePeak   float64   `json:"true_peak,omitempty"` // dBTP, when measured
	End        float64   `json:"end,omitempty"`       // seconds of audio to the end of the last part
}

// MeasurePart measures part i of parts of m's recording, a file or URL
// whose length is m.Duration: a PCM WAV read by the meter itself, any
// other format decoded by ffmpeg from 0.3 s before the part. MergeParts
// makes the measurement of the whole from all the parts.
func MeasurePart(ctx context.Context, m Measurement, i, parts int) (*Part, error) {
	if parts < 1 || i < 0 || i >= parts {
		return nil, fmt.Errorf("no part %d of %d", i, parts)
	}
	w, err := wavFor(ctx, m)
	if err != nil {
		return nil, err
	}
	var p *Part
	if w != nil {
		defer w.Close()
		p, err = w.part(ctx, m, i, parts)
	} else {
		p, err = decodedPart(ctx, m, i, parts)
	}
	if err != nil {
		return nil, err
	}
	// JSON has no -Inf: silence is -200 dB.
	p.SamplePeak, p.TruePeak = max(-200, p.SamplePeak), max(-200, p.TruePeak)
	return p, nil
}

// MergeParts is the measurement of the whole recording from the
// measurements of its parts, in order: a *ShortError if the last ends
// well before m.Expect.
func MergeParts(m Measurement, parts []Part) (*pipeline.Loudness, error) {
	var blocks, short []float64
	l := &pipeline.Loudness{SamplePeak: math.Inf(-1)}
	tp, end := math.Inf(-1), 0.0
	for _, p := range parts {
		blocks, short = append(blocks, p.Blocks...), append(short, p.Short...)
		l.SamplePeak = max(l.SamplePeak, p.SamplePeak)
		tp, end = max(tp, p.TruePeak), max(end, p.End)
	}
	if err := m.checkLength(end); err != nil {
		return nil, err
	}
	l.Integrated, l.Range = integrated(blocks), loudnessRange(short)
	if m.TruePeak {
		l.TruePeak = tp
	}
	return l, nil
}

// inParts measures parts parts at once, with part, and merges them.
func inParts(m Measurement, parts int, part func(i int) (*Part, error)) (*pipeline.Loudness, error) {
	results := make([]Part, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() {
			p, err := part(i)
			if errs[i] = err; err == nil {
				results[i] = *p
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return MergeParts(m, results)
}

// measureParts measures a file in parts, one ffmpeg per part, at once. Each
// part reports the loudness of every 400 ms gating block (the momentary
// loudness, every 100 ms); the blocks of all parts are gated
// together as ITU-R BS.1770 prescribes, so the result is the integrated
// loudness of the whole file, found in about 1/parts of the time.
func measureParts(ctx context.Context, m Measurement, parts int) (*pipeline.Loudness, error) {
	return inParts(m, parts, func(i int) (*Part, error) { return decodedPart(ctx, m, i, parts) })
}

// decodedPart measures part i of parts of a file that plays m.Duration
// seconds, decoded by ffmpeg.
func decodedPart(ctx context.Context, m Measurement, i, parts int) (*Part, error) {
	if m.Duration <= 0 {
		return nil, fmt.Errorf("cannot measure %q in parts: its length is not known", m.Input)
	}
	span := m.Duration / float64(parts)
	start := float64(i) * span
	// Begin 0.3 s early: the first full block then ends 0.1 s after
	// start, right after the previous part's last block.
	ss := max(0, start-0.3)
	from, length := 0.0, 0.0 // the first part from the start, the last to the end
	if i > 0 {
		from = ss
	}
	if i < parts-1 {
		length = start + span - ss
	}
	st, err := runSteps(ctx, decodeArgs(m.Input, m.Filter, from, length), nil, m.LowpassHz, false)
	if err != nil {
		return nil, err
	}
	p := &Part{SamplePeak: st.SamplePeak, TruePeak: math.Inf(-1)}
	p.Blocks, p.Short = st.gate()
	if st.seconds > 0 {
		p.End = ss + st.seconds
	}
	return p, nil
}
