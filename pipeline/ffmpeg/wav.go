package ffmpeg

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/prodcast/prodcast/pipeline"
)

// A PCM WAV, the usual export of a long recording, is measured without
// ffmpeg: its samples are read from the file by as many goroutines as the
// measurement has parts, each into a meter, with no decoder and no pipe in
// between. Any other format, or a WAV this cannot read (RF64, a compressed
// codec), goes to ffmpeg as before.

// wavFile is a PCM WAV open for the meter: a file, or an object read
// over HTTP with ranged GETs (see source).
type wavFile struct {
	src      source
	rate     int
	channels int
	bits     int   // per sample: 8, 16, 24 or 32 (integer); 32 or 64 (float)
	float    bool  //
	data     int64 // where the samples start
	frames   int64 // frames in the file: the data chunk, or less if the file ends first
}

// openWAV opens input, a path or an http(s) URL, as a PCM WAV the meter
// reads itself; nil (and no error) if it is not one, or if input is
// another kind of URL.
func openWAV(ctx context.Context, input string) (*wavFile, error) {
	src, err := openSource(ctx, input)
	if src == nil || err != nil {
		return nil, err
	}
	w, err := readWAVHeader(src)
	if w == nil || err != nil {
		src.Close()
		return nil, err
	}
	w.src = src
	return w, nil
}

// wavFor opens m's input for the meter to read itself: nil when m is
// filtered or its input is not a PCM WAV, for ffmpeg to decode. A file
// that cannot be opened is ffmpeg's to explain; a URL that fails is an
// error, as ffmpeg would only wait on the bucket again.
func wavFor(ctx context.Context, m Measurement) (*wavFile, error) {
	if m.Filter != "" {
		return nil, nil
	}
	w, err := openWAV(ctx, m.Input)
	if err != nil && !isHTTP(m.Input) {
		return nil, nil
	}
	return w, err
}

func readWAVHeader(f source) (*wavFile, error) {
	var hdr [12]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, nil
	}
	w := &wavFile{}
	at := int64(12)
	for {
		var ch [8]byte
		if _, err := f.ReadAt(ch[:], at); err != nil {
			return nil, nil // no data chunk: ffmpeg says what is wrong
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		at += 8
		switch id {
		case "fmt ":
			body := make([]byte, min(size, 40))
			if size < 16 {
				return nil, nil
			}
			if _, err := f.ReadAt(body, at); err != nil {
				return nil, nil
			}
			format := binary.LittleEndian.Uint16(body[0:2])
			if format == 0xFFFE && len(body) >= 26 {
				format = binary.LittleEndian.Uint16(body[24:26]) // the subformat GUID's first two bytes
			}
			w.channels = int(binary.LittleEndian.Uint16(body[2:4]))
			w.rate = int(binary.LittleEndian.Uint32(body[4:8]))
			w.bits = int(binary.LittleEndian.Uint16(body[14:16]))
			align := int(binary.LittleEndian.Uint16(body[12:14]))
			switch {
			case format == 1 && (w.bits == 8 || w.bits == 16 || w.bits == 24 || w.bits == 32):
			case format == 3 && (w.bits == 32 || w.bits == 64):
				w.float = true
			default:
				return nil, nil
			}
			if w.channels < 1 || w.channels > 8 || w.rate < 8000 || w.rate > 384000 || align != w.channels*w.bits/8 {
				return nil, nil
			}
		case "data":
			if w.channels == 0 {
				return nil, nil
			}
			w.data = at
			avail := f.Size() - at
			if size == 0 || size == 0xFFFFFFFF || size > avail {
				size = avail // a header written before the recording ended, or a copy cut short
			}
			w.frames = size / int64(w.channels*w.bits/8)
			return w, nil
		}
		at += size + size%2
	}
}

func (w *wavFile) Close() error { return w.src.Close() }

// read converts frames [from, to) to float32, as ffmpeg's decoder and its
// conversion to float would, and writes them to m a chunk at a time.
func (w *wavFile) read(ctx context.Context, m *meter, from, to int64) error {
	const chunk = 4096 // frames
	size := w.channels * w.bits / 8
	if from >= to {
		return nil
	}
	r, err := w.src.Section(ctx, w.data+from*int64(size), (to-from)*int64(size))
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]byte, chunk*size)
	samples := make([]float32, chunk*w.channels)
	for at := from; at < to; at += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(chunk, to-at)
		b := buf[:n*int64(size)]
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("cannot read the recording's samples: %w", err)
		}
		s := samples[:n*int64(w.channels)]
		switch {
		case w.float && w.bits == 32:
			for i := range s {
				s[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case w.float:
			for i := range s {
				s[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		case w.bits == 8:
			for i := range s {
				s[i] = float32(int(b[i])-128) / (1 << 7)
			}
		case w.bits == 16:
			for i := range s {
				s[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) / (1 << 15)
			}
		case w.bits == 24:
			for i := range s {
				v := int32(uint32(b[3*i])<<8|uint32(b[3*i+1])<<16|uint32(b[3*i+2])<<24) >> 8
				s[i] = float32(v) / (1 << 23)
			}
		default:
			for i := range s {
				s[i] = float32(int32(binary.LittleEndian.Uint32(b[4*i:]))) / (1 << 31)
			}
		}
		m.write(s)
	}
	return nil
}

// measureWAV measures a PCM WAV as Measure would through ffmpeg, in parts
// at once (see part).
func measureWAV(ctx context.Context, m Measurement, w *wavFile) (*pipeline.Loudness, error) {
	parts := 1
	if m.Parts > 1 && w.frames > int64(60*m.Parts*w.rate) {
		parts = m.Parts
	}
	return inParts(m, parts, func(i int) (*Part, error) { return w.part(ctx, m, i, parts) })
}

// part measures part i of parts of the WAV: each part begins three 100 ms
// steps early, so that its first 400 ms block ends one step after the
// previous part's last, and the blocks of all the parts are those of one
// pass over the whole.
func (w *wavFile) part(ctx context.Context, m Measurement, i, parts int) (*Part, error) {
	steps := w.frames * 10 / int64(w.rate)
	frameAt := func(step int64) int64 { return step * int64(w.rate) / 10 }
	from := frameAt(max(0, int64(i)*steps/int64(parts)-3))
	to := w.frames
	if i < parts-1 {
		to = frameAt(int64(i+1) * steps / int64(parts))
	}
	mt := newMeter(w.rate, w.channels, m.LowpassHz)
	if m.TruePeak {
		mt.tp = newTruePeak(w.channels)
	}
	if err := w.read(ctx, mt, from, to); err != nil {
		return nil, err
	}
	st := mt.result()
	p := &Part{SamplePeak: st.SamplePeak, TruePeak: st.TruePeak}
	p.Blocks, p.Short = st.gate()
	if i == parts-1 {
		p.End = float64(w.frames) / float64(w.rate)
	}
	return p, nil
}
