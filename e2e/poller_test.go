package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// Poller plays a podcast app that polls the feed and fetches everything it
// names, as often as it can: a feed that names an object that is not there
// (404) is a lie, whatever else is going on. Answers other than 404 (a
// server that cannot reach S3 answers 502) are not lies: apps retry those.
type Poller struct {
	feedURL string
	client  *http.Client
	stop    chan struct{}
	done    chan struct{}

	mu         sync.Mutex
	polls      int // feeds read and checked
	lies       []string
	guids      map[string]string // item link -> GUID, as first seen
	enclosures map[string]string // item link -> enclosure URL, as last seen
	moved      []string          // enclosures that changed
	changed    []string
	checked    map[string]bool // immutable URLs already fetched
	maxItems   int
	lastItems  int
	lastChange time.Time
}

// StartPoller polls feedURL every interval until the test ends or Stop.
func StartPoller(tb testing.TB, feedURL string, interval time.Duration) *Poller {
	p := &Poller{feedURL: feedURL, client: &http.Client{Timeout: 10 * time.Second},
		stop: make(chan struct{}), done: make(chan struct{}),
		guids: map[string]string{}, enclosures: map[string]string{}, checked: map[string]bool{}}
	go p.run(interval)
	tb.Cleanup(p.Stop)
	return p
}

func (p *Poller) run(interval time.Duration) {
	defer close(p.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		p.poll()
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// Stop ends the polling; it may be called more than once.
func (p *Poller) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

func (p *Poller) poll() {
	resp, err := p.client.Get(p.feedURL)
	if err != nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	f, perr := gofeed.NewParser().ParseString(string(body))
	if perr != nil {
		p.lie("the feed does not parse: %v", perr)
		return
	}
	for _, it := range f.Items {
		p.checkItem(it)
	}
	p.mu.Lock()
	p.polls++
	p.maxItems = max(p.maxItems, len(f.Items))
	if len(f.Items) != p.lastItems {
		p.lastItems, p.lastChange = len(f.Items), time.Now()
	}
	p.mu.Unlock()
}

func (p *Poller) checkItem(it *gofeed.Item) {
	p.mu.Lock()
	if g, ok := p.guids[it.Link]; !ok {
		p.guids[it.Link] = it.GUID
	} else if g != it.GUID {
		p.changed = append(p.changed, fmt.Sprintf("%s: GUID %s became %s", it.Link, g, it.GUID))
		p.guids[it.Link] = it.GUID
	}
	if len(it.Enclosures) > 0 {
		if e, ok := p.enclosures[it.Link]; ok && e != it.Enclosures[0].URL {
			p.moved = append(p.moved, fmt.Sprintf("%s: %s -> %s", it.Link, e, it.Enclosures[0].URL))
		}
		p.enclosures[it.Link] = it.Enclosures[0].URL
	}
	p.mu.Unlock()
	urls := []string{it.Link}
	for _, e := range it.Enclosures {
		urls = append(urls, e.URL)
	}
	if it.Image != nil {
		urls = append(urls, it.Image.URL)
	}
	for _, name := range []string{"chapters", "transcript", "alternateEnclosure"} {
		for _, ext := range it.Extensions["podcast"][name] {
			if u := ext.Attrs["url"]; u != "" {
				urls = append(urls, u)
			}
			for _, src := range ext.Children["source"] {
				urls = append(urls, src.Attrs["uri"])
			}
		}
	}
	for _, u := range urls {
		p.fetch(it.Title, u)
	}
}

// fetch asks for the first byte of u; media URLs carry a content hash and
// never change, so each is fetched until it answers once.
func (p *Poller) fetch(title, u string) {
	if u == "" {
		return
	}
	immutable := strings.Contains(u, "/media/")
	p.mu.Lock()
	done := p.checked[u]
	p.mu.Unlock()
	if done {
		return
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Range", "bytes=0-0")
	resp, err := p.client.Do(req)
	if err != nil {
		return
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		p.lie("the feed names %s (item %q), which answers %s", u, title, resp.Status)
		return
	}
	if immutable && resp.StatusCode < 300 {
		p.mu.Lock()
		p.checked[u] = true
		p.mu.Unlock()
	}
}

func (p *Poller) lie(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lies = append(p.lies, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

// Check fails the test if the feed ever lied or changed a GUID, or if it
// was never read.
func (p *Poller) Check(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.polls == 0 {
		tb.Error("the poller never read the feed: it checked nothing")
	}
	for _, l := range p.lies {
		tb.Errorf("poller: %s", l)
	}
	for _, c := range p.changed {
		tb.Errorf("poller: %s", c)
	}
	for _, m := range p.moved {
		tb.Logf("poller: enclosure changed (apps download it again): %s", m)
	}
	tb.Logf("poller: %d reads of the feed, at most %d items, %d media URLs fetched", p.polls, p.maxItems, len(p.checked))
}
