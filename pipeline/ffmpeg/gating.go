package ffmpeg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/prodcast/prodcast/pipeline"
)

// measureParts measures a file in parts, one ffmpeg per part, at once. Each
// part reports the loudness of every 400 ms gating block (ebur128's
// momentary loudness, every 100 ms); the blocks of all parts are gated
// together as ITU-R BS.1770 prescribes, so the result is the integrated
// loudness of the whole file, found in about 1/parts of the time.
func measureParts(ctx context.Context, m Measurement, duration float64, parts int) (*pipeline.Loudness, error) {
	type result struct {
		blocks, short []float64
		peak, end     float64
		err           error
	}
	results := make([]result, parts)
	span := duration / float64(parts)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() {
			start := float64(i) * span
			// Begin 0.3 s early: the first full block then ends 0.1 s after
			// start, right after the previous part's last block.
			ss := max(0, start-0.3)
			args := []string{"-hide_banner", "-nostats", "-nostdin", "-threads", "1"}
			if i > 0 {
				args = append(args, "-ss", strconv.FormatFloat(ss, 'f', 3, 64))
			}
			if i < parts-1 {
				args = append(args, "-t", strconv.FormatFloat(start+span-ss, 'f', 3, 64))
			}
			args = append(args, "-i", m.Input, "-map", "0:a:0", "-filter_threads", "1",
				"-af", m.chain("ebur128=framelog=info:peak=sample"), "-f", "null", "-")
			r := &results[i]
			var last float64
			r.blocks, r.short, r.peak, last, r.err = runBlocks(ctx, args, i > 0)
			if last > 0 {
				r.end = ss + last
			}
		})
	}
	wg.Wait()
	var blocks, short []float64
	peak, end := math.Inf(-1), 0.0
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		blocks = append(blocks, r.blocks...)
		short = append(short, r.short...)
		peak = max(peak, r.peak)
		end = max(end, r.end)
	}
	if err := m.checkLength(end); err != nil {
		return nil, err
	}
	return &pipeline.Loudness{Integrated: integrated(blocks), Range: loudnessRange(short), SamplePeak: peak}, nil
}

// chain is the filter chain before the ebur128 filter f.
func (m Measurement) chain(f string) string {
	if m.LowpassHz > 0 {
		f = fmt.Sprintf("lowpass=f=%d,lowpass=f=%d,%s", m.LowpassHz, m.LowpassHz, f)
	}
	if m.Filter != "" {
		f = m.Filter + "," + f
	}
	return f
}

// runBlocks runs ffmpeg and collects the momentary (400 ms) and short-term
// (3 s) loudness of each 100 ms step. Steps before the first full block
// (t < 0.4 s) are skipped; so are short-term values before 3 s when skipHead.
// last is the time of the last step, the length of audio decoded.
func runBlocks(ctx context.Context, args []string, skipHead bool) (blocks, short []float64, peak, last float64, err error) {
	st, err := runSteps(ctx, args, nil)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	for i, t := range st.T {
		last = max(last, t)
		if t >= 0.399 {
			blocks = append(blocks, st.M[i])
		}
		if t >= 2.999 || (!skipHead && t >= 0.399) {
			short = append(short, st.S[i])
		}
	}
	return blocks, short, st.SamplePeak, last, nil
}

// Steps are what ebur128 logs every 100 ms of a piece of audio: the time
// the step ends, the momentary (400 ms) and the short-term (3 s) loudness;
// and the peaks of the whole piece.
type Steps struct {
	// Offset is the time of the whole recording at which the piece's
	// audio starts: a step at T[i] ends at Offset+T[i] in the whole.
	Offset     float64   `json:"offset"`
	T          []float64 `json:"t"`
	M          []float64 `json:"m"`
	S          []float64 `json:"s"`
	SamplePeak float64   `json:"sample_peak"`
	TruePeak   float64   `json:"true_peak"`
}

// runSteps runs ffmpeg and collects ebur128's steps and, if the graph has
// a volumedetect, its max_volume as the true peak. stdin, if not nil, is
// ffmpeg's standard input.
func runSteps(ctx context.Context, args []string, stdin io.Reader) (*Steps, error) {
	cmd := command(ctx, "ffmpeg", args...)
	cmd.Stdin = stdin
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start ffmpeg: %w", err)
	}
	st := &Steps{SamplePeak: math.Inf(-1), TruePeak: math.Inf(-1)}
	var tail bytes.Buffer
	sc := bufio.NewScanner(stderr)
	// ffmpeg may set a graph up, tear it down (printing an empty summary)
	// and set it up again once it knows the stream: the steps after a
	// summary are a new graph's.
	inSummary, samplePeak := false, false
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "max_volume:"); i >= 0 {
			if f := strings.Fields(line[i+len("max_volume:"):]); len(f) > 0 {
				if v, err := strconv.ParseFloat(f[0], 64); err == nil {
					st.TruePeak = v
				}
			}
			continue
		}
		if strings.HasSuffix(line, "Summary:") {
			inSummary = true
			continue
		}
		if t, mom, short, ok := parseFrame(line); ok {
			if inSummary {
				inSummary = false
				st.T, st.M, st.S, st.SamplePeak = nil, nil, nil, math.Inf(-1)
			}
			st.T, st.M, st.S = append(st.T, t), append(st.M, mom), append(st.S, short)
			continue
		}
		if !inSummary {
			tail.Reset()
			tail.WriteString(line)
			continue
		}
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "Sample" && f[1] == "peak:":
			samplePeak = true
		case samplePeak && len(f) >= 2 && f[0] == "Peak:":
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				st.SamplePeak = v
			}
			samplePeak = false
		}
	}
	_, _ = io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("ffmpeg ebur128 failed: %w: %s", err, tail.String())
	}
	if !inSummary {
		return nil, fmt.Errorf("ffmpeg printed no ebur128 summary")
	}
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
			if t >= 2.999 || (k == 0 && t >= 0.399) {
				short = append(short, p.S[i])
			}
		}
		l.SamplePeak = max(l.SamplePeak, p.SamplePeak)
		l.TruePeak = max(l.TruePeak, p.TruePeak)
	}
	l.Integrated, l.Range = integrated(blocks), loudnessRange(short)
	return l
}

// parseFrame reads "[Parsed_ebur128_0 @ 0x..] t: 1.2  TARGET:-23 LUFS  M: -18.2 S: -19.0 ...".
func parseFrame(line string) (t, m, s float64, ok bool) {
	i := strings.Index(line, "] t:")
	if i < 0 {
		return 0, 0, 0, false
	}
	// A value of three digits fills its field: "M:-120.7", no space.
	f := strings.Fields(strings.ReplaceAll(line[i+1:], ":", ": "))
	found := 0
	for k := 0; k+1 < len(f); k++ {
		v, err := strconv.ParseFloat(strings.TrimSuffix(f[k+1], "LUFS"), 64)
		if err != nil {
			continue
		}
		switch f[k] {
		case "t:":
			t, found = v, found|1
		case "M:":
			m, found = v, found|2
		case "S:":
			s, found = v, found|4
		}
	}
	return t, m, s, found == 7
}

// integrated gates block loudnesses as BS.1770-4 does: absolute at -70
// LUFS, then relative at 10 LU below the mean of the blocks that pass.
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
