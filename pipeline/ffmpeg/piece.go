package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The published MP3 is 44.1 kHz MPEG-1 Layer III: 1152 samples a frame.
// LAME delays the audio by 576 samples and a decoder by 529 more; a
// stream without an Info frame decodes with both.
const (
	OutputRate   = 44100
	FrameSamples = 1152
	streamDelay  = 576 + 529
)

// Piece is one piece of a long recording, encoded on its own so that the
// pieces of a recording can be encoded at once, by several workers, and
// joined (mp3.Join) into the MP3 a single encode would make.
type Piece struct {
	// Job gives the input, the gain and limiter, the bitrate, cutoff and
	// quality, and MP3, the file the piece is written to (with an Info
	// frame). Extra, Art and Tags are not used: the join adds them.
	Job
	// InputRate is the recording's sample rate.
	InputRate int
	// From and To are the samples of the recording, at its own rate, that
	// the piece encodes, To 0 for the end; From is a multiple of
	// PieceGrid(InputRate).
	From, To int64
	// Seek says the input's timestamps are exact after a seek (WAV, FLAC):
	// ffmpeg seeks near From rather than decode everything before it.
	Seek bool
}

// PieceGrid is the step, in samples of a recording at rate, on which its
// pieces may start: where a sample of the recording and the first sample
// of an output frame fall at the same instant, so that the resampler and
// the encoder see a piece on the same grid as the whole.
func PieceGrid(rate int) int64 {
	g := gcd(rate, OutputRate)
	in, out := rate/g, OutputRate/g // out output samples for every in input samples
	return int64(in) * int64(FrameSamples/gcd(out, FrameSamples))
}

// OutputSample is the output sample at the instant of input sample n, for
// n on the piece grid.
func OutputSample(n int64, rate int) int64 { return n * OutputRate / int64(rate) }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Span is where a piece of a recording lies.
type Span struct {
	From, To int64 // samples of the recording encoded, To 0 for the end
	Start    int64 // the output sample at From
	Seam     int64 // the output sample near which it takes over; 0 for the first
}

// Plan cuts a recording of about n samples at rate into count pieces of
// about the same length. Each piece is encoded from pad seconds (or a
// little more) before its seam to pad seconds after the next, so that the
// join finds a good frame within a second of each seam.
func Plan(n int64, rate, count int, pad float64) []Span {
	grid := PieceGrid(rate)
	padN := int64(pad * float64(rate))
	spans := make([]Span, count)
	for k := range spans {
		if k > 0 {
			seam := n * int64(k) / int64(count)
			spans[k].From = max(0, (seam-padN)/grid*grid)
			spans[k].Start = OutputSample(spans[k].From, rate)
			spans[k].Seam = seam * OutputRate / int64(rate)
			spans[k-1].To = seam + padN
		}
	}
	return spans
}

// EncodePiece encodes a piece to p.MP3 and measures the MP3 as it is
// written (every 100 ms step, for MergeSteps, and the true peak), as
// Encode does for a whole recording.
func EncodePiece(ctx context.Context, p Piece) (*Steps, error) {
	if p.From%PieceGrid(p.InputRate) != 0 || (p.To != 0 && p.To <= p.From) {
		return nil, fmt.Errorf("piece [%d, %d) does not start on the grid of %d Hz", p.From, p.To, p.InputRate)
	}
	var steps *Steps
	err := runEncode(ctx, p.args(), p.Progress, func(r io.Reader) (err error) {
		steps, err = runSteps(ctx, stepArgs(), r, 0, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	// The measured stream has no Info frame: it decodes with the encoder's
	// and the decoder's delay before the piece's first sample.
	steps.Offset = float64(OutputSample(p.From, p.InputRate)-streamDelay) / OutputRate
	for _, v := range []*float64{&steps.SamplePeak, &steps.TruePeak} {
		if math.IsInf(*v, -1) {
			*v = -200 // silence; JSON has no -Inf
		}
	}
	return steps, nil
}

func (p Piece) args() []string {
	ch := p.Channels
	if ch != 1 {
		ch = 2
	}
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-y", "-progress", "pipe:3"}
	if p.Seek && p.From > 0 {
		// Seek a second early, keeping the input's timestamps, and cut
		// exactly by them.
		at := max(0, float64(p.From)/float64(p.InputRate)-1)
		args = append(args, "-copyts", "-ss", strconv.FormatFloat(at, 'f', 6, 64))
	}
	args = append(args, inputArgs(p.Input)...)
	trim := fmt.Sprintf("atrim=start_pts=%d", p.From)
	if p.To > 0 {
		trim += fmt.Sprintf(":end_pts=%d", p.To)
	}
	chain := "[0:a:0]" + trim + ",asetpts=PTS-STARTPTS," + p.Conditioning()
	layout := map[int]string{1: "mono", 2: "stereo"}[ch]
	chain += ",aresample=44100:resampler=soxr,aformat=sample_rates=44100:channel_layouts=" + layout + "[mp3]"
	q := p.MP3Quality
	if q == 0 {
		q = 5
	}
	args = append(args, "-filter_complex", chain, "-map", "[mp3]",
		"-c:a", "libmp3lame", "-b:a", fmt.Sprintf("%dk", p.MP3Kbps), "-compression_level", strconv.Itoa(q))
	if p.CutoffHz > 0 {
		args = append(args, "-cutoff", strconv.Itoa(p.CutoffHz))
	}
	args = append(args, "-map_metadata", "-1", "-map_chapters", "-1")
	return append(args, "-f", "tee", fmt.Sprintf("[f=mp3:id3v2_version=0]%s|[f=mp3:select=a:write_xing=0:id3v2_version=0:flush_packets=0]pipe:1", teeEscape(p.MP3)))
}

// stepArgs decodes an MP3 stream on stdin for the meter.
func stepArgs() []string {
	return decodeArgs("-", "", 0, 0)
}

// Tag copies an MP3 to out with the job's tags and art and, if cs is not
// nil, its chapters, without encoding it again. ffmpeg writes the ID3 tag,
// on a copy of in's first quarter megabyte (its Info frame still gives the
// whole length: a -t would cut the chapters), which costs a fraction of
// copying all of it; that tag, then in's own frames, Info frame first,
// make out. An ID3v2 tag in is replaced.
func Tag(ctx context.Context, j Job, in, out string, cs *Chapters) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	var old [10]byte
	n, _ := io.ReadFull(src, old[:])
	skip := int64(id3Size(old[:n]))
	head := make([]byte, 256<<10)
	n, err = src.ReadAt(head, skip)
	if err != nil && err != io.EOF {
		return err
	}
	first, tagged := out+".head.mp3", out+".tag.mp3"
	defer os.Remove(first)
	defer os.Remove(tagged)
	if err := os.WriteFile(first, head[:n], 0o600); err != nil {
		return err
	}
	args := []string{"-hide_banner", "-nostdin", "-v", "error", "-y", "-i", first}
	next := 1
	if j.Art != "" {
		args = append(args, "-i", j.Art)
		next++
	}
	if cs != nil {
		args = append(args, "-i", cs.Meta)
	}
	args = append(args, "-map", "0:a:0")
	args = j.withArt(args)
	meta := j.metadata()
	if cs != nil {
		// The chapters, with their titles, from the metadata file (whose
		// global section is empty, so no other tag comes along).
		meta[1], meta[3] = strconv.Itoa(next), strconv.Itoa(next)
	}
	args = append(args, meta...)
	args = append(args, "-c:a", "copy", "-id3v2_version", "3", "-f", "mp3", tagged)
	cmd := command(ctx, "ffmpeg", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot tag the MP3: %w: %s", err, lastLine(stderr.String()))
	}
	tag, err := os.ReadFile(tagged)
	if err != nil {
		return err
	}
	tag = tag[:min(id3Size(tag), len(tag))]
	if len(tag) == 0 {
		return errors.New("cannot tag the MP3: ffmpeg wrote no ID3 tag")
	}
	if _, err := src.Seek(skip, io.SeekStart); err != nil {
		return err
	}
	dst, err := os.Create(out)
	if err != nil {
		return err
	}
	_, err = dst.Write(tag)
	if err == nil {
		_, err = io.Copy(dst, src)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

// id3Size is the length of the ID3v2 tag b begins with (b may hold only
// its 10-byte header), 0 if none.
func id3Size(b []byte) int {
	if len(b) < 10 || string(b[:3]) != "ID3" {
		return 0
	}
	size := 10 + (int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F))
	if b[5]&0x10 != 0 {
		size += 10 // a footer
	}
	return size
}

// EncoderLoss is how much loudness, in LU, the MP3 encode of the job takes
// off its audio (LAME drops what its model says is masked, and speech can
// lose a few tenths of a LU that way), measured on windows of the
// recording, which is at rate and seekable (WAV or FLAC): each window is
// encoded as a piece, from windowPreroll seconds before it, into dir, and
// its MP3's loudness compared with the same window's through the job's
// gain, limiter and the encoder's lowpass.
func EncoderLoss(ctx context.Context, j Job, rate int, ws []Window, dir string) (float64, error) {
	pcm, mp3, err := EncoderLossBlocks(ctx, j, rate, ws, dir)
	if err != nil {
		return 0, err
	}
	return integrated(pcm) - integrated(mp3), nil
}

// EncoderLossBlocks is EncoderLoss's measurements, the gating blocks of
// the windows through the job (pcm) and of their MP3s: windows measured
// apart, on several machines, give the loss of all of them as
// Integrated(pcm) - Integrated(mp3) over all their blocks.
func EncoderLossBlocks(ctx context.Context, j Job, rate int, ws []Window, dir string) (pcm, mp3 []float64, err error) {
	grid := PieceGrid(rate)
	blocks := make([][]float64, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() {
			p := Piece{Job: j, InputRate: rate, Seek: true,
				From: int64(max(0, w.Start-windowPreroll)*float64(rate)) / grid * grid,
				To:   int64((w.Start + w.Length) * float64(rate))}
			p.MP3, p.Progress, p.Extra, p.Art = filepath.Join(dir, fmt.Sprintf("encoder-loss-%d.mp3", i)), nil, nil, ""
			defer os.Remove(p.MP3)
			st, err := EncodePiece(ctx, p)
			if errs[i] = err; err != nil {
				return
			}
			blocks[i] = st.within(w, st.Offset)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	in, err := WindowBlocks(ctx, Measurement{Input: j.Input, Filter: j.Conditioning(), LowpassHz: j.CutoffHz, Windows: ws, Parts: len(ws)})
	if err != nil {
		return nil, nil, err
	}
	return in.Blocks, slices.Concat(blocks...), nil
}
