package ffmpeg

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serve serves path over HTTP, as a bucket serves an object through a
// presigned URL, and counts the requests and bytes.
func serve(t *testing.T, path string) (url string, requests, ranged *atomic.Int64, bytes *atomic.Int64) {
	t.Helper()
	requests, ranged, bytes = new(atomic.Int64), new(atomic.Int64), new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("Range") != "" {
			ranged.Add(1)
		}
		http.ServeFile(countingWriter{w, bytes}, r, path)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(path) + "?X-Amz-Signature=abc", requests, ranged, bytes
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return w.ResponseWriter.Write(p)
}

// TestMeasureURL: a WAV read over HTTP (a presigned URL of the bucket)
// measures exactly as the file does, whole, in parts and in windows; each
// part is one ranged GET, and the recording is read once, not copied
// first. Another format goes to ffmpeg, which reads the URL itself.
func TestMeasureURL(t *testing.T) {
	ctx := t.Context()
	in := makeAudio(t, "talk.wav", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.3:seed=5:r=44100:d=150",
		"-af", "tremolo=f=2:d=0.9", "-ac", "2", "-c:a", "pcm_s16le")
	url, requests, ranged, bytes := serve(t, in)
	m := Measurement{Input: in, Duration: 150, Parts: 2, Expect: 150, TruePeak: true, LowpassHz: 7000}
	want, err := Measure(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	m.Input = url
	got, err := Measure(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *want {
		t.Errorf("over HTTP %+v; from the file %+v", got, want)
	}
	size := int64(150*44100*4 + 44)
	if n := requests.Load(); n != 3 || ranged.Load() != n {
		t.Errorf("%d requests, %d of them ranged: want the header's and one for each of 2 parts, all ranged", n, ranged.Load())
	}
	if b := bytes.Load(); b < size || b > size+headBytes+4*44100*4 {
		t.Errorf("%d bytes read for a recording of %d: want it once, with the header and the parts' overlap", b, size)
	}

	ws := []Window{{Start: 20, Length: 30}, {Start: 100, Length: 30}}
	want, err = Measure(ctx, Measurement{Input: in, Windows: ws, Parts: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err = Measure(ctx, Measurement{Input: url, Windows: ws, Parts: 2})
	if err != nil {
		t.Fatal(err)
	}
	if *got != *want {
		t.Errorf("windows over HTTP %+v; from the file %+v", got, want)
	}

	flac := makeAudio(t, "talk.flac", "-i", in, "-t", "90")
	furl, _, _, _ := serve(t, flac)
	want, err = Measure(ctx, Measurement{Input: flac, Duration: 90})
	if err != nil {
		t.Fatal(err)
	}
	got, err = Measure(ctx, Measurement{Input: furl, Duration: 90})
	if err != nil {
		t.Fatal(err)
	}
	if *got != *want {
		t.Errorf("FLAC over HTTP %+v; from the file %+v", got, want)
	}
}

// TestURLStalls: a server that stops sending, in the header or in the
// samples, fails the read after readTimeout, in the meter and in ffmpeg,
// rather than holding the task.
func TestURLStalls(t *testing.T) {
	in := makeAudio(t, "talk.wav", "-f", "lavfi", "-i", "anoisesrc=d=120", "-ac", "1", "-c:a", "pcm_s16le")
	old := readTimeout
	readTimeout = 500 * time.Millisecond
	t.Cleanup(func() { readTimeout = old })
	for _, inHeader := range []bool{false, true} {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !inHeader && strings.HasPrefix(r.Header.Get("Range"), "bytes=0-") {
				http.ServeFile(w, r, in) // the header
				return
			}
			w.Header().Set("Content-Range", "bytes 0-65535/240044")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(make([]byte, 1000))
			w.(http.Flusher).Flush()
			<-release // and nothing more
		}))
		start := time.Now()
		_, err := Measure(t.Context(), Measurement{Input: srv.URL + "/talk.wav", Duration: 120, Parts: 2})
		took := time.Since(start)
		close(release)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "the bucket sent nothing for 500ms") || took > 10*time.Second {
			t.Errorf("stalled in the header: %v; after %s: %v; want the read to fail after about %s", inHeader, took, err, readTimeout)
		}
	}
	if args := strings.Join(inputArgs("http://127.0.0.1:1/x"), " "); !strings.HasSuffix(args, " -rw_timeout 500000 -i http://127.0.0.1:1/x") {
		t.Errorf("ffmpeg reads a URL with %q; want a timeout", args)
	}
}
