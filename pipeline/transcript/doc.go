// Package transcript reads an episode's transcript from the bundle, as
// WebVTT (transcript.vtt) or SubRip (transcript.srt), into one list of cues
// with their speakers, and writes it back out in the three forms that
// podcast apps and the blog use: WebVTT, SubRip and the podcast namespace's
// JSON. Problems name the line, so the producer can fix them.
//
//	cues, warnings, err := transcript.Parse("transcript.vtt", data, duration)
//	vtt := transcript.VTT(cues)
//	turns := transcript.Turns(cues) // speaker turns, for the episode page
package transcript
