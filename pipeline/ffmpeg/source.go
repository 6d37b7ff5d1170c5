package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// source is where the bytes of a WAV the meter reads come from: a local
// file, or an object in the bucket read over HTTP through a presigned URL,
// so that a worker measures and encodes a long recording without first
// copying all of it to its disk.
type source interface {
	io.ReaderAt // small reads: the header
	Size() int64
	// Section reads n bytes from off, in order: one span of a file, one
	// ranged GET of a URL.
	Section(ctx context.Context, off, n int64) (io.ReadCloser, error)
	Close() error
}

// openSource opens input, a path or an http(s) URL; nil (and no error)
// for another kind of URL, or stdin, which only ffmpeg reads.
func openSource(ctx context.Context, input string) (source, error) {
	if isHTTP(input) {
		return openHTTP(ctx, input)
	}
	if input == "-" || strings.Contains(input, ":") {
		return nil, nil
	}
	f, err := os.Open(input)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileSource{File: f, size: fi.Size()}, nil
}

func isHTTP(input string) bool {
	return strings.HasPrefix(input, "http://") || strings.HasPrefix(input, "https://")
}

// inputArgs is ffmpeg's -i for input, with a timeout on every read and
// connect for a URL (rw_timeout, in microseconds): a stalled server fails
// the task, which is retried, rather than holding a worker's slot.
//
// A recording is read only with the demuxers of the formats a bundle may
// hold (RecordingFormats) and only from a file, a pipe or, for a URL, over
// HTTP itself: an "MP3" that is really an HLS playlist, a DASH manifest or
// a concat script would otherwise make ffmpeg fetch whatever it names.
func inputArgs(input string) []string {
	if isHTTP(input) {
		return []string{"-protocol_whitelist", "http,https,tcp,tls", "-format_whitelist", RecordingFormats,
			"-rw_timeout", strconv.Itoa(int(readTimeout / time.Microsecond)), "-i", input}
	}
	return []string{"-protocol_whitelist", "file,pipe", "-format_whitelist", RecordingFormats, "-i", input}
}

// RecordingFormats are the ffmpeg demuxers a recording may be read with:
// WAV (and RF64, W64), FLAC, MP3, MP4/M4A, Ogg (Vorbis, Opus, FLAC), AIFF
// and Matroska/WebM (Opus). Playlists (hls, dash), concat and every demuxer
// that reads other files or URLs are left out.
const RecordingFormats = "wav,w64,flac,mp3,mov,ogg,aiff,matroska"

// imageArgs is ffmpeg's -i for cover art: a local image file, read with
// the image demuxers only.
func imageArgs(input string) []string {
	return []string{"-protocol_whitelist", "file,pipe", "-format_whitelist", imageFormats, "-i", input}
}

// imageFormats are the demuxers cover art may be read with.
const imageFormats = "image2,jpeg_pipe,png_pipe,webp_pipe,gif_pipe,bmp_pipe,tiff_pipe"

type fileSource struct {
	*os.File
	size int64
}

func (f *fileSource) Size() int64 { return f.size }

func (f *fileSource) Section(_ context.Context, off, n int64) (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(f.File, off, n)), nil
}

// readTimeout is the longest an HTTP read of a recording waits for its
// next bytes, or for a server to answer.
var readTimeout = 60 * time.Second

// headBytes is how much of an object is read at once for its header's
// small reads: a WAV's chunks before its samples are rarely larger.
const headBytes = 64 << 10

var httpClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: readTimeout,
	MaxIdleConnsPerHost:   8,
	ReadBufferSize:        64 << 10,
}}

// httpSource reads an object through its URL with ranged GETs.
type httpSource struct {
	url  string
	size int64
	head []byte // the first headBytes, or all of a smaller object
}

func openHTTP(ctx context.Context, url string) (source, error) {
	ctx, cancel := context.WithCancel(ctx)
	body, size, err := getRange(ctx, url, 0, headBytes)
	if errors.Is(err, errEmpty) {
		cancel()
		return nil, nil // nothing to measure: ffmpeg says so
	}
	if err != nil {
		cancel()
		return nil, err
	}
	r := newIdleReader(body, cancel, readTimeout)
	defer r.Close()
	head, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("cannot read the recording: %w", err)
	}
	return &httpSource{url: url, size: size, head: head}, nil
}

func (h *httpSource) Size() int64  { return h.size }
func (h *httpSource) Close() error { return nil }

func (h *httpSource) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= int64(len(h.head)) {
		return copy(p, h.head[off:]), nil
	}
	if off >= h.size {
		return 0, io.EOF
	}
	r, err := h.Section(context.Background(), off, min(int64(len(p)), h.size-off))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n, err := io.ReadFull(r, p[:min(int64(len(p)), h.size-off)])
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

func (h *httpSource) Section(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	body, _, err := getRange(ctx, h.url, off, n)
	if err != nil {
		cancel()
		return nil, err
	}
	return newIdleReader(body, cancel, readTimeout), nil
}

var errEmpty = errors.New("the object is empty")

// getRange GETs n bytes of url from off, and returns them with the size of
// the whole object.
func getRange(ctx context.Context, url string, off, n int64) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read the recording: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		_, total, _ := strings.Cut(resp.Header.Get("Content-Range"), "/")
		size, err := strconv.ParseInt(total, 10, 64)
		if err != nil {
			resp.Body.Close()
			return nil, 0, fmt.Errorf("cannot read the recording: Content-Range %q", resp.Header.Get("Content-Range"))
		}
		return resp.Body, size, nil
	case http.StatusOK: // a server that ignores Range sends all of it
		if off != 0 || resp.ContentLength < 0 {
			resp.Body.Close()
			return nil, 0, errors.New("cannot read the recording: the server does not answer ranged reads")
		}
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, n), resp.Body}, resp.ContentLength, nil
	case http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		return nil, 0, errEmpty
	}
	resp.Body.Close()
	return nil, 0, fmt.Errorf("cannot read the recording: %s", resp.Status)
}

// idleReader cancels its read when no bytes came for timeout.
type idleReader struct {
	r      io.ReadCloser
	cancel context.CancelFunc
	timer  *time.Timer
	every  time.Duration
	once   sync.Once
	fired  atomic.Bool
}

func newIdleReader(r io.ReadCloser, cancel context.CancelFunc, timeout time.Duration) *idleReader {
	ir := &idleReader{r: r, cancel: cancel, every: timeout}
	ir.timer = time.AfterFunc(timeout, func() { ir.fired.Store(true); cancel() })
	return ir
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.timer.Reset(r.every)
	}
	if err != nil && err != io.EOF && r.fired.Load() {
		err = fmt.Errorf("the bucket sent nothing for %s", r.every)
	}
	return n, err
}

func (r *idleReader) Close() error {
	r.once.Do(func() { r.timer.Stop(); r.cancel() })
	return r.r.Close()
}
