package bundle

import (
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
)

func TestCheckRecording(t *testing.T) {
	hls := "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data/\n#EXT-X-ENDLIST\n"
	dash := `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><Representation><BaseURL>http://127.0.0.1:6379/</BaseURL></Representation></AdaptationSet></Period></MPD>`
	wavHead := "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00\x88\x58\x01\x00\x02\x00\x10\x00data\x00\x00\x00\x00"
	for _, tc := range []struct {
		name, head string
		want       string // in the error; "" for none
	}{
		{"interview.mp3", hls, "is an HLS playlist, not a recording"},
		{"interview.m4a", dash, "is a playlist (a DASH manifest), not a recording"},
		{"interview.flac", "ffconcat version 1.0\nfile 'http://10.0.0.1/a.wav'\n", "concat script"},
		{"interview.ogg", "\xef\xbb\xbf#EXTM3U\n/etc/passwd\n", "a playlist (M3U)"},
		{"interview.opus", "[playlist]\nFile1=http://x/y\n", "PLS"},
		{"interview.wav", "https://example.com/a.wav\n", "text naming URLs"},
		{"interview.mp3", "just some notes", "is a text file"},
		{"interview.mp3", "ID3\x03\x00\x00\x00\x00\x00\x21TIT2", ""},
		{"interview.mp3", "\xff\xfb\x90\x64\x00\x00", ""},
		{"interview.flac", "fLaC\x00\x00\x00\x22\x12\x00", ""},
		{"interview.m4a", "\x00\x00\x00\x20ftypM4A ", ""},
		{"interview.ogg", "OggS\x00\x02\x00\x00", ""},
		{"interview.wav", wavHead, ""},
	} {
		err := CheckRecording(tc.name, []byte(tc.head), 1<<20)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %q: %v; want it taken", tc.name, tc.head, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %q: %v; want %q", tc.name, tc.head, err, tc.want)
		case tc.want != "" && !pipeline.IsInput(err):
			t.Errorf("%s: %v is not an input error", tc.name, err)
		}
	}
}

func TestCheckRecordingWAVCutShort(t *testing.T) {
	head := "RIFF\x24\x00\x10\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00\x88\x58\x01\x00\x02\x00\x10\x00data\x00\x00\x10\x00"
	if err := CheckRecording("x.wav", []byte(head), 1000); err == nil || !strings.Contains(err.Error(), "looks unfinished") {
		t.Errorf("a WAV cut short: %v", err)
	}
}
