package ffmpeg

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// meter measures loudness as ITU-R BS.1770-4 and EBU Tech 3341 define it,
// over the PCM ffmpeg decodes: K-weighting (a high shelf and a high-pass
// biquad, computed for the sample rate as libebur128 does), then the mean
// square of every 100 ms step, from which the 400 ms momentary and 3 s
// short-term loudness of each step follow. ffmpeg's ebur128 filter does
// the same at many times the cost: it is what the measurements here
// used to run, and the tests check the two agree.
type meter struct {
	rate     int
	weights  []float64 // per channel: 1, or 1.41 for surrounds, 0 for LFE
	filters  [][]biquad
	steps    []float64 // the weighted mean square of each 100 ms step
	stepEnd  int64     // the frame at which the current step ends
	acc      float64
	accN     int64
	frames   int64
	peak     float64 // the largest absolute sample
	stepSize func(i int64) int64
	tp       *truePeak // nil unless the true peak is measured
}

// biquad is one second-order section, transposed direct form II.
type biquad struct {
	b0, b1, b2, a1, a2 float64
	z1, z2             float64
}

// kWeighting is BS.1770's pre-filter and RLB filter at rate.
func kWeighting(rate int) []biquad {
	fs := float64(rate)
	f0, g, q := 1681.974450955533, 3.999843853973347, 0.7071752369554196
	k := math.Tan(math.Pi * f0 / fs)
	vh := math.Pow(10, g/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/q + k*k
	pre := biquad{b0: (vh + vb*k/q + k*k) / a0, b1: 2 * (k*k - vh) / a0, b2: (vh - vb*k/q + k*k) / a0,
		a1: 2 * (k*k - 1) / a0, a2: (1 - k/q + k*k) / a0}
	f0, q = 38.13547087602444, 0.5003270373238773
	k = math.Tan(math.Pi * f0 / fs)
	a0 = 1 + k/q + k*k
	rlb := biquad{b0: 1, b1: -2, b2: 1, a1: 2 * (k*k - 1) / a0, a2: (1 - k/q + k*k) / a0}
	return []biquad{pre, rlb}
}

// lowpass is ffmpeg's lowpass filter (the RBJ biquad, Q 0.707) at f Hz.
func lowpass(rate, f int) biquad {
	w := 2 * math.Pi * float64(f) / float64(rate)
	alpha := math.Sin(w) / (2 * 0.707)
	c := math.Cos(w)
	a0 := 1 + alpha
	return biquad{b0: (1 - c) / 2 / a0, b1: (1 - c) / a0, b2: (1 - c) / 2 / a0, a1: -2 * c / a0, a2: (1 - alpha) / a0}
}

// newMeter makes a meter for rate and channels; lowpassHz, if not zero,
// low-passes the audio twice first, as the MP3 encoder will.
func newMeter(rate, channels, lowpassHz int) *meter {
	m := &meter{rate: rate, peak: 0}
	for ch := range channels {
		var fs []biquad
		if lowpassHz > 0 && lowpassHz < rate/2 {
			fs = append(fs, lowpass(rate, lowpassHz), lowpass(rate, lowpassHz))
		}
		m.filters = append(m.filters, append(fs, kWeighting(rate)...))
		w := 1.0
		switch {
		case channels > 2 && ch == 3:
			w = 0 // LFE, in the order ffmpeg decodes 5.1 to
		case channels > 2 && ch >= 4:
			w = 1.41
		}
		m.weights = append(m.weights, w)
	}
	m.stepSize = func(i int64) int64 { return (i+1)*int64(rate)/10 - i*int64(rate)/10 }
	m.stepEnd = m.stepSize(0)
	return m
}

// write takes interleaved float32 samples, a whole number of frames.
func (m *meter) write(samples []float32) {
	n := len(m.filters)
	frames := int64(len(samples) / n)
	peak := m.peak
	m.peak = 0
	for off := int64(0); off < frames; {
		seg := min(frames-off, m.stepEnd-m.frames)
		part := samples[off*int64(n) : (off+seg)*int64(n)]
		if n == 2 && m.weights[0] == 1 && m.weights[1] == 1 {
			e, pk := runStereo(m.filters[0], m.filters[1], part)
			m.acc += e
			m.peak = max(m.peak, pk)
			n = 0 // done
		}
		for ch := range n {
			e, pk := runChannel(m.filters[ch], part, ch, n)
			m.acc += m.weights[ch] * e
			m.peak = max(m.peak, pk)
		}
		n = len(m.filters)
		m.accN += seg
		m.frames += seg
		off += seg
		if m.frames == m.stepEnd {
			m.steps = append(m.steps, m.acc/float64(m.accN))
			m.acc, m.accN = 0, 0
			m.stepEnd += m.stepSize(int64(len(m.steps)))
		}
	}
	if m.tp != nil {
		m.tp.write(samples, m.peak)
	}
	m.peak = max(peak, m.peak)
}

// runStereoGo is runChannel for both channels of stereo at once: two
// independent chains of arithmetic in one loop run in about the time of
// one. On amd64, runStereo does the same on SSE2 (meter_amd64.s).
func runStereoGo(fl, fr []biquad, s []float32) (energy, peak float64) {
	k := len(fl) - 2
	pl, rl, pr, rr := fl[k], fl[k+1], fr[k], fr[k+1]
	var l1, l2, m1, m2 biquad
	if k == 2 {
		l1, l2, m1, m2 = fl[0], fl[1], fr[0], fr[1]
	}
	for i := 0; i+1 < len(s); i += 2 {
		x, w := float64(s[i]), float64(s[i+1])
		if a := math.Abs(x); a > peak {
			peak = a
		}
		if a := math.Abs(w); a > peak {
			peak = a
		}
		if k == 2 {
			y, v := l1.b0*x+l1.z1, m1.b0*w+m1.z1
			l1.z1, m1.z1 = l1.b1*x-l1.a1*y+l1.z2, m1.b1*w-m1.a1*v+m1.z2
			l1.z2, m1.z2 = l1.b2*x-l1.a2*y, m1.b2*w-m1.a2*v
			x, w = y, v
			y, v = l2.b0*x+l2.z1, m2.b0*w+m2.z1
			l2.z1, m2.z1 = l2.b1*x-l2.a1*y+l2.z2, m2.b1*w-m2.a1*v+m2.z2
			l2.z2, m2.z2 = l2.b2*x-l2.a2*y, m2.b2*w-m2.a2*v
			x, w = y, v
		}
		y, v := pl.b0*x+pl.z1, pr.b0*w+pr.z1
		pl.z1, pr.z1 = pl.b1*x-pl.a1*y+pl.z2, pr.b1*w-pr.a1*v+pr.z2
		pl.z2, pr.z2 = pl.b2*x-pl.a2*y, pr.b2*w-pr.a2*v
		x, w = y, v
		y, v = rl.b0*x+rl.z1, rr.b0*w+rr.z1
		rl.z1, rr.z1 = rl.b1*x-rl.a1*y+rl.z2, rr.b1*w-rr.a1*v+rr.z2
		rl.z2, rr.z2 = rl.b2*x-rl.a2*y, rr.b2*w-rr.a2*v
		energy += y*y + v*v
	}
	fl[k], fl[k+1], fr[k], fr[k+1] = pl, rl, pr, rr
	if k == 2 {
		fl[0], fl[1], fr[0], fr[1] = l1, l2, m1, m2
	}
	return energy, peak
}

// runChannel filters one channel of interleaved samples (channel ch of
// n) through fs, two biquads (K-weighting) or four (a lowpass twice
// first), and returns the sum of the squares out and the largest absolute
// sample in. The sections are unrolled, their state kept in locals.
func runChannel(fs []biquad, s []float32, ch, n int) (energy, peak float64) {
	k := len(fs) - 2
	p, r := fs[k], fs[k+1]
	var l1, l2 biquad
	if k == 2 {
		l1, l2 = fs[0], fs[1]
	}
	for i := ch; i < len(s); i += n {
		x := float64(s[i])
		if a := math.Abs(x); a > peak {
			peak = a
		}
		if k == 2 {
			y := l1.b0*x + l1.z1
			l1.z1 = l1.b1*x - l1.a1*y + l1.z2
			l1.z2 = l1.b2*x - l1.a2*y
			x = y
			y = l2.b0*x + l2.z1
			l2.z1 = l2.b1*x - l2.a1*y + l2.z2
			l2.z2 = l2.b2*x - l2.a2*y
			x = y
		}
		y := p.b0*x + p.z1
		p.z1 = p.b1*x - p.a1*y + p.z2
		p.z2 = p.b2*x - p.a2*y
		x = y
		y = r.b0*x + r.z1
		r.z1 = r.b1*x - r.a1*y + r.z2
		r.z2 = r.b2*x - r.a2*y
		energy += y * y
	}
	fs[k], fs[k+1] = p, r
	if k == 2 {
		fs[0], fs[1] = l1, l2
	}
	return energy, peak
}

// loudness of a mean square, in LUFS.
func lufs(ms float64) float64 {
	if ms <= 0 {
		return -120.7 // what ebur128 prints for silence
	}
	return -0.691 + 10*math.Log10(ms)
}

// result is the steps as Steps: each step's time (its end), momentary
// loudness (from the step's own 400 ms block) and short-term loudness (3 s);
// steps before the first full block are left out, and short-term values
// before the first full 3 s window are those of the audio so far.
func (m *meter) result() *Steps {
	st := &Steps{SamplePeak: 20 * math.Log10(m.peak), TruePeak: math.Inf(-1)}
	if m.tp != nil {
		st.TruePeak = m.tp.dB()
	}
	for i := range m.steps {
		if i < 3 {
			continue
		}
		mom := 0.0
		for _, e := range m.steps[i-3 : i+1] {
			mom += e
		}
		short, n := 0.0, 0
		for _, e := range m.steps[max(0, i-29) : i+1] {
			short += e
			n++
		}
		if n < 30 {
			n = 30 // the window is 3 s: the silence before the start counts
		}
		st.T = append(st.T, float64(i+1)/10)
		st.M = append(st.M, lufs(mom/4))
		st.S = append(st.S, lufs(short/float64(n)))
	}
	return st
}

// seconds decoded.
func (m *meter) seconds() float64 { return float64(m.frames) / float64(m.rate) }

// readWAV reads the WAV ffmpeg streams (pcm_f32le, its length unknown)
// into a meter, which measures the true peak too if truePeak.
func readWAV(r io.Reader, lowpassHz int, truePeak bool) (*meter, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("no audio came out of ffmpeg: %w", err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, errors.New("ffmpeg's output is not a WAV")
	}
	var m *meter
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return nil, fmt.Errorf("ffmpeg's WAV ends before its data: %w", err)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		if id == "data" {
			break
		}
		body := make([]byte, size+size%2)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		if id == "fmt " && len(body) >= 16 {
			format := binary.LittleEndian.Uint16(body[0:2])
			channels := int(binary.LittleEndian.Uint16(body[2:4]))
			rate := int(binary.LittleEndian.Uint32(body[4:8]))
			bits := binary.LittleEndian.Uint16(body[14:16])
			if (format != 3 && format != 0xFFFE) || bits != 32 || channels < 1 || rate < 1 {
				return nil, fmt.Errorf("ffmpeg's WAV is format %d, %d bits: want 32-bit float", format, bits)
			}
			m = newMeter(rate, channels, lowpassHz)
			if truePeak {
				m.tp = newTruePeak(channels)
			}
		}
	}
	if m == nil {
		return nil, errors.New("ffmpeg's WAV has no fmt chunk")
	}
	buf := make([]byte, 1<<16)
	samples := make([]float32, len(buf)/4)
	carry := 0
	for {
		n, err := br.Read(buf[carry:])
		n += carry
		whole := n / 4 / len(m.filters) * len(m.filters)
		for i := range whole {
			samples[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		m.write(samples[:whole])
		carry = copy(buf, buf[4*whole:n])
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
