package mp3

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// Piece is one piece of a recording, encoded on its own to an MP3 file
// with an Info frame (ffmpeg's mp3 muxer writes one).
type Piece struct {
	Path string
	// Start is the sample of the whole recording, at the encoded rate, that
	// the piece's encode began with: a multiple of the frame length, so that
	// its frames fall on the same grid as those of an encode of the whole.
	Start int64
	// Seam is the sample of the whole near which this piece takes over from
	// the one before; unused for the first piece, which starts at 0. The
	// pieces overlap around it: the one before was encoded well past it,
	// this one from well before it.
	Seam int64
}

// Joined describes a joined stream.
type Joined struct {
	Frames int   // audio frames
	Bytes  int64 // the Info frame and the audio frames
	Length int64 // samples per channel, delay and padding left out
	// Seams are the samples of the whole at which each piece after the
	// first begins to be heard: the first sample of its first frame.
	Seams []int64
}

// margin is how many frames of a piece next to its start or end are never
// used at a seam: the encoder's state is still settling there.
const margin = 8

// Join writes one MP3 stream made of the pieces to out: the first piece's
// frames up to the first seam, the second's from there to the next, and
// so on, behind one Info frame that gives the whole's frame count, seek
// table and length (the first piece's encoder delay, the last one's
// padding).
//
// A frame's main data may begin in the frames before it (the bit
// reservoir). At a seam those bytes are the next piece's, so they are
// copied into the end of the previous piece's last frame, over bytes that
// only its dropped frames used. Join takes the frame nearest the seam
// (within window samples) where those bytes are enough; where none is, it
// writes the previous piece's last frame at a higher bitrate, which gives
// the room (the stream is then marked VBR). The decoded result differs
// from a single encode only as two encodes of the same audio do.
func Join(out *os.File, pieces []Piece, window int64) (*Joined, error) {
	if len(pieces) == 0 {
		return nil, errors.New("nothing to join")
	}
	streams := make([]*Stream, len(pieces))
	files := make([]*os.File, len(pieces))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for i, p := range pieces {
		f, err := os.Open(p.Path)
		if err != nil {
			return nil, err
		}
		files[i] = f
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		s, err := Read(f, fi.Size())
		if err != nil {
			return nil, fmt.Errorf("piece %d: %w", i, err)
		}
		if i > 0 && (s.SampleRate != streams[0].SampleRate || s.Samples != streams[0].Samples) {
			return nil, fmt.Errorf("piece %d is at %d Hz, piece 0 at %d Hz", i, s.SampleRate, streams[0].SampleRate)
		}
		if p.Start%int64(s.Samples) != 0 {
			return nil, fmt.Errorf("piece %d starts at sample %d, not on a frame", i, p.Start)
		}
		streams[i] = s
	}
	if pieces[0].Start != 0 {
		return nil, errors.New("the first piece must start at sample 0")
	}
	if streams[0].Info == nil {
		return nil, errors.New("the first piece has no Info frame")
	}
	spf := int64(streams[0].Samples)
	first := func(k int) int64 { return pieces[k].Start / spf } // global index of piece k's frame 0

	// seams[k] is the global frame at which piece k takes over; grow[k],
	// if not zero, the size the frame before it is written at.
	seams := make([]int64, len(pieces)+1)
	grow := make([]int, len(pieces)+1)
	for k := 1; k < len(pieces); k++ {
		g, err := seam(streams[k-1], streams[k], first(k-1), first(k), pieces[k].Seam/spf, window/spf)
		if err != nil {
			return nil, fmt.Errorf("no seam between piece %d and %d: %w", k-1, k, err)
		}
		if g <= seams[k-1] {
			return nil, fmt.Errorf("piece %d takes over at frame %d, before piece %d does (%d)", k, g, k-1, seams[k-1])
		}
		seams[k] = g
		prev := streams[k-1].Frames[g-1-first(k-1)]
		if short := streams[k].Frames[g-first(k)].MainDataBegin - streams[k-1].Frames[g-first(k-1)].MainDataBegin; short > 0 {
			if grow[k], err = larger(files[k-1], prev, short); err != nil {
				return nil, fmt.Errorf("piece %d at frame %d: %w", k-1, g-1, err)
			}
		}
	}
	last := len(pieces) - 1
	seams[len(pieces)] = first(last) + int64(len(streams[last].Frames))

	// Offsets of every frame, for the seek table.
	info := streams[0].Info
	var offsets []int64
	total := int64(len(info))
	for k, s := range streams {
		for g := seams[k]; g < seams[k+1]; g++ {
			offsets = append(offsets, total)
			size := s.Frames[g-first(k)].Size
			if g == seams[k+1]-1 && grow[k+1] > 0 {
				size = grow[k+1]
			}
			total += int64(size)
		}
	}
	if _, err := out.Write(make([]byte, len(info))); err != nil {
		return nil, err
	}
	crc := &crcWriter{w: out}
	vbr := false
	for k, s := range streams {
		from, to := seams[k]-first(k), seams[k+1]-first(k) // frames of piece k kept
		// Bytes the next piece's first frame needs from the reservoir.
		var tail []byte
		if k < last {
			next := streams[k+1]
			i := seams[k+1] - first(k+1)
			var err error
			if tail, err = reservoir(files[k+1], next, i, next.Frames[i].MainDataBegin); err != nil {
				return nil, fmt.Errorf("piece %d: %w", k+1, err)
			}
		}
		frames := slices.Clone(s.Frames[from:to])
		if k < last && grow[k+1] > 0 {
			frames[len(frames)-1].Size = grow[k+1]
			vbr = true
		}
		// The kept frames whose main data the tail overwrites are patched
		// in memory; the rest are copied.
		patchFrom := len(frames)
		for room := 0; room < len(tail) && patchFrom > 0; {
			patchFrom--
			room += frames[patchFrom].Size - frames[patchFrom].Head
		}
		if patchFrom > 0 {
			a, b := frames[0].Offset, frames[patchFrom-1].Offset+int64(frames[patchFrom-1].Size)
			if _, err := io.Copy(crc, io.NewSectionReader(files[k], a, b-a)); err != nil {
				return nil, err
			}
		}
		if patchFrom < len(frames) {
			buf, err := readFrames(files[k], frames[patchFrom:])
			if err != nil {
				return nil, err
			}
			if err := overwriteMainData(buf, frames[patchFrom:], tail); err != nil {
				return nil, fmt.Errorf("piece %d: %w", k, err)
			}
			if _, err := crc.Write(buf); err != nil {
				return nil, err
			}
		}
	}
	frames := len(offsets)
	padding := streams[last].Padding
	patched, err := patchInfo(info, frames, total, offsets, padding, crc.sum, vbr)
	if err != nil {
		return nil, err
	}
	if _, err := out.WriteAt(patched, 0); err != nil {
		return nil, err
	}
	j := &Joined{Frames: frames, Bytes: total,
		Length: int64(frames)*spf - int64(streams[0].Delay) - int64(padding)}
	for k := 1; k < len(pieces); k++ {
		j.Seams = append(j.Seams, seams[k]*spf-int64(streams[0].Delay)-decoderDelay)
	}
	return j, nil
}

// decoderDelay is the delay of an MP3 decoder's filter bank, in samples.
const decoderDelay = 529

// seam picks the global frame at which b takes over from a: the one
// nearest nominal, within window frames, where b's frame needs no more of
// the reservoir than a's frame there had to itself; else nominal itself.
func seam(a, b *Stream, firstA, firstB, nominal, window int64) (int64, error) {
	lo := max(nominal-window, firstB+margin, firstA+1)
	hi := min(nominal+window, firstA+int64(len(a.Frames))-margin, firstB+int64(len(b.Frames))-1)
	if lo > hi {
		return 0, fmt.Errorf("the pieces do not overlap around frame %d", nominal)
	}
	nominal = min(max(nominal, lo), hi)
	for d := int64(0); nominal-d >= lo || nominal+d <= hi; d++ {
		for _, g := range []int64{nominal - d, nominal + d} {
			if g >= lo && g <= hi && b.Frames[g-firstB].MainDataBegin <= a.Frames[g-firstA].MainDataBegin {
				return g, nil
			}
		}
	}
	return nominal, nil
}

// larger is the size of the smallest frame at a higher bitrate than f
// with at least more bytes, for f's header.
func larger(file *os.File, f Frame, more int) (int, error) {
	b := make([]byte, 4)
	if _, err := file.ReadAt(b, f.Offset); err != nil {
		return 0, err
	}
	h, _ := parseHeader(b)
	if h.crc {
		return 0, errors.New("frames with a CRC cannot be rewritten")
	}
	for i := int(b[2]>>4) + 1; i < 15; i++ {
		if size := h.at(i).size(); size-f.Size >= more {
			return size, nil
		}
	}
	return 0, fmt.Errorf("no bitrate gives %d more bytes", more)
}

// readFrames reads frames, which follow each other in the file, into one
// buffer. A frame whose Size is larger than in the file is rewritten at the
// bitrate that gives that size: its header changes and the new bytes are
// zero, room for main data.
func readFrames(file *os.File, frames []Frame) ([]byte, error) {
	var buf []byte
	for _, f := range frames {
		b := make([]byte, f.Size)
		n, err := file.ReadAt(b, f.Offset)
		if err != nil && !(err == io.EOF && n > 0) {
			return nil, err
		}
		h, ok := parseHeader(b)
		if !ok {
			return nil, fmt.Errorf("no frame at byte %d", f.Offset)
		}
		if h.size() != f.Size {
			clear(b[h.size():])
			for i := 1; i < 15; i++ {
				if h.at(i).size() == f.Size {
					b[2] = byte(i)<<4 | b[2]&0x0D // bitrate, no padding
					break
				}
			}
			if h, _ := parseHeader(b); h.size() != f.Size {
				return nil, fmt.Errorf("no bitrate makes a frame of %d bytes", f.Size)
			}
		}
		buf = append(buf, b...)
	}
	return buf, nil
}

// reservoir reads the need bytes of main data that come before frame i of
// s: the ends of the main data areas of the frames before it.
func reservoir(f *os.File, s *Stream, i int64, need int) ([]byte, error) {
	out := make([]byte, need)
	left := need
	for j := i - 1; left > 0; j-- {
		if j < 0 {
			return nil, fmt.Errorf("frame %d reaches %d bytes back, before the piece's start", i, need)
		}
		fr := s.Frames[j]
		area := fr.Size - fr.Head
		n := min(area, left)
		if _, err := f.ReadAt(out[left-n:left], fr.Offset+int64(fr.Size-n)); err != nil {
			return nil, err
		}
		left -= n
	}
	return out, nil
}

// overwriteMainData writes tail over the last len(tail) bytes of the main
// data areas of frames, which buf holds one after the other.
func overwriteMainData(buf []byte, frames []Frame, tail []byte) error {
	left, end := len(tail), len(buf)
	for j := len(frames) - 1; left > 0; j-- {
		if j < 0 {
			return fmt.Errorf("no room for %d bytes of reservoir", len(tail))
		}
		fr := frames[j]
		n := min(fr.Size-fr.Head, left)
		copy(buf[end-n:end], tail[left-n:left])
		left -= n
		end -= fr.Size
	}
	return nil
}

// crcWriter writes and keeps the CRC-16 of what it wrote.
type crcWriter struct {
	w   io.Writer
	sum uint16
}

func (c *crcWriter) Write(p []byte) (int, error) {
	c.sum = crc16(c.sum, p)
	return c.w.Write(p)
}
