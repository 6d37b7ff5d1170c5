package ffmpeg_test

import (
	"context"
	"fmt"
	"log"

	"github.com/prodcast/prodcast/pipeline/ffmpeg"
)

// Probe a recording, measure it, and encode it to an MP3 at -16 LUFS.
func Example() {
	ctx := context.Background()
	in := "/srv/drop/flask-patterns/interview.wav" // or a presigned URL
	info, err := ffmpeg.Probe(ctx, in, "interview.wav")
	if err != nil {
		log.Fatal(err) // a pipeline.InputError says what is wrong with the file
	}
	before, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: in, Duration: info.Duration})
	if err != nil {
		log.Fatal(err)
	}
	after, err := ffmpeg.Encode(ctx, ffmpeg.Job{Input: in, Duration: info.Duration, Channels: info.Channels,
		GainDB: -16 - before.Integrated, MP3: "/srv/published/interview.mp3", MP3Kbps: 128})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.1f LUFS -> %.1f LUFS\n", before.Integrated, after.Integrated)
}
