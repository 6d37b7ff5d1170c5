package ffmpeg

import "testing"

// BenchmarkMeterWrite is the meter's own cost, a 100 ms step of stereo at a time.
func BenchmarkMeterWrite(b *testing.B) {
	m := newMeter(44100, 2, 17000)
	buf := make([]float32, 2*4410)
	for i := range buf {
		buf[i] = float32(i%100)/100 - 0.5
	}
	b.SetBytes(int64(len(buf) * 4))
	for b.Loop() {
		m.write(buf)
	}
}
