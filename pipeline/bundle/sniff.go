package bundle

import (
	"bytes"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/prodcast/prodcast/pipeline"
)

// SniffBytes is how much of a recording CheckRecording needs to see.
const SniffBytes = 4 << 10

// CheckRecording refuses a recording whose first bytes are text: every
// audio format a bundle may hold is binary, while a playlist (M3U, HLS,
// PLS), a DASH manifest or an ffmpeg concat script is text that names
// other files and URLs for ffmpeg to fetch. It then checks a WAV's header
// as CheckWAV does. head is the file's first bytes (SniffBytes suffice,
// WAVHeaderBytes for a WAV), size its length.
func CheckRecording(name string, head []byte, size int64) error {
	if kind := textKind(head); kind != "" {
		return pipeline.Inputf("export the recording itself (WAV, FLAC, MP3, M4A, Ogg or Opus) and drop that",
			"%q is %s, not a recording", name, kind)
	}
	if strings.EqualFold(path.Ext(name), ".wav") {
		return CheckWAV(name, head, size)
	}
	return nil
}

// textKind names what a text file is ("an HLS playlist"), or returns ""
// when head is not text.
func textKind(head []byte) string {
	b := head[:min(len(head), SniffBytes)]
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
	if len(b) == 0 || !isText(b) {
		return ""
	}
	t := bytes.ToLower(bytes.TrimSpace(b))
	switch {
	case bytes.HasPrefix(t, []byte("#extm3u")) && bytes.Contains(t, []byte("#ext-x-")):
		return "an HLS playlist"
	case bytes.HasPrefix(t, []byte("#extm3u")) || bytes.HasPrefix(t, []byte("#extinf")):
		return "a playlist (M3U)"
	case bytes.Contains(t, []byte("<mpd")):
		return "a playlist (a DASH manifest)"
	case bytes.HasPrefix(t, []byte("ffconcat")) || bytes.HasPrefix(t, []byte("file ")):
		return "a playlist (an ffmpeg concat script)"
	case bytes.HasPrefix(t, []byte("[playlist]")):
		return "a playlist (PLS)"
	case bytes.Contains(t, []byte("<smil")) || bytes.Contains(t, []byte("<asx")) || bytes.Contains(t, []byte("<playlist")):
		return "a playlist (XML)"
	case bytes.Contains(t, []byte("://")):
		return "a playlist or link (text naming URLs)"
	}
	return "a text file"
}

// isText reports whether b reads as text: valid UTF-8 (a last rune may be
// cut off) with no control characters but tab, newline, carriage return
// and form feed.
func isText(b []byte) bool {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			if len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:]) {
				return true
			}
			return false
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' {
			return false
		}
		i += n
	}
	return true
}
