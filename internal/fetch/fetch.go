package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// Trust is where a URL comes from, and so which addresses it may reach.
type Trust int

const (
	// Input is a URL from input: no private address, ever.
	Input Trust = iota
	// Configured is an endpoint the operator configured: it may be
	// private, the redirects it answers with may not.
	Configured
)

// Options set a Client's limits. Zero values take the defaults.
type Options struct {
	Timeout      time.Duration // the whole request, body included (default 30 s)
	MaxBytes     int64         // the most a body may hold (default 16 MiB; -1: no limit)
	MaxRedirects int           // default 5
	// AllowPrivate lets Input reach private addresses too; New sets it
	// from PRODCAST_ALLOW_PRIVATE_FETCH.
	AllowPrivate bool
}

// AllowPrivateEnv is the variable that lets input URLs reach private
// addresses, for a show whose feed or media live on the LAN.
const AllowPrivateEnv = "PRODCAST_ALLOW_PRIVATE_FETCH"

// Client is an HTTP client with the rules of this package.
type Client struct {
	opts Options
	http *http.Client
}

// ErrPrivate is wrapped by the error of a request refused because it
// would reach a private address.
var ErrPrivate = errors.New("private address")

// ErrTooLarge is wrapped by the read error of a body over MaxBytes.
var ErrTooLarge = errors.New("body too large")

// New returns a Client with opts.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 16 << 20
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = 5
	}
	if v := os.Getenv(AllowPrivateEnv); v == "1" || v == "true" || v == "yes" {
		opts.AllowPrivate = true
	}
	c := &Client{opts: opts}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		// No proxy from the environment: the address checks must apply to
		// the host that is reached.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			st, _ := ctx.Value(stateKey{}).(*state)
			d := *dialer
			d.Control = func(_, address string, _ syscall.RawConn) error {
				return c.check(st, address)
			}
			return d.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	c.http = &http.Client{
		Transport: tr,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return fmt.Errorf("cannot fetch %s: more than %d redirects", via[0].URL.Redacted(), opts.MaxRedirects)
			}
			if st, _ := req.Context().Value(stateKey{}).(*state); st != nil {
				st.redirected.Store(true)
			}
			return nil
		},
	}
	return c
}

type stateKey struct{}

// state is one request's: where it comes from, and whether it has been
// redirected.
type state struct {
	trust      Trust
	redirected atomic.Bool
}

// check refuses to dial address (an IP and port, after DNS) when the
// request may not reach it.
func (c *Client) check(st *state, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("cannot dial %s: %w", address, err)
	}
	if !Private(ap.Addr()) {
		return nil
	}
	trust := Input
	if st != nil {
		trust = st.trust
	}
	if trust == Input && c.opts.AllowPrivate {
		return nil
	}
	if trust == Configured && (st == nil || !st.redirected.Load()) {
		return nil
	}
	why := "named by input (a feed, the notes)"
	if trust == Configured {
		why = "reached by a redirect"
	}
	return fmt.Errorf("%s is a private, loopback or link-local address %s; prodcast does not fetch those (set %s=1 to allow it for input): %w",
		ap.Addr(), why, AllowPrivateEnv, ErrPrivate)
}

// Do sends req under trust's rules. The body of the response reads at
// most MaxBytes; more is an error wrapping ErrTooLarge.
func (c *Client) Do(req *http.Request, trust Trust) (*http.Response, error) {
	st := &state{trust: trust}
	req = req.WithContext(context.WithValue(req.Context(), stateKey{}, st))
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if c.opts.MaxBytes > 0 {
		resp.Body = &limited{rc: resp.Body, left: c.opts.MaxBytes, max: c.opts.MaxBytes, url: req.URL.Redacted()}
	}
	return resp, nil
}

// Get is Do of a GET of url.
func (c *Client) Get(ctx context.Context, url string, trust Trust) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req, trust)
}

type limited struct {
	rc        io.ReadCloser
	left, max int64
	url       string
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var b [1]byte
		if n, _ := l.rc.Read(b[:]); n > 0 {
			return 0, fmt.Errorf("%s is larger than the %d bytes prodcast reads of it: %w", l.url, l.max, ErrTooLarge)
		}
		return l.rc.Read(p)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limited) Close() error { return l.rc.Close() }

// Private reports whether a is an address input may not reach: loopback,
// private (RFC 1918, fc00::/7), link-local (169.254/16 with cloud
// metadata, fe80::/10), unspecified, multicast, shared (100.64/10),
// 0/8, reserved (240/4), and those embedded in IPv4-mapped and NAT64
// addresses.
func Private(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, p := range special {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

var (
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	special = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("240.0.0.0/4"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("100::/64"),
	}
)
