package mp3

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// encode makes an MP3 of seconds of a tone with ffmpeg (and its Info frame).
func encode(t *testing.T, seconds string, extra ...string) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
	}
	path := filepath.Join(t.TempDir(), "tone.mp3")
	args := append([]string{"-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:r=44100", "-t", seconds, "-ac", "2",
		"-c:a", "libmp3lame", "-b:a", "128k"}, extra...)
	if out, err := exec.Command("ffmpeg", append(args, path)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	return path
}

func TestReadFindsFramesAndLength(t *testing.T) {
	path := encode(t, "10", "-id3v2_version", "3", "-metadata", "title=A tone")
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Info == nil || s.Delay != 576 {
		t.Fatalf("Info frame %v, delay %d; want one, 576", s.Info != nil, s.Delay)
	}
	if s.SampleRate != 44100 || s.Samples != 1152 {
		t.Errorf("%d Hz, %d samples a frame", s.SampleRate, s.Samples)
	}
	if got := s.Length(); got != 441000 {
		t.Errorf("length %d samples, want 441000", got)
	}
	for _, f := range s.Frames {
		if f.Head != 36 || f.MainDataBegin < 0 || f.MainDataBegin > 511 {
			t.Fatalf("frame at %d: head %d, main_data_begin %d", f.Offset, f.Head, f.MainDataBegin)
		}
	}
}

// TestPatchInfoMatchesFFmpeg writes the Info frame of a file again from
// its own frames: every field, both CRCs included, comes out as ffmpeg
// wrote them; the seek table to within one step (ffmpeg samples the
// frame positions it keeps).
func TestPatchInfoMatchesFFmpeg(t *testing.T) {
	path := encode(t, "7")
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offsets []int64
	total := int64(len(s.Info))
	for _, f := range s.Frames {
		offsets = append(offsets, total)
		total += int64(f.Size)
	}
	music := crc16(0, data[s.Frames[0].Offset:s.End])
	if want := uint16(s.Info[36+120+32])<<8 | uint16(s.Info[36+120+33]); music != want {
		t.Errorf("music CRC %#x, ffmpeg wrote %#x", music, want)
	}
	got, err := patchInfo(s.Info, len(s.Frames), total, offsets, s.Padding, music, false)
	if err != nil {
		t.Fatal(err)
	}
	toc := 36 + 4 + 4 + 4 + 4
	for i := range got {
		if i >= toc && i < toc+100 {
			if d := int(got[i]) - int(s.Info[i]); d < -1 || d > 1 {
				t.Fatalf("seek table entry %d: %d, ffmpeg wrote %d", i-toc, got[i], s.Info[i])
			}
			continue
		}
		if i >= 36+120+34 { // the tag CRC covers the seek table
			break
		}
		if got[i] != s.Info[i] {
			t.Fatalf("byte %d of the Info frame: %#x, ffmpeg wrote %#x", i, got[i], s.Info[i])
		}
	}
	// With ffmpeg's seek table, the tag CRC is ffmpeg's.
	copy(got[toc:toc+100], s.Info[toc:toc+100])
	if c := crc16(0, got[:190]); byte(c>>8) != s.Info[190] || byte(c) != s.Info[191] {
		t.Errorf("tag CRC %#x, ffmpeg wrote %#x%02x", c, s.Info[190], s.Info[191])
	}
}

func TestReadRefusesWhatIsNotMP3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.mp3")
	os.WriteFile(path, []byte("<html>not audio</html>"), 0o644)
	if _, err := ReadFile(path); err == nil {
		t.Fatal("read HTML as MP3")
	}
}

func TestLargerGivesRoom(t *testing.T) {
	path := encode(t, "1")
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fr := s.Frames[3]
	size, err := larger(f, fr, 300)
	if err != nil || size-fr.Size < 300 {
		t.Fatalf("larger: %d bytes (was %d), %v", size, fr.Size, err)
	}
	grown := fr
	grown.Size = size
	buf, err := readFrames(f, []Frame{grown})
	if err != nil {
		t.Fatal(err)
	}
	h, ok := parseHeader(buf)
	if !ok || h.size() != size || len(buf) != size {
		t.Fatalf("rewritten frame: header ok %v, size %d, buffer %d; want %d", ok, h.size(), len(buf), size)
	}
}

// TestWindow: reads through the window give the bytes of the file at every
// offset, across refills, at its end and past it.
func TestWindow(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	w := &window{r: bytes.NewReader(data)}
	for _, c := range []struct {
		off  int64
		size int
	}{{0, 42}, {42, 100}, {1<<20 - 10, 42}, {5, 42}, {3 << 20, 12345}, {3<<20 + 12340, 42}, {int64(len(data)), 4}, {100, 1 << 20}} {
		p := make([]byte, c.size)
		n, err := w.ReadAt(p, c.off)
		want := max(0, min(c.size, len(data)-int(c.off)))
		if n != want || !bytes.Equal(p[:n], data[c.off:c.off+int64(n)]) {
			t.Errorf("ReadAt(%d bytes at %d) = %d bytes, %v; want %d bytes of the file", c.size, c.off, n, err, want)
		}
		if (n < c.size) != (err == io.EOF) {
			t.Errorf("ReadAt(%d bytes at %d): %d bytes, error %v", c.size, c.off, n, err)
		}
	}
}
