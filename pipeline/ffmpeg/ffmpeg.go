package ffmpeg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
)

// Info is what ffprobe reports about a recording.
type Info struct {
	Duration   float64           // seconds
	Codec      string            // of the first audio stream
	Channels   int               // of the first audio stream
	SampleRate int               // Hz
	BitRate    int               // bits per second, of the whole file
	Tags       map[string]string // container and stream tags, lower-case keys
}

// Title returns the recording's title tag, if any.
func (i *Info) Title() string { return i.Tags["title"] }

// Check reports whether ffmpeg and ffprobe are installed, with a message
// that says how to install them.
func Check() error {
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("cannot find %s on PATH: install ffmpeg (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg)", name)
		}
	}
	return nil
}

// Probe runs ffprobe on input, a path or URL. name is the file name shown to
// the producer in errors. A file ffprobe cannot read, or one with no audio
// stream, gives a pipeline.InputError.
func Probe(ctx context.Context, input, name string) (*Info, error) {
	args := []string{"-v", "error", "-print_format", "json", "-show_format", "-show_streams"}
	cmd := command(ctx, "ffprobe", append(args, inputArgs(input)...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return nil, fmt.Errorf("cannot run ffprobe: %w", err)
		}
		return nil, &pipeline.InputError{
			Problem: fmt.Sprintf("ffprobe cannot read %q: %s", name,
				strings.TrimPrefix(strings.ReplaceAll(lastLine(stderr.String()), input, ""), ": ")),
			Fix: "export the recording again as WAV, FLAC or MP3 and drop it again; check that it plays",
		}
	}
	return parseProbe(stdout.Bytes(), name)
}

type probeJSON struct {
	Streams []struct {
		CodecType  string            `json:"codec_type"`
		CodecName  string            `json:"codec_name"`
		Channels   int               `json:"channels"`
		SampleRate string            `json:"sample_rate"`
		Duration   string            `json:"duration"`
		Tags       map[string]string `json:"tags"`
	} `json:"streams"`
	Format struct {
		Duration string            `json:"duration"`
		BitRate  string            `json:"bit_rate"`
		Tags     map[string]string `json:"tags"`
	} `json:"format"`
}

func parseProbe(data []byte, name string) (*Info, error) {
	var p probeJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("cannot parse ffprobe output for %q: %w", name, err)
	}
	info := &Info{Tags: map[string]string{}}
	found := false
	for _, s := range p.Streams {
		if s.CodecType != "audio" {
			continue
		}
		found = true
		info.Codec, info.Channels = s.CodecName, s.Channels
		info.SampleRate, _ = strconv.Atoi(s.SampleRate)
		info.Duration, _ = strconv.ParseFloat(s.Duration, 64)
		for k, v := range s.Tags {
			info.Tags[strings.ToLower(k)] = v
		}
		break
	}
	if !found {
		return nil, pipeline.Inputf("drop an audio recording; if this is a video, export its sound track as WAV or MP3",
			"%q has no audio stream", name)
	}
	for k, v := range p.Format.Tags {
		info.Tags[strings.ToLower(k)] = v
	}
	if d, err := strconv.ParseFloat(p.Format.Duration, 64); err == nil && d > 0 {
		info.Duration = d
	}
	info.BitRate, _ = strconv.Atoi(p.Format.BitRate)
	if info.Duration <= 0 {
		return nil, pipeline.Inputf("export the recording again; it seems empty or truncated",
			"ffprobe reports no duration for %q", name)
	}
	return info, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) == 0 || lines[len(lines)-1] == "" {
		return "no details"
	}
	return strings.TrimSpace(lines[len(lines)-1])
}
