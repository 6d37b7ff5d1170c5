package ffmpeg

import (
	"context"
	"fmt"
	"io"

	"github.com/prodcast/prodcast/pipeline"
)

// Measurement says what to measure.
type Measurement struct {
	Input    string    // a path, a URL, or "-" to read Stdin
	Stdin    io.Reader //
	TruePeak bool      // also measure the true peak (see truePeak)
	// LowpassHz, when not zero, low-passes the audio first the way the MP3
	// encoder will, so that the measure predicts the encoded loudness.
	LowpassHz int
	// Filter, when set, is an ffmpeg filter chain applied before all else,
	// e.g. a Job's Conditioning, to measure what it will produce.
	Filter string
	// Duration and Parts, for a file, split the measurement into Parts
	// pieces measured at once (see measureParts).
	Duration float64
	Parts    int
	// Windows, when set, are the only spans of a file measured (see
	// measureWindows), Parts at a time: the Integrated loudness and sample
	// peak of a sample of the recording, for an estimate.
	Windows []Window
	// Expect, when not zero, is how long the file's header says it plays;
	// audio that ends well before it gives a *ShortError.
	Expect float64
}

// ShortError says that a file's audio ends well before its header says:
// a copy cut short.
type ShortError struct {
	Decoded float64 // seconds of audio decoded
	Header  float64 // seconds the header promised
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("its audio ends at %.1f s, but its header says it plays %.1f s", e.Decoded, e.Header)
}

// checkLength returns a *ShortError if decoded falls short of m.Expect by
// more than 2 s and 2%.
func (m Measurement) checkLength(decoded float64) error {
	if m.Expect <= 0 || m.Expect-decoded <= max(2, 0.02*m.Expect) {
		return nil
	}
	return &ShortError{Decoded: decoded, Header: m.Expect}
}

// Measure measures the input's loudness: ffmpeg decodes, the meter
// measures (see meter); a PCM WAV file, unfiltered, the meter reads
// itself (see measureWAV).
func Measure(ctx context.Context, m Measurement) (*pipeline.Loudness, error) {
	if len(m.Windows) > 0 {
		return measureWindows(ctx, m)
	}
	w, err := wavFor(ctx, m)
	if err != nil {
		return nil, err
	}
	if w != nil {
		defer w.Close()
		return measureWAV(ctx, m, w)
	}
	if m.Parts > 1 && m.Input != "-" && !m.TruePeak && m.Duration > 60*float64(m.Parts) {
		return measureParts(ctx, m, m.Parts)
	}
	var stdin io.Reader
	if m.Input == "-" {
		stdin = m.Stdin
	}
	st, err := runSteps(ctx, decodeArgs(m.Input, m.Filter, 0, 0), stdin, m.LowpassHz, m.TruePeak)
	if err != nil {
		return nil, err
	}
	if err := m.checkLength(st.seconds); err != nil {
		return nil, err
	}
	blocks, short := st.gate()
	l := &pipeline.Loudness{Integrated: integrated(blocks), Range: loudnessRange(short), SamplePeak: st.SamplePeak}
	if m.TruePeak {
		l.TruePeak = st.TruePeak
	}
	return l, nil
}
