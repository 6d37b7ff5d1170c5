package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/prodcast/prodcast/analytics"
	"github.com/prodcast/prodcast/pipeline"
)

var downloadsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "prodcast_downloads_total",
	Help: "Downloads counted the IAB way (a listener receiving a minute of audio, once a day), by show, episode and app.",
}, []string{"show", "episode", "app"})

// ClientIP is the listener's address: the peer's, or, when the peer is a
// trusted proxy, the last address in X-Forwarded-For that is not one.
// No other client can set its address.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	if !isTrusted(ip) {
		return ip.Unmap()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !isTrusted(a) {
			return a.Unmap()
		}
		ip = a
	}
	return ip.Unmap()
}

// count hands an answered request for an episode's audio to the
// recorder, which counts it off the request path.
func (s *server) count(r *http.Request, key string, info pipeline.Object, code int, sent int64) {
	if s.cfg.Hits == nil || r.Method != http.MethodGet || (code != http.StatusOK && code != http.StatusPartialContent) {
		return
	}
	show, slug, ok := analytics.EpisodeAudio(key)
	if !ok {
		return
	}
	s.cfg.Hits.Add(analytics.Hit{Show: show, Episode: slug, IP: ClientIP(r, s.cfg.TrustedProxies),
		UA: r.UserAgent(), Bytes: sent, Size: info.Size, Duration: info.Duration, At: time.Now()})
}

// CountDownload adds a download to prodcast_downloads_total.
func CountDownload(h analytics.Hit, c analytics.Client) {
	name := c.Name
	if name == "" {
		name = "unknown"
	}
	downloadsTotal.WithLabelValues(h.Show, h.Episode, name).Inc()
}
