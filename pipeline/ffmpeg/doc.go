// Package ffmpeg wraps the ffmpeg and ffprobe commands: probing a recording
// and encoding it to the feed's MP3. Inputs may be local paths or HTTP(S)
// URLs (presigned S3 URLs), so a recording is streamed, never read whole.
//
//	p, err := ffmpeg.Probe(ctx, url)
//	err = ffmpeg.EncodeMP3(ctx, url, "/tmp/out.mp3", ffmpeg.MP3Options{...})
package ffmpeg
