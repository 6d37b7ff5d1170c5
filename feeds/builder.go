package feeds

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	gorss "github.com/mmcdole/gofeed/rss"

	"github.com/prodcast/prodcast/pipeline"
)

// Builder builds feeds and checks them against the rule table, keeping
// each item's XML and its parse while the episode and the show's settings
// are unchanged: a rebuild of a 1,000-episode show after one publish
// encodes and parses the channel and one item, not the whole feed. The
// result is the same, byte for byte and problem for problem, as a build
// from nothing followed by Validate (TestBuilderIsIncremental).
//
// A Builder is safe for concurrent use; it remembers the items of the last
// build of each show and nothing older.
type Builder struct {
	mu    sync.Mutex
	shows map[string]map[string]*builtItem // by show name, then slug
}

type builtItem struct {
	key    string      // the show's fingerprint and the manifest's content key
	xml    []byte      // as it sits in the feed
	parsed *gorss.Item // as gofeed reads it
}

// BuildStats says how much of a build was new.
type BuildStats struct {
	Items, Encoded int
}

// Build renders the feed of the episodes live at now and checks it. A feed
// with problems of severity Error must not go out.
func (b *Builder) Build(show *pipeline.Show, episodes []*pipeline.Manifest, now time.Time) ([]byte, []Problem, error) {
	xml, problems, _, err := b.build(show, episodes, now)
	return xml, problems, err
}

func (b *Builder) build(show *pipeline.Show, episodes []*pipeline.Manifest, now time.Time) ([]byte, []Problem, BuildStats, error) {
	var stats BuildStats
	live := live(episodes, now)
	head, p, err := buildChannel(show, live, now)
	if err != nil {
		return nil, nil, stats, err
	}
	// Items go where the channel closes.
	cut := bytes.LastIndex(head, []byte("\n  </channel>"))
	if cut < 0 {
		return nil, nil, stats, fmt.Errorf("cannot build the feed: no </channel> in %q", tail(head))
	}
	showKey := show.Fingerprint()
	b.mu.Lock()
	last := b.shows[show.Name]
	b.mu.Unlock()
	items := make([]*builtItem, len(live))
	var fresh []int // indexes of the items encoded now
	size := len(head)
	for i, m := range live {
		key := showKey + "\x00" + m.ContentKey()
		if it := last[m.Slug]; it != nil && it.key == key && it.parsed != nil {
			items[i] = it
		} else {
			built, err := buildItem(p, show, m)
			if err != nil {
				return nil, nil, stats, err
			}
			data, err := encodeItem(built)
			if err != nil {
				return nil, nil, stats, err
			}
			items[i] = &builtItem{key: key, xml: data}
			fresh = append(fresh, i)
		}
		size += len(items[i].xml)
	}
	stats.Items, stats.Encoded = len(items), len(fresh)
	// The channel and the new items are parsed together, as one feed that
	// holds only them; the items parsed before are taken as they were.
	var part bytes.Buffer
	part.Grow(len(head) + size/max(1, len(items))*len(fresh))
	part.Write(head[:cut])
	for _, i := range fresh {
		part.Write(items[i].xml)
	}
	part.Write(head[cut:])
	f, err := (&gorss.Parser{}).Parse(&part)
	if err != nil {
		return nil, []Problem{parseProblem(err)}, stats, nil
	}
	if len(f.Items) != len(fresh) {
		return nil, nil, stats, fmt.Errorf("cannot check the feed: gofeed read %d new items of %d", len(f.Items), len(fresh))
	}
	for n, i := range fresh {
		items[i].parsed = f.Items[n]
	}
	f.Items = make([]*gorss.Item, len(items))
	kept := make(map[string]*builtItem, len(items))
	out := make([]byte, 0, size)
	out = append(out, head[:cut]...)
	for i, it := range items {
		f.Items[i] = it.parsed
		kept[live[i].Slug] = it
		out = append(out, it.xml...)
	}
	out = append(out, head[cut:]...)
	b.mu.Lock()
	if b.shows == nil {
		b.shows = map[string]map[string]*builtItem{}
	}
	b.shows[show.Name] = kept
	b.mu.Unlock()
	return out, check(f), stats, nil
}

func tail(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}
