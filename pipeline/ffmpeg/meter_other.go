//go:build !amd64

package ffmpeg

func runStereo(fl, fr []biquad, s []float32) (energy, peak float64) {
	return runStereoGo(fl, fr, s)
}
