package ffmpeg

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRunStereoSSE2 checks the SSE2 kernels against runStereoGo, to the
// bit: the energy and peak of each call, and the filters' state after it,
// over calls that carry the state on, with the K-weighting alone and
// with the lowpass before it.
func TestRunStereoSSE2(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lowpass int
	}{{"KWeighting", 0}, {"Lowpass", 16000}} {
		t.Run(tc.name, func(t *testing.T) {
			asm, ref := newMeter(44100, 2, tc.lowpass), newMeter(44100, 2, tc.lowpass)
			rng := rand.New(rand.NewPCG(1, 2))
			for call := range 50 {
				s := make([]float32, 2*(1+rng.IntN(5000)))
				if call == 7 {
					s = s[:1] // less than a frame: nothing to do
				}
				for i := range s {
					s[i] = float32(rng.NormFloat64() * 0.3 * math.Sin(float64(i)/50))
				}
				e1, p1 := runStereo(asm.filters[0], asm.filters[1], s)
				e2, p2 := runStereoGo(ref.filters[0], ref.filters[1], s)
				if math.Float64bits(e1) != math.Float64bits(e2) || p1 != p2 {
					t.Fatalf("call %d: SSE2 energy %v, peak %v; Go %v, %v", call, e1, p1, e2, p2)
				}
				for ch := range 2 {
					for i, f := range asm.filters[ch] {
						if g := ref.filters[ch][i]; f != g {
							t.Fatalf("call %d: channel %d biquad %d state %+v, Go %+v", call, ch, i, f, g)
						}
					}
				}
			}
		})
	}
}

// TestRunStereoMixed checks that channels whose filters differ (never
// the meter's) go the Go way.
func TestRunStereoMixed(t *testing.T) {
	fl, fr := kWeighting(44100), kWeighting(48000)
	gl, gr := kWeighting(44100), kWeighting(48000)
	s := []float32{0.5, -0.25, 0.1, 0.2, -0.3, 0.4}
	e1, p1 := runStereo(fl, fr, s)
	e2, p2 := runStereoGo(gl, gr, s)
	if e1 != e2 || p1 != p2 || fr[1] != gr[1] {
		t.Fatalf("runStereo %v, %v; runStereoGo %v, %v", e1, p1, e2, p2)
	}
}

// BenchmarkRunStereo compares the SSE2 kernel with runStereoGo on a
// 100 ms step of stereo, lowpass and K-weighting.
func BenchmarkRunStereo(b *testing.B) {
	s := make([]float32, 2*4410)
	for i := range s {
		s[i] = float32(i%100)/100 - 0.5
	}
	for _, run := range []struct {
		name string
		f    func(fl, fr []biquad, s []float32) (float64, float64)
	}{{"SSE2", runStereo}, {"Go", runStereoGo}} {
		b.Run(run.name, func(b *testing.B) {
			m := newMeter(44100, 2, 17000)
			b.SetBytes(int64(len(s) * 4))
			for b.Loop() {
				run.f(m.filters[0], m.filters[1], s)
			}
		})
	}
}
