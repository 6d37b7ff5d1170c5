package pipeline

import (
	"net"
	"net/url"
	"strings"
)

// Notify is the notify: block of show.yaml: who is told when the feed
// changes. A nil *Notify (no block) means the defaults.
type Notify struct {
	// WebSubHubs are W3C WebSub hubs: the feed names them, and each gets
	// hub.mode=publish on every change.
	WebSubHubs []string `yaml:"websub_hubs" json:"websub_hubs,omitempty"`
	// PubnotifyURLs are called as GET <url>?url=<feed URL>, as Podcast
	// Index's hub/pubnotify expects.
	PubnotifyURLs []string `yaml:"pubnotify_urls" json:"pubnotify_urls,omitempty"`
	// PodpingToken, when set, sends the feed URL to podping.cloud.
	PodpingToken string `yaml:"podping_token" json:"-"`
	// Webhooks get a signed JSON POST on every episode event.
	Webhooks []Webhook `yaml:"webhooks" json:"webhooks,omitempty"`
}

// Webhook is one receiver of episode events.
type Webhook struct {
	URL    string `yaml:"url" json:"url"`
	Secret string `yaml:"secret" json:"-"`
}

// The targets prodcast pings by default, for a show with a public https
// base URL and no notify: block.
const (
	DefaultWebSubHub = "https://pubsubhubbub.appspot.com/"
	DefaultPubnotify = "https://api.podcastindex.org/api/1.0/hub/pubnotify"
	PodpingURL       = "https://podping.cloud/"
)

// Targets is what the show's feed changes are told to: the block as
// written, or, without one, the public defaults when the base URL is a
// public https one (a loopback or private base URL pings nothing, since
// no one outside could fetch the feed).
func (s *Show) Targets() Notify {
	if s.Notify != nil {
		return *s.Notify
	}
	if !PublicBaseURL(s.BaseURL) {
		return Notify{}
	}
	return Notify{WebSubHubs: []string{DefaultWebSubHub}, PubnotifyURLs: []string{DefaultPubnotify}}
}

// PublicBaseURL reports whether a base URL is https on a host that is not
// loopback, private or link-local.
func PublicBaseURL(base string) bool {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") ||
		strings.HasSuffix(host, ".internal") || !strings.Contains(host, ".") {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
	}
	return true
}

// validate names the first notify: entry that is not an http(s) URL.
func (n *Notify) validate() error {
	const fix = "edit the notify: block of show.yaml"
	check := func(key, raw string) error {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Inputf(fix, "show.yaml notify.%s %q is not an http(s) URL", key, raw)
		}
		return nil
	}
	for _, h := range n.WebSubHubs {
		if err := check("websub_hubs", h); err != nil {
			return err
		}
	}
	for _, p := range n.PubnotifyURLs {
		if err := check("pubnotify_urls", p); err != nil {
			return err
		}
	}
	for _, w := range n.Webhooks {
		if err := check("webhooks", w.URL); err != nil {
			return err
		}
		if w.Secret == "" {
			return Inputf(fix+": give every webhook a secret, to sign its requests", "show.yaml notify.webhooks %q has no secret", w.URL)
		}
	}
	return nil
}
