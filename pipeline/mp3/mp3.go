// Package mp3 reads MPEG audio Layer III streams frame by frame and joins
// the pieces of a recording that were encoded apart into one stream that
// plays as a single encode would: frame after frame on one grid, with one
// Info (LAME) frame that gives the exact length.
//
// The formats are ISO/IEC 11172-3 (frame header, side information and
// main_data_begin, the bit reservoir) and LAME's Info tag
// (http://gabriel.mp3-tech.org/mp3infotag.html): encoder delay and
// padding, the frame count, a seek table and two CRC-16s.
package mp3

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Frame is one frame of a stream.
type Frame struct {
	Offset int64 // from the start of the file
	Size   int   // bytes, header included
	// Head is the bytes before the main data: header, CRC, side info.
	Head int
	// MainDataBegin is how many bytes of this frame's main data lie in
	// the frames before it (the bit reservoir), after their heads.
	MainDataBegin int
}

// header is a decoded frame header.
type header struct {
	mpeg1      bool
	layer3     bool
	crc        bool
	bitrate    int // kbit/s
	sampleRate int
	padding    bool
	mono       bool
}

var (
	bitrates1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	bitrates2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
	rates     = [4]int{44100, 48000, 32000, 0}
)

// parseHeader decodes the four bytes of a Layer III frame header; ok is
// false for anything else, free format included.
func parseHeader(b []byte) (h header, ok bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return h, false
	}
	version := (b[1] >> 3) & 3 // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
	layer := (b[1] >> 1) & 3   // 1: Layer III
	if version == 1 || layer != 1 {
		return h, false
	}
	h.mpeg1, h.layer3 = version == 3, true
	h.crc = b[1]&1 == 0
	bi, ri := b[2]>>4, (b[2]>>2)&3
	if h.mpeg1 {
		h.bitrate = bitrates1[bi]
	} else {
		h.bitrate = bitrates2[bi]
	}
	h.sampleRate = rates[ri]
	if h.bitrate == 0 || h.sampleRate == 0 {
		return h, false
	}
	switch version {
	case 2:
		h.sampleRate /= 2
	case 0:
		h.sampleRate /= 4
	}
	h.padding = b[2]&2 != 0
	h.mono = b[3]>>6 == 3
	return h, true
}

// at is the header at bitrate index i, without padding.
func (h header) at(i int) header {
	h.bitrate, h.padding = bitrates1[i], false
	if !h.mpeg1 {
		h.bitrate = bitrates2[i]
	}
	return h
}

// size is the frame's length in bytes.
func (h header) size() int {
	n := 144000 * h.bitrate / h.sampleRate
	if !h.mpeg1 {
		n /= 2
	}
	if h.padding {
		n++
	}
	return n
}

// samples is how many samples a frame holds, per channel.
func (h header) samples() int {
	if h.mpeg1 {
		return 1152
	}
	return 576
}

// sideInfo is the length of the side information.
func (h header) sideInfo() int {
	switch {
	case h.mpeg1 && h.mono:
		return 17
	case h.mpeg1:
		return 32
	case h.mono:
		return 9
	}
	return 17
}

// head is the length of header, CRC and side info.
func (h header) head() int {
	n := 4 + h.sideInfo()
	if h.crc {
		n += 2
	}
	return n
}

// Stream is a file's audio frames and what its Info frame says.
type Stream struct {
	Frames     []Frame
	SampleRate int
	Samples    int // per frame
	// Info is the Info (or Xing) frame, nil if the file has none.
	Info           []byte
	InfoOffset     int64
	Delay, Padding int   // samples, from the Info frame's LAME tag
	End            int64 // where the last frame ends
}

// ErrNoFrames says a file holds no Layer III frames.
var ErrNoFrames = errors.New("no MPEG Layer III frames")

// Read indexes the frames of an MP3 file: an ID3v2 tag at the start is
// skipped, and so is anything after the last whole frame (an ID3v1 tag, a
// frame cut short). Only the frame heads are kept in memory.
func Read(r io.ReaderAt, size int64) (*Stream, error) {
	r = &window{r: r}
	var pos int64
	buf := make([]byte, 10)
	if n, _ := r.ReadAt(buf, 0); n == 10 && string(buf[:3]) == "ID3" {
		tag := int64(buf[6]&0x7F)<<21 | int64(buf[7]&0x7F)<<14 | int64(buf[8]&0x7F)<<7 | int64(buf[9]&0x7F)
		pos = 10 + tag
		if buf[5]&0x10 != 0 {
			pos += 10 // footer
		}
	}
	s := &Stream{}
	head := make([]byte, 4+2+32+4)
	first := true
	for pos+4 <= size {
		n, err := r.ReadAt(head, pos)
		if n < 4 {
			if err != nil && err != io.EOF {
				return nil, err
			}
			break
		}
		h, ok := parseHeader(head[:n])
		if !ok {
			if len(s.Frames) == 0 && s.Info == nil {
				return nil, fmt.Errorf("%w at byte %d", ErrNoFrames, pos)
			}
			break // trailing data: an ID3v1 tag, junk
		}
		fsize := h.size()
		if pos+int64(fsize) > size {
			break // cut short
		}
		if s.SampleRate == 0 {
			s.SampleRate, s.Samples = h.sampleRate, h.samples()
		} else if h.sampleRate != s.SampleRate {
			return nil, fmt.Errorf("the sample rate changes from %d to %d Hz at byte %d", s.SampleRate, h.sampleRate, pos)
		}
		if first {
			first = false
			frame := make([]byte, fsize)
			if _, err := r.ReadAt(frame, pos); err != nil {
				return nil, err
			}
			if isInfo(frame, h) {
				s.Info, s.InfoOffset = frame, pos
				s.Delay, s.Padding = lameDelay(frame, h)
				pos += int64(fsize)
				continue
			}
		}
		f := Frame{Offset: pos, Size: fsize, Head: h.head()}
		si := 4
		if h.crc {
			si += 2
		}
		if n < si+2 {
			return nil, fmt.Errorf("frame at byte %d is cut short", pos)
		}
		if h.mpeg1 {
			f.MainDataBegin = int(head[si])<<1 | int(head[si+1]>>7)
		} else {
			f.MainDataBegin = int(head[si])
		}
		s.Frames = append(s.Frames, f)
		pos += int64(fsize)
	}
	if len(s.Frames) == 0 {
		return nil, ErrNoFrames
	}
	last := s.Frames[len(s.Frames)-1]
	s.End = last.Offset + int64(last.Size)
	return s, nil
}

// window serves reads from the last megabyte it read: Read reads a few
// bytes at the head of every frame, one after the other, and a read of
// the file for each (some 70,000 for half an hour) cost more than the
// join that needs them.
type window struct {
	r   io.ReaderAt
	buf []byte
	off int64 // of buf[0]
	n   int   // bytes in buf
}

func (w *window) ReadAt(p []byte, off int64) (int, error) {
	if off < w.off || off+int64(len(p)) > w.off+int64(w.n) {
		if len(p) > 1<<19 {
			return w.r.ReadAt(p, off)
		}
		if w.buf == nil {
			w.buf = make([]byte, 1<<20)
		}
		n, err := w.r.ReadAt(w.buf, off)
		w.off, w.n = off, n
		if n < len(p) {
			copy(p, w.buf[:n])
			if err == nil {
				err = io.EOF
			}
			return n, err
		}
	}
	return copy(p, w.buf[off-w.off:w.n]), nil
}

// ReadFile indexes the frames of the MP3 file at path.
func ReadFile(path string) (*Stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	s, err := Read(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Length is the number of samples the stream plays, per channel, once the
// encoder delay and padding are left out.
func (s *Stream) Length() int64 {
	return int64(len(s.Frames))*int64(s.Samples) - int64(s.Delay) - int64(s.Padding)
}

// infoTag finds "Xing" or "Info" right after the side information.
func infoTag(frame []byte, h header) int {
	at := 4 + h.sideInfo()
	if h.crc {
		at += 2
	}
	if len(frame) < at+8 {
		return -1
	}
	if t := string(frame[at : at+4]); t == "Xing" || t == "Info" {
		return at
	}
	return -1
}

func isInfo(frame []byte, h header) bool { return infoTag(frame, h) >= 0 }

// lameOffset is where the LAME extension starts in an Info frame, or -1.
func lameOffset(frame []byte, h header) int {
	at := infoTag(frame, h)
	if at < 0 {
		return -1
	}
	flags := binary.BigEndian.Uint32(frame[at+4:])
	p := at + 8
	for bit, n := range []int{4, 4, 100, 4} {
		if flags&(1<<bit) != 0 {
			p += n
		}
	}
	if len(frame) < p+36 {
		return -1
	}
	return p
}

// lameDelay reads the encoder delay and padding of the LAME extension.
func lameDelay(frame []byte, h header) (delay, padding int) {
	p := lameOffset(frame, h)
	if p < 0 {
		return 0, 0
	}
	v := int(frame[p+21])<<16 | int(frame[p+22])<<8 | int(frame[p+23])
	return v >> 12, v & 0xFFF
}

// crc16Table is CRC-16/ARC (polynomial 0x8005, reflected), the CRC LAME
// uses for the Info tag and the music.
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xA001
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crc16(crc uint16, data []byte) uint16 {
	for _, b := range data {
		crc = crc>>8 ^ crc16Table[byte(crc)^b]
	}
	return crc
}

// patchInfo rewrites an Info frame for a stream of frames audio frames in
// total bytes (the Info frame included) whose frames start at offsets
// (relative to the Info frame), with the given padding and music CRC; a
// stream whose frames are not all at one bitrate is marked "Xing" (VBR).
func patchInfo(info []byte, frames int, total int64, offsets []int64, padding int, musicCRC uint16, vbr bool) ([]byte, error) {
	h, ok := parseHeader(info)
	if !ok {
		return nil, errors.New("the Info frame has no valid header")
	}
	at := infoTag(info, h)
	p := lameOffset(info, h)
	if at < 0 || p < 0 {
		return nil, errors.New("the Info frame has no LAME tag")
	}
	out := bytes.Clone(info)
	if vbr {
		copy(out[at:], "Xing")
	}
	flags := binary.BigEndian.Uint32(out[at+4:])
	q := at + 8
	if flags&1 != 0 {
		binary.BigEndian.PutUint32(out[q:], uint32(frames))
		q += 4
	}
	if flags&2 != 0 {
		binary.BigEndian.PutUint32(out[q:], uint32(total))
		q += 4
	}
	if flags&4 != 0 {
		for i := range 100 {
			k := i * len(offsets) / 100
			out[q+i] = byte(min(255, offsets[k]*256/total))
		}
	}
	v := int(out[p+21])<<16 | int(out[p+22])<<8 | int(out[p+23])
	v = v&^0xFFF | padding&0xFFF
	out[p+21], out[p+22], out[p+23] = byte(v>>16), byte(v>>8), byte(v)
	binary.BigEndian.PutUint32(out[p+28:], uint32(total))
	binary.BigEndian.PutUint16(out[p+32:], musicCRC)
	binary.BigEndian.PutUint16(out[p+34:], crc16(0, out[:p+34]))
	return out, nil
}
