package ffmpeg

// packedBiquad is a biquad for both channels of stereo, for the SSE2
// kernels in meter_amd64.s: each coefficient twice, one per lane, then
// the state of the left and right channels.
type packedBiquad struct {
	b0, b1, b2, a1, a2 [2]float64
	z1, z2             [2]float64
}

// stereo2 and stereo4 are runStereoGo's chain of two biquads (the
// K-weighting) or four (a lowpass twice first), in meter_amd64.s.
//
//go:noescape
func stereo2(p *[2]packedBiquad, s []float32) (energy, peak float64)

//go:noescape
func stereo4(p *[4]packedBiquad, s []float32) (energy, peak float64)

// runStereo is runStereoGo on SSE2, faster: both channels in
// one register.
func runStereo(fl, fr []biquad, s []float32) (energy, peak float64) {
	if len(s) < 2 || !sameCoefficients(fl, fr) {
		return runStereoGo(fl, fr, s)
	}
	var p [4]packedBiquad
	for i := range fl {
		l, r := &fl[i], &fr[i]
		p[i] = packedBiquad{b0: [2]float64{l.b0, l.b0}, b1: [2]float64{l.b1, l.b1}, b2: [2]float64{l.b2, l.b2},
			a1: [2]float64{l.a1, l.a1}, a2: [2]float64{l.a2, l.a2}, z1: [2]float64{l.z1, r.z1}, z2: [2]float64{l.z2, r.z2}}
	}
	switch len(fl) {
	case 2:
		energy, peak = stereo2((*[2]packedBiquad)(p[:2]), s)
	case 4:
		energy, peak = stereo4(&p, s)
	}
	for i := range fl {
		fl[i].z1, fr[i].z1 = p[i].z1[0], p[i].z1[1]
		fl[i].z2, fr[i].z2 = p[i].z2[0], p[i].z2[1]
	}
	return energy, peak
}

// sameCoefficients says whether two chains of two or four biquads filter
// alike, as the meter's channels always do.
func sameCoefficients(fl, fr []biquad) bool {
	if len(fl) != len(fr) || (len(fl) != 2 && len(fl) != 4) {
		return false
	}
	for i := range fl {
		l, r := fl[i], fr[i]
		if l.b0 != r.b0 || l.b1 != r.b1 || l.b2 != r.b2 || l.a1 != r.a1 || l.a2 != r.a2 {
			return false
		}
	}
	return true
}
