package ffmpeg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
)

// Measurement says what to measure.
type Measurement struct {
	Input    string    // a path, a URL, or "-" to read Stdin
	Stdin    io.Reader //
	TruePeak bool      // also measure the true peak (oversampled; about twice the cost)
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

// Measure runs ffmpeg's ebur128 filter over the input.
func Measure(ctx context.Context, m Measurement) (*pipeline.Loudness, error) {
	if m.Parts > 1 && m.Input != "-" && !m.TruePeak && m.Duration > 60*float64(m.Parts) {
		return measureParts(ctx, m, m.Duration, m.Parts)
	}
	args := []string{"-hide_banner", "-nostats", "-threads", "1"}
	if m.Input != "-" {
		args = append(args, "-nostdin")
	}
	args = append(args, "-i", m.Input, "-filter_threads", "1")
	if m.TruePeak {
		// The true peak, as BS.1770 Annex 2 has it: oversample 4x with a
		// short polyphase FIR and take the largest sample. ebur128's own
		// true-peak meter gives the same figure at twice the cost.
		graph := fmt.Sprintf("[0:a:0]asplit=2[l][p];[l]%s[out];[p]aresample=176400:filter_size=12:phase_shift=4,volumedetect,anullsink",
			m.chain(m.ebur128()))
		args = append(args, "-filter_complex", graph, "-map", "[out]")
	} else {
		args = append(args, "-map", "0:a:0", "-af", m.chain(m.ebur128()))
	}
	cmd := command(ctx, "ffmpeg", append(args, "-f", "null", "-")...)
	if m.Input == "-" {
		cmd.Stdin = m.Stdin
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("ffmpeg ebur128 failed: %w: %s", err, lastLine(stderr.String()))
	}
	l, err := parseEBUR128(stderr.String())
	if err != nil {
		return nil, err
	}
	if err := m.checkLength(lastFrame(stderr.String())); err != nil {
		return nil, err
	}
	if m.TruePeak {
		if l.TruePeak, err = parseMaxVolume(stderr.String()); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// ebur128 is the filter: it logs every frame only when the length of the
// audio is to be checked (Expect), since only then is the log read.
func (m Measurement) ebur128() string {
	if m.Expect > 0 {
		return "ebur128=framelog=info:peak=sample"
	}
	return "ebur128=framelog=verbose:peak=sample"
}

// lastFrame is the time of the last ebur128 frame logged, the length of
// the audio decoded (to within 0.1 s).
func lastFrame(out string) float64 {
	last := 0.0
	for _, line := range strings.Split(out, "\n") {
		if t, _, _, ok := parseFrame(line); ok {
			last = max(last, t)
		}
	}
	return last
}

// parseMaxVolume reads volumedetect's "max_volume: -2.5 dB".
func parseMaxVolume(out string) (float64, error) {
	i := strings.LastIndex(out, "max_volume:")
	if i < 0 {
		return 0, fmt.Errorf("ffmpeg printed no max_volume")
	}
	f := strings.Fields(out[i+len("max_volume:"):])
	if len(f) == 0 {
		return 0, fmt.Errorf("ffmpeg printed an empty max_volume")
	}
	if f[0] == "-inf" {
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(f[0], 64)
}

// parseEBUR128 reads the Summary block that ebur128 prints at the end.
func parseEBUR128(out string) (*pipeline.Loudness, error) {
	i := strings.LastIndex(out, "Summary:")
	if i < 0 {
		return nil, fmt.Errorf("ffmpeg printed no ebur128 summary")
	}
	l := &pipeline.Loudness{SamplePeak: math.Inf(-1)}
	section := ""
	found := false
	sc := bufio.NewScanner(strings.NewReader(out[i:]))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasSuffix(line, ":") && !strings.Contains(line, " "):
			section = line
		case strings.HasPrefix(line, "Sample peak:"), strings.HasPrefix(line, "True peak:"),
			strings.HasPrefix(line, "Integrated loudness:"), strings.HasPrefix(line, "Loudness range:"):
			section = line
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			if fields[0] == "-inf" {
				v = math.Inf(-1)
			} else {
				continue
			}
		}
		switch {
		case key == "I":
			l.Integrated, found = v, true
		case key == "LRA":
			l.Range = v
		case key == "Peak" && strings.HasPrefix(section, "Sample peak"):
			l.SamplePeak = v
		case key == "Peak" && strings.HasPrefix(section, "True peak"):
			l.TruePeak = v
		}
	}
	if !found {
		return nil, fmt.Errorf("ffmpeg's ebur128 summary has no integrated loudness")
	}
	return l, nil
}
