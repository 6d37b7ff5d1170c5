package bundle

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/prodcast/prodcast/pipeline"
)

// The limits of episode.md. Each keeps a field inside what podcast apps
// show and what S3 keys, ffmpeg's tags and the feed can hold; the message
// that refuses a field names its limit.
const (
	MaxNotesBytes = 1 << 20 // episode.md as a whole
	MaxTitle      = 255     // characters
	MaxSlug       = 80      // characters; keys and URLs hold it several times
	MaxSummary    = 4000    // characters, Apple's limit for a description
	MaxGuests     = 20
	MaxName       = 200 // characters, of a guest's name or role
	MaxURL        = 2000
	MaxTags       = 20
	MaxTag        = 50 // characters
	MaxNumber     = 100000
)

// MaxScheduleAhead is how far ahead publish_at may be: a date beyond it is
// taken for a typo in the year (3026 for 2026) and refused, naming the
// limit. prodcast sets it from PRODCAST_MAX_SCHEDULE_AHEAD at start.
var MaxScheduleAhead = 5 * 365 * 24 * time.Hour

// checkSchedule refuses a publish_at further ahead than MaxScheduleAhead.
func checkSchedule(at *time.Time, now time.Time) error {
	if at == nil || MaxScheduleAhead <= 0 || !at.After(now.Add(MaxScheduleAhead)) {
		return nil
	}
	return pipeline.Inputf("check the year of publish_at; to schedule further ahead, raise PRODCAST_MAX_SCHEDULE_AHEAD",
		"publish_at: %s is %s ahead; the limit is %s", at.UTC().Format(time.RFC3339), Span(at.Sub(now)), Span(MaxScheduleAhead))
}

// Span says a long time in years, or days under a year.
func Span(d time.Duration) string {
	const year = 365 * 24 * time.Hour
	if d >= year {
		if y := float64(d) / float64(year); y != float64(int64(y)) {
			return fmt.Sprintf("%.1f years", y)
		}
		return fmt.Sprintf("%d years", int64(d/year))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// checkEncoding refuses notes that are not UTF-8 text, naming the line.
func checkEncoding(data []byte) error {
	if len(data) > MaxNotesBytes {
		return pipeline.Inputf("shorten the notes, or link to long material instead of pasting it",
			"episode.md is %.1f MB; the limit is %d KB", float64(len(data))/1e6, MaxNotesBytes>>10)
	}
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return pipeline.Inputf("save the file as UTF-8 (in most editors: Save As, then Encoding: UTF-8)",
			"episode.md is saved as UTF-16")
	}
	if utf8.Valid(data) {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return pipeline.Inputf("save the file as UTF-8 (in most editors: Save As, then Encoding: UTF-8)",
				"episode.md is not UTF-8 text: line %d, character %d has the byte 0x%02x (Windows-1252 or Latin-1?)", line, col, data[i])
		}
		if r == '\n' {
			line, col = line+1, 0
		}
		col++
		i += n
	}
	return nil
}

// checkTypes decodes each known key of the front matter on its own, so that
// a value of the wrong kind is refused with the key's name and the form it
// takes, rather than with the YAML library's words.
func checkTypes(front []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(front, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil // the strict decode reports it
	}
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		key, val := m[i].Value, m[i+1]
		var err error
		var want string
		switch key {
		case "publish_at":
			var t time.Time
			err, want = val.Decode(&t), "a date and time with its zone, such as publish_at: 2026-12-01T09:00:00Z (RFC 3339)"
			if err == nil && val.Tag == "!!null" {
				err = nil
			}
		case "season", "episode":
			var n int
			err, want = val.Decode(&n), fmt.Sprintf("a whole number, such as %s: 3", key)
		case "explicit":
			var b bool
			err, want = val.Decode(&b), "true or false"
		case "title", "slug", "summary", "type":
			var s string
			err, want = val.Decode(&s), fmt.Sprintf(`text, such as %s: "..."`, key)
			if err == nil && val.Kind != yaml.ScalarNode {
				err = fmt.Errorf("not text")
			}
		case "tags":
			var s []string
			err, want = val.Decode(&s), "a list, such as tags: [flask, async]"
		case "guests":
			var g []pipeline.Guest
			err, want = val.Decode(&g), "a list, such as guests: [{name: Ada Lovelace, role: SRE, url: https://example.com}]"
		}
		if err != nil {
			return pipeline.Inputf("write "+key+" as "+want,
				"in episode.md, %s: %q is not %s", key, strings.TrimSpace(nodeText(val)), strings.SplitN(want, ",", 2)[0])
		}
	}
	return nil
}

func nodeText(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	out, _ := yaml.Marshal(n)
	return string(out)
}

// checkLimits refuses a field over its limit, naming the limit.
func checkLimits(m *pipeline.Meta) error {
	long := func(field string, s string, limit int) error {
		if n := utf8.RuneCountInString(s); n > limit {
			return pipeline.Inputf(fmt.Sprintf("shorten %s to %d characters or fewer", field, limit),
				"in episode.md, %s is %d characters long; the limit is %d", field, n, limit)
		}
		return nil
	}
	checks := []error{
		long("title", m.Title, MaxTitle),
		long("slug", m.Slug, MaxSlug),
		long("summary", m.Summary, MaxSummary),
	}
	if len(m.Guests) > MaxGuests {
		checks = append(checks, pipeline.Inputf(fmt.Sprintf("list at most %d guests", MaxGuests),
			"in episode.md, guests lists %d people; the limit is %d", len(m.Guests), MaxGuests))
	}
	for i, g := range m.Guests {
		checks = append(checks, long(fmt.Sprintf("the name of guest %d", i+1), g.Name, MaxName),
			long(fmt.Sprintf("the role of guest %d", i+1), g.Role, MaxName),
			long(fmt.Sprintf("the url of guest %d", i+1), g.URL, MaxURL))
		if g.URL != "" && !isHTTPURL(g.URL) {
			checks = append(checks, pipeline.Inputf("give a full web address, such as https://example.com/ada",
				"in episode.md, the url of guest %d (%q) is not an http(s) address", i+1, g.URL))
		}
		checks = append(checks, long(fmt.Sprintf("the img of guest %d", i+1), g.Img, MaxURL))
	}
	if len(m.Tags) > MaxTags {
		checks = append(checks, pipeline.Inputf(fmt.Sprintf("keep at most %d tags", MaxTags),
			"in episode.md, tags lists %d topics; the limit is %d", len(m.Tags), MaxTags))
	}
	for _, t := range m.Tags {
		checks = append(checks, long(fmt.Sprintf("the tag %q", t), t, MaxTag))
	}
	if m.Season > MaxNumber || m.Episode > MaxNumber {
		checks = append(checks, pipeline.Inputf(fmt.Sprintf("use numbers up to %d", MaxNumber),
			"in episode.md, season %d or episode %d is over %d", m.Season, m.Episode, MaxNumber))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// shortSlug cuts a slug made from a long title to MaxSlug characters, at a
// dash where it can.
func shortSlug(s string) string {
	if len(s) <= MaxSlug {
		return s
	}
	s = s[:MaxSlug]
	if i := strings.LastIndexByte(s, '-'); i > MaxSlug/2 {
		s = s[:i]
	}
	return strings.Trim(s, "-")
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
