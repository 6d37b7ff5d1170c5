package web

import (
	"context"
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

// clientIP is the listener's address: the peer's, or, when the peer is a
// trusted proxy, the last address in X-Forwarded-For that is not one.
// No other client can set its address.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
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

// count records an answered request for an episode's audio.
func (s *server) count(r *http.Request, key string, info pipeline.Object, code int, sent int64) {
	if s.cfg.Counter == nil || r.Method != http.MethodGet || (code != http.StatusOK && code != http.StatusPartialContent) {
		return
	}
	show, slug, ok := analytics.EpisodeAudio(key)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	counted, client, err := s.cfg.Counter.Record(ctx, analytics.Hit{Show: show, Episode: slug, IP: clientIP(r, s.cfg.TrustedProxies),
		UA: r.UserAgent(), Bytes: sent, Size: info.Size, Duration: info.Duration, At: time.Now()})
	if err != nil {
		s.cfg.Log.Warn("cannot count a download", "key", key, "err", err)
		return
	}
	if counted {
		name := client.Name
		if name == "" {
			name = "unknown"
		}
		downloadsTotal.WithLabelValues(show, slug, name).Inc()
	}
}
