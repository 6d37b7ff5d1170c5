package ffmpeg

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
)

// MP3Options says how to encode the feed's MP3.
type MP3Options struct {
	Channels int               // 1 or 2; 0 keeps the input's (capped at 2)
	Bitrate  int               // kbit/s; 0 picks 128 for stereo, 64 for mono
	Tags     map[string]string // ID3 tags: title, artist, album, track, date, comment
}

// EncodeMP3 encodes input (a path or URL) to a 44.1 kHz CBR MP3 at output,
// with ID3v2.3 tags. Cancelling ctx kills ffmpeg.
func EncodeMP3(ctx context.Context, input, output string, opt MP3Options) error {
	ch := opt.Channels
	if ch <= 0 || ch > 2 {
		ch = 2
	}
	br := opt.Bitrate
	if br == 0 {
		br = 128
		if ch == 1 {
			br = 64
		}
	}
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-y", "-i", input,
		"-map", "0:a:0", "-map_metadata", "-1", "-map_chapters", "-1",
		"-ac", strconv.Itoa(ch), "-ar", "44100",
		"-c:a", "libmp3lame", "-b:a", strconv.Itoa(br) + "k",
		"-id3v2_version", "3", "-write_xing", "1"}
	for _, k := range []string{"title", "artist", "album", "track", "date", "comment"} {
		if v := opt.Tags[k]; v != "" {
			args = append(args, "-metadata", k+"="+v)
		}
	}
	args = append(args, "-f", "mp3", output)
	return run(ctx, "ffmpeg", args...)
}

func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s failed: %w: %s", name, err, lastLine(stderr.String()))
	}
	return nil
}
