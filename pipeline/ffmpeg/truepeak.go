package ffmpeg

import "math"

// truePeakFIR is the interpolating filter of ITU-R BS.1770-4 Annex 2: 48
// taps, read as 4 phases of 12, one for each of the 4 output samples
// between two input samples.
var truePeakFIR = [4][12]float64{
	{0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875, 0.1373291015625,
		0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500},
	{-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500, 0.4650878906250,
		0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375},
	{-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000, -0.2003173828125, 0.7797851562500,
		0.4650878906250, -0.1665039062500, 0.0891113281250, -0.0517578125000, 0.0292968750000, -0.0291748046875},
	{-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750, -0.1022949218750, 0.9721679687500,
		0.1373291015625, -0.0594482421875, 0.0332031250000, -0.0196533203125, 0.0109863281250, 0.0017089843750},
}

// truePeakReach is how many input samples each output of the filter reads.
const truePeakReach = len(truePeakFIR[0])

// truePeakGain bounds the filter: no output exceeds it times the largest
// input it reads (the largest sum of a phase's absolute taps).
var truePeakGain = func() float64 {
	g := 0.0
	for _, phase := range truePeakFIR {
		s := 0.0
		for _, h := range phase {
			s += math.Abs(h)
		}
		g = max(g, s)
	}
	return g
}()

// truePeakBlock is the number of frames the meter judges at a time.
const truePeakBlock = 32

// truePeak measures the true peak as BS.1770-4 Annex 2 defines it: the
// largest absolute value of the audio oversampled 4x by truePeakFIR (or of
// the audio itself, if larger). Oversampling every sample would cost more
// than the loudness meter; but the filter cannot raise a block of frames
// above truePeakGain (about +6 dB) times the largest sample it reads, so
// only the blocks that could pass the peak found so far are filtered: in
// speech, the few around its loudest moments. The result is the same as
// filtering everything.
type truePeak struct {
	channels int
	peak     float64   // the largest absolute value so far, in or out
	buf      []float32 // the last truePeakReach-1 frames, then the frames being judged
}

func newTruePeak(channels int) *truePeak {
	return &truePeak{channels: channels, buf: make([]float32, (truePeakReach-1)*channels)}
}

// write takes interleaved samples, a whole number of frames, whose largest
// absolute value is samplePeak.
func (t *truePeak) write(samples []float32, samplePeak float64) {
	t.peak = max(t.peak, samplePeak)
	n := t.channels
	keep := (truePeakReach - 1) * n
	frames := len(samples) / n
	if frames == 0 {
		return
	}
	// The first block reads the last frames of the previous write: it is
	// judged in buf, the rest in samples.
	first := min(frames, truePeakBlock)
	t.buf = append(t.buf[:keep], samples[:first*n]...)
	prev := absMax(t.buf[:keep])
	cur := absMax(t.buf[keep:])
	t.judge(t.buf, prev, cur)
	for at := first; at < frames; at += truePeakBlock {
		end := min(at+truePeakBlock, frames)
		prev, cur = cur, absMax(samples[at*n:end*n])
		t.judge(samples[(at-truePeakReach+1)*n:end*n], prev, cur)
	}
	if frames >= truePeakReach-1 {
		t.buf = append(t.buf[:0], samples[len(samples)-keep:]...)
	} else {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
}

// judge filters s, a block with the frames its first outputs read before
// it, if it could pass the peak so far: if the largest sample it reads,
// the greater of before and in, times truePeakGain does.
func (t *truePeak) judge(s []float32, before, in float64) {
	if max(before, in)*truePeakGain <= t.peak {
		return
	}
	for ch := range t.channels {
		t.peak = max(t.peak, oversampledPeak(s, ch, t.channels))
	}
}

// dB is the true peak in dBTP, -Inf for silence.
func (t *truePeak) dB() float64 { return 20 * math.Log10(t.peak) }

// oversampledPeak filters channel ch of the interleaved frames s (of n
// channels): every output whose reach lies within s, and returns the
// largest absolute value.
func oversampledPeak(s []float32, ch, n int) float64 {
	frames := len(s) / n
	peak := 0.0
	var x [truePeakBlock + truePeakReach - 1]float64
	for at := 0; at+truePeakReach <= frames; at += truePeakBlock {
		m := min(len(x), frames-at)
		for i := range m {
			x[i] = float64(s[(at+i)*n+ch])
		}
		peak = max(peak, filterPeak(x[:m]))
	}
	return peak
}

// filterPeak is the largest absolute output of the filter over x.
func filterPeak(x []float64) float64 {
	h0, h1, h2, h3 := &truePeakFIR[0], &truePeakFIR[1], &truePeakFIR[2], &truePeakFIR[3]
	peak := 0.0
	for i := 0; i+truePeakReach <= len(x); i++ {
		w := (*[truePeakReach]float64)(x[i : i+truePeakReach]) // oldest first
		var y0, y1, y2, y3 float64
		for k := range truePeakReach {
			v := w[truePeakReach-1-k]
			y0 += h0[k] * v
			y1 += h1[k] * v
			y2 += h2[k] * v
			y3 += h3[k] * v
		}
		peak = max(peak, math.Abs(y0), math.Abs(y1), math.Abs(y2), math.Abs(y3))
	}
	return peak
}

// absMax is the largest absolute value in s: the sign bit cleared, a
// float32's bits order as its value does.
func absMax(s []float32) float64 {
	m := uint32(0)
	for _, v := range s {
		m = max(m, math.Float32bits(v)&0x7fffffff)
	}
	return float64(math.Float32frombits(m))
}
