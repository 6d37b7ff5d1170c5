package ffmpeg

import (
	"math"
	"math/rand/v2"
	"testing"
)

// speechLike is stereo audio with the dynamics of speech: bursts of a few
// hundred milliseconds at levels 30 dB apart, a tone plus noise in each.
func speechLike(frames int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]float32, 2*frames)
	level := 0.1
	for i := range frames {
		if i%8000 == 0 {
			level = math.Pow(10, -30*r.Float64()/20) * 0.9
		}
		v := level * (0.6*math.Sin(2*math.Pi*float64(i)*0.23+r.Float64()*0.01) + 0.4*(2*r.Float64()-1))
		s[2*i], s[2*i+1] = float32(v), float32(0.8*v)
	}
	return s
}

// TestTruePeakSkipsExactly: the meter, skipping the blocks that cannot
// reach the peak, finds the peak that filtering every sample finds, however
// the audio is cut into writes.
func TestTruePeakSkipsExactly(t *testing.T) {
	s := speechLike(200000, 7)
	all := 0.0
	padded := append(make([]float32, 2*(truePeakReach-1)), s...)
	for ch := range 2 {
		all = max(all, oversampledPeak(padded, ch, 2))
	}
	all = max(all, absMax(s))
	for _, chunk := range []int{1, 7, 1000, 4096, 200000} {
		tp := newTruePeak(2)
		for at := 0; at < len(s)/2; at += chunk {
			part := s[2*at : 2*min(at+chunk, len(s)/2)]
			tp.write(part, absMax(part))
		}
		if tp.peak != all {
			t.Errorf("writes of %d frames: peak %v, filtering everything %v", chunk, tp.peak, all)
		}
	}
	if all <= absMax(s) {
		t.Errorf("the oversampled peak %v is not above the sample peak %v: the test shows nothing", all, absMax(s))
	}
}

// TestTruePeakGain: the bound the skipping relies on holds for the
// worst-case input, each tap's sign.
func TestTruePeakGain(t *testing.T) {
	for p, phase := range truePeakFIR {
		s := make([]float32, truePeakReach)
		for k, h := range phase {
			s[truePeakReach-1-k] = float32(math.Copysign(1, h))
		}
		if got := oversampledPeak(s, 0, 1); got > truePeakGain+1e-9 {
			t.Errorf("phase %d reaches %v, above the bound %v", p, got, truePeakGain)
		}
	}
	if truePeakGain < 1.9 || truePeakGain > 2.1 {
		t.Errorf("truePeakGain %v, want about 2 (+6 dB)", truePeakGain)
	}
}

// BenchmarkTruePeak is the true-peak meter's cost on speech-like audio, a
// 100 ms step of stereo at a time; BenchmarkMeterWrite is the loudness's.
func BenchmarkTruePeak(b *testing.B) {
	s := speechLike(44100*60, 3)
	b.SetBytes(int64(len(s) * 4))
	for b.Loop() {
		tp := newTruePeak(2)
		for at := 0; at < len(s); at += 2 * 4410 {
			part := s[at:min(at+2*4410, len(s))]
			tp.write(part, absMax(part))
		}
	}
}

// BenchmarkTruePeakEverySample is the cost without the skipping.
func BenchmarkTruePeakEverySample(b *testing.B) {
	s := speechLike(44100*60, 3)
	b.SetBytes(int64(len(s) * 4))
	for b.Loop() {
		oversampledPeak(s, 0, 2)
		oversampledPeak(s, 1, 2)
	}
}
