package ffmpeg_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prodcast/prodcast/pipeline/ffmpeg"
)

// TestPlaylistsFetchNothing: a recording that is really a playlist (HLS in
// an .mp3, DASH in an .m4a, a concat script in a .flac) makes ffmpeg and
// ffprobe fetch nothing, whether it is read from a file or from a URL of
// the bucket. A listener on loopback counts the requests they make.
func TestPlaylistsFetchNothing(t *testing.T) {
	if err := ffmpeg.Check(); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(make([]byte, 1024))
	}))
	defer target.Close()
	u := target.URL
	files := map[string]string{
		"hls.mp3":     "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n" + u + "/seg0.ts\n#EXT-X-ENDLIST\n",
		"dash.m4a":    `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S"><Period><AdaptationSet mimeType="audio/mp4"><Representation id="a" bandwidth="1000"><BaseURL>` + u + `/a.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>`,
		"concat.flac": "ffconcat version 1.0\nfile '" + u + "/a.wav'\n",
		"m3u.ogg":     u + "/a.ogg\n",
	}
	dir := t.TempDir()
	bucket := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer bucket.Close()
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{path, bucket.URL + "/" + name} {
			if _, err := ffmpeg.Probe(t.Context(), in, name); err == nil {
				t.Errorf("Probe(%s) read a playlist as a recording", in)
			}
			_, err := ffmpeg.Encode(t.Context(), ffmpeg.Job{Input: in, Duration: 10, Channels: 1,
				MP3: filepath.Join(t.TempDir(), "out.mp3"), MP3Kbps: 64})
			if err == nil {
				t.Errorf("Encode(%s) encoded a playlist", in)
			}
			if _, err := ffmpeg.Measure(t.Context(), ffmpeg.Measurement{Input: in}); err == nil {
				t.Errorf("Measure(%s) measured a playlist", in)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("ffmpeg made %d requests to the URLs a playlist named; want none", n)
	}
}

// TestRecordingsStillRead: the whitelist takes every format a bundle may
// hold, from a file and from a URL.
func TestRecordingsStillRead(t *testing.T) {
	dir := t.TempDir()
	bucket := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer bucket.Close()
	for _, name := range []string{"a.wav", "a.flac", "a.mp3", "a.m4a", "a.ogg", "a.opus"} {
		path := filepath.Join(dir, name)
		MustFFmpeg(t, "-f", "lavfi", "-i", "sine=f=440:d=2", path)
		for _, in := range []string{path, bucket.URL + "/" + name} {
			info, err := ffmpeg.Probe(t.Context(), in, name)
			if err != nil || info.Duration < 1.9 {
				t.Errorf("Probe(%s) = %+v, %v; want 2 s", in, info, err)
			}
		}
	}
	if !strings.Contains(ffmpeg.RecordingFormats, "mov") {
		t.Errorf("RecordingFormats %q lacks the demuxer of .m4a", ffmpeg.RecordingFormats)
	}
}
