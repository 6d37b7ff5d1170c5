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
	cmd := command(ctx, "ffmpeg", args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, 0, 0, fmt.Errorf("cannot start ffmpeg: %w", err)
	}
	var tail bytes.Buffer
	sc := bufio.NewScanner(stderr)
	inSummary, samplePeak := false, false
	peak = math.Inf(-1)
	for sc.Scan() {
		line := sc.Text()
		if !inSummary {
			if strings.HasSuffix(line, "Summary:") {
				inSummary = true
				continue
			}
			t, mom, st, ok := parseFrame(line)
			if !ok {
				tail.Reset()
				tail.WriteString(line)
				continue
			}
			last = max(last, t)
			if t >= 0.399 {
				blocks = append(blocks, mom)
			}
			if t >= 2.999 || (!skipHead && t >= 0.399) {
				short = append(short, st)
			}
			continue
		}
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "Sample" && f[1] == "peak:":
			samplePeak = true
		case samplePeak && len(f) >= 2 && f[0] == "Peak:":
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				peak = v
			}
			samplePeak = false
		}
	}
	_, _ = io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, nil, 0, 0, ctx.Err()
		}
		return nil, nil, 0, 0, fmt.Errorf("ffmpeg ebur128 failed: %w: %s", err, tail.String())
	}
	if !inSummary {
		return nil, nil, 0, 0, fmt.Errorf("ffmpeg printed no ebur128 summary")
	}
	return blocks, short, peak, last, nil
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
