package analytics

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
)

//go:embed opawg/*.json
var patternsFS embed.FS

// Client is what a User-Agent says of the software that made a request.
type Client struct {
	Name     string // the app, library or browser, as OPAWG names it; "" if unknown
	Kind     string // "app", "library", "browser", "bot" or "unknown"
	Device   string // e.g. "Apple iPhone"; "" if unknown
	Category string // mobile, computer, smart_speaker, smart_tv, watch, auto; "" if unknown
}

type pattern struct {
	Name     string `json:"name"`
	Pattern  string `json:"pattern"`
	Category string `json:"category"`
	re       *regexp.Regexp
}

type patterns struct {
	bots, apps, libraries, browsers, devices []pattern
}

var (
	loadOnce sync.Once
	loaded   *patterns
	loadErr  error
)

func load() (*patterns, error) {
	loadOnce.Do(func() {
		p := &patterns{}
		for name, dst := range map[string]*[]pattern{"bots": &p.bots, "apps": &p.apps, "libraries": &p.libraries,
			"browsers": &p.browsers, "devices": &p.devices} {
			data, err := patternsFS.ReadFile("opawg/" + name + ".json")
			if err != nil {
				loadErr = err
				return
			}
			var f struct {
				Entries []pattern `json:"entries"`
			}
			if err := json.Unmarshal(data, &f); err != nil {
				loadErr = fmt.Errorf("cannot parse opawg/%s.json: %w", name, err)
				return
			}
			for i := range f.Entries {
				re, err := regexp.Compile(f.Entries[i].Pattern)
				if err != nil {
					continue // a pattern Go's regexp cannot read: it matches nothing
				}
				f.Entries[i].re = re
			}
			*dst = f.Entries
		}
		loaded = p
	})
	return loaded, loadErr
}

func first(ps []pattern, ua string) *pattern {
	for i := range ps {
		if ps[i].re != nil && ps[i].re.MatchString(ua) {
			return &ps[i]
		}
	}
	return nil
}

var (
	cacheMu sync.Mutex
	cache   = map[string]Client{}
)

// Classify names the software behind a User-Agent, in the order OPAWG
// prescribes: bots, apps, libraries, browsers, the first entry that
// matches; then the device, unless it is a bot. An empty User-Agent is a
// bot. Results are kept for the next requests of the same User-Agent.
func Classify(ua string) Client {
	if ua == "" {
		return Client{Kind: "bot", Name: "(no User-Agent)"}
	}
	cacheMu.Lock()
	c, ok := cache[ua]
	cacheMu.Unlock()
	if ok {
		return c
	}
	p, err := load()
	if err != nil {
		return Client{Kind: "unknown"}
	}
	c = Client{Kind: "unknown"}
	for _, list := range []struct {
		kind string
		ps   []pattern
	}{{"bot", p.bots}, {"app", p.apps}, {"library", p.libraries}, {"browser", p.browsers}} {
		if m := first(list.ps, ua); m != nil {
			c = Client{Kind: list.kind, Name: m.Name}
			break
		}
	}
	if c.Kind != "bot" {
		if d := first(p.devices, ua); d != nil {
			c.Device, c.Category = d.Name, d.Category
		}
	}
	cacheMu.Lock()
	if len(cache) > 100_000 {
		cache = map[string]Client{} // a bound, not an LRU
	}
	cache[ua] = c
	cacheMu.Unlock()
	return c
}
