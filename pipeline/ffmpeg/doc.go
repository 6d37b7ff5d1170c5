// Package ffmpeg wraps the ffmpeg and ffprobe commands: probing a
// recording, measuring its loudness (with a meter of its own, as EBU R128
// defines it), and encoding it to the feed's MP3, whole or in pieces.
// Inputs may be local paths or HTTP(S) URLs (presigned S3 URLs), so a
// recording is streamed, never read whole; only the demuxers of the
// formats a bundle may hold read it, from a file, a pipe or HTTP. See
// example_test.go.
package ffmpeg
