package ffmpeg

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/prodcast/prodcast/pipeline"
)

// Output is one extra encoding besides the MP3.
type Output struct {
	Format string // "aac" or "opus"
	Path   string
	Kbps   int
}

// Job says how to turn a recording into the published files.
type Job struct {
	Input    string  // path or URL of the recording
	Duration float64 // seconds, for progress
	Channels int     // 1 or 2
	GainDB   float64 // applied before everything else
	// LimitDBFS, when not zero, puts a peak limiter at that ceiling after
	// the gain.
	LimitDBFS float64
	MP3       string // path of the MP3 to write
	MP3Kbps   int
	// CutoffHz is the MP3 encoder's lowpass; see Cutoff.
	CutoffHz int
	// MP3Quality is LAME's algorithm quality, 0 (best, slowest) to 9; 5 is
	// the default here: for speech at 128 kbit/s it is indistinguishable
	// from 3, and faster.
	MP3Quality int
	Extra      []Output
	Art        string            // path of a JPEG or PNG to embed, optional
	Tags       map[string]string // title, artist, album, track, date, comment
	// Progress, if set, is called with the seconds encoded so far.
	Progress func(done float64)
}

// Encode runs one ffmpeg that decodes the recording once, applies the gain
// (and limiter), and writes the MP3 and any extra encodings. While it runs,
// a second ffmpeg measures the MP3 as it is written (EBU R128 loudness and
// true peak), on the other core, so the check costs little extra time.
// Cancelling ctx kills both.
func Encode(ctx context.Context, j Job) (*pipeline.Loudness, error) {
	var measured *pipeline.Loudness
	err := runEncode(ctx, j.args(), j.Progress, func(r io.Reader) (err error) {
		measured, err = Measure(ctx, Measurement{Input: "-", Stdin: r, TruePeak: true})
		return err
	})
	return measured, err
}

// EncodeExtras makes the job's extra encodings alone, without the MP3: for
// a recording whose MP3 was encoded in pieces.
func EncodeExtras(ctx context.Context, j Job) error {
	if len(j.Extra) == 0 {
		return nil
	}
	cmd := command(ctx, "ffmpeg", j.argsFor(false)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	progR, progW, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.ExtraFiles = []*os.File{progW}
	if err := cmd.Start(); err != nil {
		progR.Close()
		progW.Close()
		return fmt.Errorf("cannot start ffmpeg: %w", err)
	}
	progW.Close()
	done := make(chan struct{})
	go func() { readProgress(progR, j.Progress); close(done) }()
	err = cmd.Wait()
	<-done
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("ffmpeg encode failed: %w: %s", err, lastLine(stderr.String()))
	}
	return nil
}

// runEncode runs an ffmpeg whose first output streams the MP3 to pipe:1
// and whose -progress goes to pipe:3, and measure, which reads the stream,
// at once. Cancelling ctx kills both.
func runEncode(ctx context.Context, args []string, progress func(float64), measure func(io.Reader) error) error {
	enc := command(ctx, "ffmpeg", args...)
	var encErr bytes.Buffer
	enc.Stderr = &encErr
	pr, pw, err := os.Pipe() // the MP3 stream, for the measurement
	if err != nil {
		return err
	}
	enc.Stdout = pw
	progR, progW, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return err
	}
	enc.ExtraFiles = []*os.File{progW} // fd 3: -progress pipe:3
	if err := enc.Start(); err != nil {
		pr.Close()
		pw.Close()
		progR.Close()
		progW.Close()
		return fmt.Errorf("cannot start ffmpeg: %w", err)
	}
	pw.Close()
	progW.Close()
	var wg sync.WaitGroup
	wg.Go(func() { readProgress(progR, progress) })
	var measureErr error
	wg.Go(func() {
		measureErr = measure(pr)
		io.Copy(io.Discard, pr) // never block the encoder
		pr.Close()
	})
	encRunErr := enc.Wait()
	wg.Wait()
	if encRunErr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("ffmpeg encode failed: %w: %s", encRunErr, lastLine(encErr.String()))
	}
	if measureErr != nil {
		return fmt.Errorf("cannot measure the encoded MP3: %w", measureErr)
	}
	return nil
}

func (j Job) args() []string { return j.argsFor(true) }

// argsFor is the encode's command line, with the MP3 (streamed to pipe:1
// too) or without it (the extra encodings alone).
func (j Job) argsFor(withMP3 bool) []string {
	ch := j.Channels
	if ch != 1 {
		ch = 2
	}
	args := append([]string{"-hide_banner", "-nostdin", "-v", "error", "-y", "-progress", "pipe:3"}, inputArgs(j.Input)...)
	if j.Art != "" {
		args = append(args, "-i", j.Art)
	}
	chain := "[0:a:0]" + j.Conditioning()
	layout := map[int]string{1: "mono", 2: "stereo"}[ch]
	chain += ",aresample=44100:resampler=soxr,aformat=sample_rates=44100:channel_layouts=" + layout
	var labels []string
	if withMP3 {
		labels = append(labels, "[mp3]")
	}
	for i := range j.Extra {
		labels = append(labels, fmt.Sprintf("[x%d]", i))
	}
	if len(labels) > 1 {
		chain += fmt.Sprintf(",asplit=%d", len(labels))
	}
	args = append(args, "-filter_complex", chain+strings.Join(labels, ""))

	if withMP3 {
		q := j.MP3Quality
		if q == 0 {
			q = 5
		}
		args = append(args, "-map", "[mp3]")
		args = j.withArt(args)
		args = append(args, "-c:a", "libmp3lame", "-b:a", fmt.Sprintf("%dk", j.MP3Kbps), "-compression_level", strconv.Itoa(q))
		if j.CutoffHz > 0 {
			args = append(args, "-cutoff", strconv.Itoa(j.CutoffHz))
		}
		args = append(args, j.metadata()...)
		// The tee muxer writes the file (seekable, so the LAME/Info header is
		// completed) and streams the audio alone to stdout for the measurement.
		args = append(args, "-f", "tee", fmt.Sprintf("[f=mp3:id3v2_version=3]%s|[f=mp3:select=a:write_xing=0:id3v2_version=0:flush_packets=0]pipe:1", teeEscape(j.MP3)))
	}
	for i, x := range j.Extra {
		args = append(args, "-map", fmt.Sprintf("[x%d]", i))
		switch x.Format {
		case "aac":
			args = j.withArt(args)
			args = append(args, "-c:a", "aac", "-b:a", fmt.Sprintf("%dk", x.Kbps), "-movflags", "+faststart")
			args = append(args, j.metadata()...)
			args = append(args, "-f", "ipod", x.Path)
		case "opus":
			args = append(args, "-c:a", "libopus", "-b:a", fmt.Sprintf("%dk", x.Kbps), "-application", "voip")
			args = append(args, j.metadata()...)
			args = append(args, "-f", "ogg", x.Path)
		}
	}
	return args
}

// Conditioning is the filter chain that sets the level: the gain, then the
// peak limiter if there is one.
func (j Job) Conditioning() string {
	chain := fmt.Sprintf("volume=%.2fdB", j.GainDB)
	if j.LimitDBFS != 0 {
		chain += fmt.Sprintf(",alimiter=limit=%.4f:attack=5:release=50:level=disabled", math.Pow(10, j.LimitDBFS/20))
	}
	return chain
}

func (j Job) withArt(args []string) []string {
	if j.Art == "" {
		return args
	}
	return append(args, "-map", "1:v", "-c:v", "copy", "-disposition:v", "attached_pic",
		"-metadata:s:v", "title=Cover", "-metadata:s:v", "comment=Cover (front)")
}

// metadata are an output's tags: only those the job sets. The input's own
// tags and chapters (a recording that is another podcast's MP3, as an
// import brings) are not carried over; AddChapters writes the episode's.
func (j Job) metadata() []string {
	args := []string{"-map_metadata", "-1", "-map_chapters", "-1"}
	for _, k := range []string{"title", "artist", "album", "album_artist", "track", "date", "comment", "genre"} {
		if v := j.Tags[k]; v != "" {
			args = append(args, "-metadata", k+"="+v)
		}
	}
	return args
}

// Cutoff is the lowpass the MP3 encoder applies at a bitrate, set
// explicitly so that the loudness measured before encoding (through the
// same lowpass) predicts the loudness after.
func Cutoff(kbps int) int {
	switch {
	case kbps >= 128:
		return 17000
	case kbps >= 96:
		return 16000
	case kbps >= 64:
		return 15000
	}
	return 12000
}

// teeEscape quotes the characters the tee muxer's syntax reserves.
func teeEscape(path string) string {
	r := strings.NewReplacer(`\`, `\\`, `|`, `\|`, `[`, `\[`, `]`, `\]`, `:`, `\:`)
	return r.Replace(path)
}

// readProgress parses ffmpeg's -progress key=value stream.
func readProgress(r io.ReadCloser, report func(float64)) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || k != "out_time_us" || report == nil {
			continue
		}
		if us, err := strconv.ParseInt(v, 10, 64); err == nil && us >= 0 {
			report(float64(us) / 1e6)
		}
	}
}

// ErrNoAudio is returned for recordings that are silent throughout.
var ErrNoAudio = errors.New("the recording is silent")

// Chapters are an encoded file's chapters in the two forms ffmpeg takes.
type Chapters struct {
	Meta   string   // path of an ffmpeg metadata file with [CHAPTER] sections
	Vorbis []string // the same as Vorbis comments: CHAPTER001=00:01:02.500, CHAPTER001NAME=...
}

// AddChapters copies an encoded file to out with chapters, in the form its
// format knows: ID3 CHAP and CTOC frames in an MP3 (format "mp3"), a
// chapter track in an M4A ("ipod"), CHAPTERxxx Vorbis comments in Ogg Opus
// ("ogg"). The audio is not re-encoded. Ogg gets the comments as written:
// ffmpeg 5.1 rounds the seconds of the chapters it converts.
func AddChapters(ctx context.Context, in, out, format string, cs Chapters) error {
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-y", "-i", in}
	if format == "ogg" {
		args = append(args, "-map", "0", "-map_metadata", "0", "-map_chapters", "-1")
		for _, c := range cs.Vorbis {
			args = append(args, "-metadata", c)
		}
	} else {
		args = append(args, "-i", cs.Meta, "-map", "0", "-map_metadata", "0", "-map_chapters", "1")
	}
	args = append(args, "-c", "copy")
	switch format {
	case "mp3":
		args = append(args, "-id3v2_version", "3")
	case "ipod":
		args = append(args, "-movflags", "+faststart")
	}
	cmd := command(ctx, "ffmpeg", append(args, "-f", format, out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot write chapters: %w: %s", err, lastLine(stderr.String()))
	}
	return nil
}
