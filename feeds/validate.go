package feeds

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/mmcdole/gofeed"
	gorss "github.com/mmcdole/gofeed/rss"
	"github.com/prodcast/prodcast/pipeline"
)

// Severity says whether a problem stops a feed from going out.
type Severity string

// The severities of a Problem.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Problem is one broken rule.
type Problem struct {
	Rule     string   // the rule's id, e.g. "item-enclosure-length"
	Source   string   // where the rule comes from: Apple, PSP-1, RSS 2.0, podcast namespace
	Severity Severity //
	Where    string   // "channel" or the item's title
	Message  string   // what to fix
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s [%s, %s]: %s", p.Severity, p.Where, p.Rule, p.Source, p.Message)
}

// HasErrors reports whether any problem is an Error.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// rule is one row of the rule table.
type rule struct {
	id, source string
	sev        Severity
	channel    func(f *gorss.Feed) string                // returns a message if broken
	item       func(f *gorss.Feed, i *gorss.Item) string // returns a message if broken
}

// Rules is the rule table every feed is checked against, ours before upload
// and anyone's with `prodcast validate`.
var rules = []rule{
	{id: "channel-title", source: "RSS 2.0, Apple", sev: Error, channel: func(f *gorss.Feed) string {
		return when(strings.TrimSpace(f.Title) == "", "the channel has no <title>")
	}},
	{id: "channel-link", source: "RSS 2.0, PSP-1", sev: Error, channel: func(f *gorss.Feed) string {
		return when(!isHTTPURL(f.Link), "the channel <link> must be the show's web page (an http(s) URL)")
	}},
	{id: "channel-description", source: "RSS 2.0, Apple", sev: Error, channel: func(f *gorss.Feed) string {
		return when(strings.TrimSpace(f.Description) == "", "the channel has no <description>")
	}},
	{id: "channel-language", source: "Apple, PSP-1", sev: Warning, channel: func(f *gorss.Feed) string {
		return when(f.Language == "", "the channel has no <language>")
	}},
	{id: "channel-itunes-image", source: "Apple, PSP-1", sev: Warning, channel: func(f *gorss.Feed) string {
		return when(f.ITunesExt == nil || f.ITunesExt.Image == "", "the channel has no <itunes:image>; Apple rejects shows without art")
	}},
	{id: "channel-itunes-category", source: "Apple, PSP-1", sev: Warning, channel: func(f *gorss.Feed) string {
		return when(f.ITunesExt == nil || len(f.ITunesExt.Categories) == 0, "the channel has no <itunes:category>")
	}},
	{id: "channel-itunes-explicit", source: "Apple, PSP-1", sev: Warning, channel: func(f *gorss.Feed) string {
		if f.ITunesExt == nil {
			return "the channel has no <itunes:explicit>"
		}
		e := f.ITunesExt.Explicit
		return when(e != "true" && e != "false", fmt.Sprintf("<itunes:explicit> is %q; use true or false", e))
	}},
	{id: "item-title", source: "RSS 2.0, Apple", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return when(strings.TrimSpace(i.Title) == "", "the item has no <title>")
	}},
	{id: "item-guid", source: "RSS 2.0, PSP-1", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return when(i.GUID == nil || strings.TrimSpace(i.GUID.Value) == "", "the item has no <guid>; apps use it to tell episodes apart")
	}},
	{id: "item-enclosure", source: "RSS 2.0, Apple", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return when(i.Enclosure == nil || !isHTTPURL(i.Enclosure.URL), "the item has no <enclosure> with an http(s) url")
	}},
	{id: "item-enclosure-length", source: "RSS 2.0, Apple", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		if i.Enclosure == nil {
			return ""
		}
		n, err := strconv.ParseInt(i.Enclosure.Length, 10, 64)
		return when(err != nil || n <= 0, fmt.Sprintf("the enclosure length %q must be the file's size in bytes", i.Enclosure.Length))
	}},
	{id: "item-enclosure-type", source: "RSS 2.0, Apple", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		if i.Enclosure == nil {
			return ""
		}
		return when(!strings.HasPrefix(i.Enclosure.Type, "audio/") && !strings.HasPrefix(i.Enclosure.Type, "video/"),
			fmt.Sprintf("the enclosure type %q is not an audio or video MIME type", i.Enclosure.Type))
	}},
	{id: "item-guid-unique", source: "RSS 2.0, PSP-1", sev: Error, channel: func(f *gorss.Feed) string {
		seen := map[string]int{}
		var dup []string
		for _, it := range f.Items {
			if it.GUID == nil {
				continue
			}
			if seen[it.GUID.Value]++; seen[it.GUID.Value] == 2 {
				dup = append(dup, it.GUID.Value)
			}
		}
		return when(len(dup) > 0, fmt.Sprintf("GUIDs used by more than one item: %q; apps would show each as one episode", dup))
	}},
	{id: "item-pubdate", source: "RSS 2.0, PSP-1", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		_, ok := readDate(i.PubDate, i.PubDateParsed)
		return when(!ok, fmt.Sprintf("the item's <pubDate> %q is missing or not an RFC 2822 date", i.PubDate))
	}},
	{id: "item-itunes-duration", source: "Apple", sev: Warning, item: func(f *gorss.Feed, i *gorss.Item) string {
		return when(i.ITunesExt == nil || i.ITunesExt.Duration == "", "the item has no <itunes:duration>")
	}},
	{id: "item-podcast-transcript", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return podcastLinks(i, "transcript")
	}},
	{id: "item-podcast-chapters", source: "podcast namespace", sev: Error, item: func(f *gorss.Feed, i *gorss.Item) string {
		return podcastLinks(i, "chapters")
	}},
}

// podcastLinks checks that every <podcast:NAME> of an item carries the url
// and type attributes the namespace requires.
func podcastLinks(i *gorss.Item, name string) string {
	for _, e := range i.Extensions["podcast"][name] {
		if !isHTTPURL(e.Attrs["url"]) {
			return fmt.Sprintf("<podcast:%s> has url %q; it needs an http(s) URL", name, e.Attrs["url"])
		}
		if l, ok := e.Attrs["language"]; ok && name == "transcript" && !pipeline.IsLanguageTag(l) {
			return fmt.Sprintf("<podcast:transcript language=%q> is not a language tag such as en, de or pt-BR", l)
		}
		if !strings.Contains(e.Attrs["type"], "/") {
			return fmt.Sprintf("<podcast:%s> has type %q; it needs a MIME type such as %s", name, e.Attrs["type"],
				map[string]string{"transcript": "text/vtt", "chapters": "application/json+chapters"}[name])
		}
	}
	return ""
}

func when(broken bool, msg string) string {
	if broken {
		return msg
	}
	return ""
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Validate parses a feed with gofeed and checks it against the rule table.
// A feed that does not parse is one Error.
func Validate(data []byte) []Problem {
	f, err := (&gorss.Parser{}).Parse(bytes.NewReader(data))
	if err != nil {
		return []Problem{parseProblem(err)}
	}
	return check(f)
}

// Rule names one rule of the table, for `prodcast validate --rules`.
type Rule struct {
	ID, Source string
	Severity   Severity
}

// Rules lists the rules every feed is checked against: first how strict
// XML parsers read it, then the table.
func Rules() []Rule {
	out := []Rule{{"xml-well-formed", "XML 1.0, RSS 2.0", Error}, {"rss-root", "XML 1.0, RSS 2.0", Error}, {"parse", "XML, RSS 2.0", Error}}
	for _, r := range append(rules[:len(rules):len(rules)], tagRules...) {
		out = append(out, Rule{r.id, r.source, r.sev})
	}
	return out
}

func parseProblem(err error) Problem {
	return Problem{Rule: "parse", Source: "XML, RSS 2.0", Severity: Error, Where: "feed",
		Message: "gofeed cannot parse the feed: " + err.Error()}
}

// check runs the rule table on a parsed feed.
func check(f *gorss.Feed) []Problem {
	var out []Problem
	for _, r := range append(rules[:len(rules):len(rules)], tagRules...) {
		if r.channel != nil {
			if msg := r.channel(f); msg != "" {
				out = append(out, Problem{r.id, r.source, r.sev, "channel", msg})
			}
		}
		if r.item != nil {
			for n, it := range f.Items {
				if msg := r.item(f, it); msg != "" {
					out = append(out, Problem{r.id, r.source, r.sev, itemName(n, it), msg})
				}
			}
		}
	}
	return out
}

func itemName(n int, it *gorss.Item) string {
	if it.Title != "" {
		return fmt.Sprintf("item %d %q", n+1, it.Title)
	}
	return fmt.Sprintf("item %d", n+1)
}

// Parse reads any feed (RSS, Atom or JSON) with gofeed.
func Parse(data []byte) (*gofeed.Feed, error) {
	return gofeed.NewParser().Parse(bytes.NewReader(data))
}
