package web

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/valyala/fasthttp"

	"github.com/prodcast/prodcast/pipeline/catalog"
)

// The server's timeouts, for the front and net/http alike.
const (
	headerTimeout = 10 * time.Second // to send a request's header, once begun
	idleTimeout   = 75 * time.Second // between requests on a kept-alive connection
	writeTimeout  = 5 * time.Minute  // to take an answer from memory
	bucketTimeout = 30 * time.Second // to check a kept object with the bucket
)

// Server is the web server: New's handler, behind a front that answers the
// hottest requests itself.
type Server struct {
	http  *http.Server
	front *front
	s     *server
}

// Metrics is the Prometheus handler of this server, without the token
// check of its /metrics: to serve on a listener of its own
// (PRODCAST_METRICS_LISTEN).
func (s *Server) Metrics() http.Handler { return s.s.metrics }

// NewServer returns the web server for cfg.
func NewServer(cfg Config) *Server {
	s, h := newServer(cfg)
	f := &front{s: s, handoff: newConnQueue(), header: headerTimeout, idle: idleTimeout, conns: map[net.Conn]struct{}{}}
	return &Server{
		http:  &http.Server{Handler: h, ReadHeaderTimeout: headerTimeout, IdleTimeout: idleTimeout},
		front: f,
		s:     s,
	}
}

// Serve accepts connections on ln until Shutdown, and returns
// http.ErrServerClosed then.
func (s *Server) Serve(ln net.Listener) error {
	s.front.handoff.addr = ln.Addr()
	go s.http.Serve(s.front.handoff)
	return s.front.serve(ln)
}

// Shutdown stops accepting, closes idle connections and waits for the
// answers under way, at most until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	defer s.s.stop()
	s.front.close()
	err := s.http.Shutdown(ctx)
	done := make(chan struct{})
	go func() { s.front.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

// front reads each request's header on the connection itself. A GET or
// HEAD of a public object kept in memory and fresh (the feed, the pages,
// chapters, transcripts: what apps poll all day) it answers there, with
// header lines made once per version: no net/http request, no header map,
// no allocation. At a connection's first other request (a range, media,
// a form, the desk, anything with a body or out of the ordinary) it hands
// the connection to net/http, which reads that request, and every later
// one, from the bytes as the client sent them: the two never disagree on
// where a request ends, because the front answers only requests that have
// no body and hands over before reading anything else.
//
// The header is parsed by fasthttp's parser; net/http parses it again
// after a handoff.
type front struct {
	s       *server
	handoff *connQueue
	header  time.Duration
	idle    time.Duration

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]struct{} // the connections the front holds
	closing bool
	wg      sync.WaitGroup
}

func (f *front) serve(ln net.Listener) error {
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		return http.ErrServerClosed
	}
	f.ln = ln
	f.mu.Unlock()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			f.mu.Lock()
			closing := f.closing
			f.mu.Unlock()
			if closing {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors and the like: wait, as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if !f.hold(c) {
			c.Close()
			continue
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.conn(c)
		}()
	}
}

// hold records c as the front's; false when the server is closing.
func (f *front) hold(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *front) release(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

// close stops accepting and wakes the connections waiting for a request,
// which then close; those answering finish first.
func (f *front) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closing = true
	if f.ln != nil {
		f.ln.Close()
	}
	for c := range f.conns {
		c.SetReadDeadline(time.Now())
	}
}

// await readies c to wait for its next request, at most the idle time;
// false when the server is closing.
func (f *front) await(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	c.SetReadDeadline(time.Now().Add(f.idle))
	return true
}

func (f *front) isClosing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closing
}

// conn serves one connection until it closes or goes to net/http.
func (f *front) conn(c net.Conn) {
	defer func() {
		// As net/http does: a panic ends the connection, not the server.
		if err := recover(); err != nil {
			f.s.cfg.Log.Error("panic answering a request", "remote", c.RemoteAddr().String(), "err", err, "stack", string(debug.Stack()))
			f.release(c)
			c.Close()
		}
	}()
	br := bufio.NewReaderSize(c, 4096)
	bw := bufio.NewWriterSize(c, 4096)
	var req request
	for {
		if br.Buffered() == 0 {
			if !f.await(c) {
				break
			}
			if _, err := br.Peek(1); err != nil {
				break
			}
		} else if f.isClosing() {
			break
		}
		block, err := headerBlock(br, c, f.header)
		if err != nil {
			break
		}
		if block == nil || !req.parse(block) {
			f.handOff(c, br, bw)
			return
		}
		e, ok := f.kept(&req)
		if !ok {
			f.handOff(c, br, bw)
			return
		}
		br.Discard(len(block))
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if f.write(c, bw, &req, e) != nil {
			break
		}
		if br.Buffered() == 0 || req.close {
			// Pipelined requests are answered in one write.
			if bw.Flush() != nil {
				break
			}
		}
		if req.close {
			break
		}
	}
	f.release(c)
	c.Close()
}

// headerBlock returns the header of the next request, up to and with the
// blank line that ends it, as buffered in br (not consumed); nil when it
// does not fit br, or ends its lines without CR: net/http's to judge.
// It waits at most timeout for the rest of a header begun.
func headerBlock(br *bufio.Reader, c net.Conn, timeout time.Duration) ([]byte, error) {
	deadline := false
	for {
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.Index(buf, crlfcrlf); i >= 0 {
			if bytes.Contains(buf[:i], lflf) {
				return nil, nil
			}
			return buf[:i+4], nil
		}
		if bytes.Contains(buf, lflf) || len(buf) == br.Size() {
			return nil, nil
		}
		if !deadline {
			c.SetReadDeadline(time.Now().Add(timeout))
			deadline = true
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return nil, err
		}
	}
}

var (
	crlfcrlf = []byte("\r\n\r\n")
	lflf     = []byte("\n\n")
)

var handoffs = promauto.NewCounter(prometheus.CounterOpts{
	Name: "prodcast_http_handoffs_total",
	Help: "Connections the front handed to net/http, at a request other than a GET or HEAD of a public object kept in memory.",
})

// handOff gives c to net/http, with what the front has read of it and
// not consumed.
func (f *front) handOff(c net.Conn, br *bufio.Reader, bw *bufio.Writer) {
	f.release(c)
	handoffs.Inc()
	if bw.Flush() != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	c.SetWriteDeadline(time.Time{})
	if !f.handoff.push(&handedConn{Conn: c, r: br}) {
		c.Close()
	}
}

// kept returns the object that req asks for, when the front may answer it:
// kept in memory, not withdrawn, and not episode audio (whose downloads
// net/http counts). One checked with the bucket CacheFresh ago or more is
// checked again first, as net/http would.
func (f *front) kept(req *request) (*cached, bool) {
	c := f.s.cache
	e := c.lookup(b2s(req.key))
	if e != nil && !e.fresh(c.now()) {
		ctx, cancel := context.WithTimeout(context.Background(), bucketTimeout)
		defer cancel()
		var r io.Closer
		var err error
		if e, r, _, err = c.get(ctx, e.key); err != nil {
			e = nil
		} else if r != nil { // no longer kept: net/http streams it
			r.Close()
		}
	}
	if e == nil || e.counted || e.info.Status >= 300 {
		return nil, false
	}
	return e, true
}

// write answers req from e, to bw or, for a body of half bw's size or more,
// flushing bw and then writing header and body in one call (writev) to c.
func (f *front) write(c net.Conn, bw *bufio.Writer, req *request, e *cached) error {
	form, notModified := f.s.cache.answer(e, "", b2s(req.acceptEncoding), b2s(req.ifNoneMatch), b2s(req.ifModifiedSince))
	code, raw, body := http.StatusOK, form.raw, form.body
	if notModified {
		code, raw, body = http.StatusNotModified, form.raw3, nil
	}
	if req.head {
		body = nil
	}
	counter(e.route, code).Inc()
	h := req.answer[:0]
	if notModified {
		h = append(h, "HTTP/1.1 304 Not Modified\r\nDate: "...)
	} else {
		h = append(h, "HTTP/1.1 200 OK\r\nDate: "...)
	}
	h = append(h, httpDate()...)
	h = append(h, "\r\n"...)
	h = append(h, raw...)
	if req.close {
		h = append(h, "Connection: close\r\n"...)
	}
	h = append(h, "\r\n"...)
	req.answer = h
	if len(body) < bw.Size()/2 {
		bw.Write(h)
		_, err := bw.Write(body)
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if file := f.s.cache.memFile(e, form); file != nil {
		if sent, err := sendFile(c, h, file, int64(len(body))); sent {
			return err
		}
	}
	req.iov = [2][]byte{h, body}
	req.bufs = req.iov[:] // WriteTo consumes it
	_, err := req.bufs.WriteTo(c)
	return err
}

// request is what the front reads of a request's header; reused for each.
type request struct {
	h                                            fasthttp.RequestHeader
	r                                            bytes.Reader
	br                                           *bufio.Reader
	key                                          []byte
	answer                                       []byte // the answer's header, made in place
	iov                                          [2][]byte
	bufs                                         net.Buffers // iov, for one writev
	head, close                                  bool
	acceptEncoding, ifNoneMatch, ifModifiedSince []byte
}

// parse reads block; false when the front leaves the request to net/http:
// anything but a GET or HEAD over HTTP/1.1 with a Host, of a plain path
// under public/, without a body, a range, a precondition other than
// If-None-Match and If-Modified-Since, an upgrade or an expectation.
func (req *request) parse(block []byte) bool {
	if !framedByHeader(block) {
		return false
	}
	req.r.Reset(block)
	if req.br == nil {
		req.br = bufio.NewReaderSize(&req.r, 4096)
	} else {
		req.br.Reset(&req.r)
	}
	h := &req.h
	h.Reset()
	h.DisableNormalizing()
	if h.Read(req.br) != nil || !h.IsHTTP11() || len(h.Host()) == 0 || h.ContentLength() != -2 {
		return false
	}
	switch m := h.Method(); {
	case bytes.Equal(m, getMethod):
		req.head = false
	case bytes.Equal(m, headMethod):
		req.head = true
	default:
		return false
	}
	req.acceptEncoding, req.ifNoneMatch, req.ifModifiedSince = nil, nil, nil
	for k, v := range h.All() {
		switch {
		case bytes.EqualFold(k, acceptEncodingName):
			req.acceptEncoding = v
		case bytes.EqualFold(k, ifNoneMatchName):
			req.ifNoneMatch = v
		case bytes.EqualFold(k, ifModifiedSinceName):
			req.ifModifiedSince = v
		case len(k) > 0 && leftToNetHTTP[asciiLower(k[0])] != nil:
			for _, name := range leftToNetHTTP[asciiLower(k[0])] {
				if bytes.EqualFold(k, name) {
					return false
				}
			}
		}
	}
	var ok bool
	if req.key, ok = publicKey(req.key[:0], h.RequestURI()); !ok {
		return false
	}
	req.close = h.ConnectionClose()
	return true
}

var (
	acceptEncodingName  = []byte("Accept-Encoding")
	ifNoneMatchName     = []byte("If-None-Match")
	ifModifiedSinceName = []byte("If-Modified-Since")
	// leftToNetHTTP are the header fields that make a request net/http's,
	// by their first letter.
	leftToNetHTTP = func() (m [128][][]byte) {
		for _, k := range []string{"Range", "If-Range", "If-Match", "If-Unmodified-Since", "Expect", "Upgrade"} {
			m[asciiLower(k[0])] = append(m[asciiLower(k[0])], []byte(k))
		}
		return m
	}()
)

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c & 127
}

var (
	getMethod  = []byte(http.MethodGet)
	headMethod = []byte(http.MethodHead)
)

// framedByHeader reports whether no line of block names a body's length
// or coding, nor continues the line before it: whatever fasthttp makes of
// such a header, the front leaves it to net/http.
func framedByHeader(block []byte) bool {
	_, rest, _ := bytes.Cut(block, crlf)
	for len(rest) > 2 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, crlf)
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			return false
		}
		name, _, _ := bytes.Cut(line, colon)
		name = bytes.TrimSpace(name)
		if bytes.EqualFold(name, contentLength) || bytes.EqualFold(name, transferEncoding) {
			return false
		}
	}
	return true
}

var (
	crlf             = []byte("\r\n")
	colon            = []byte(":")
	contentLength    = []byte("Content-Length")
	transferEncoding = []byte("Transfer-Encoding")
)

// publicKey appends to dst the key under public/ of a request target, as
// the server's public handler maps it ("/x/" to public/x/index.html, the
// query ignored); false for a target the front leaves to net/http: one
// not in origin form, escaped, not clean, or a route of its own.
func publicKey(dst, target []byte) ([]byte, bool) {
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	if len(target) == 0 || target[0] != '/' || bytes.IndexByte(target, '%') >= 0 || bytes.IndexByte(target, '\\') >= 0 ||
		bytes.Contains(target, []byte("//")) || bytes.Contains(target, []byte("/./")) || bytes.Contains(target, []byte("/../")) ||
		bytes.HasSuffix(target, []byte("/.")) || bytes.HasSuffix(target, []byte("/..")) {
		return dst, false
	}
	p := b2s(target)
	if _, ok := pitchPath(p); ok {
		return dst, false
	}
	if _, ok := searchPath(p); ok {
		return dst, false
	}
	switch {
	case p == "/admin" || len(p) >= 7 && p[:7] == "/admin/", p == "/healthz", p == "/metrics":
		return dst, false
	}
	dst = append(dst, catalog.RootPublic...)
	dst = append(dst, target[1:]...)
	if target[len(target)-1] == '/' {
		dst = append(dst, "index.html"...)
	}
	return dst, true
}

// b2s is b as a string, without a copy: for reading b while it does not
// change, never to keep.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// httpDate is the Date header's value now, made once a second.
func httpDate() []byte {
	now := time.Now().Unix()
	if d := date.Load(); d != nil && d.unix == now {
		return d.text
	}
	d := &dated{unix: now, text: []byte(time.Unix(now, 0).UTC().Format(http.TimeFormat))}
	date.Store(d)
	return d.text
}

type dated struct {
	unix int64
	text []byte
}

var date atomic.Pointer[dated]

// handedConn is a connection handed to net/http: it reads first what the
// front has read and not consumed.
type handedConn struct {
	net.Conn
	r *bufio.Reader // nil once drained
}

func (c *handedConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(p)
		}
		c.r = nil
	}
	return c.Conn.Read(p)
}

// connQueue is the listener net/http serves: the connections the front
// hands over.
type connQueue struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func newConnQueue() *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }
