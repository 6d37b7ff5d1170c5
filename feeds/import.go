package feeds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/charset"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/chapters"
	"github.com/prodcast/prodcast/pipeline/markdown"
)

// Imported is one episode of an existing feed, ready to become a manifest.
type Imported struct {
	Manifest *pipeline.Manifest // GUID, date, notes and metadata as the feed has them
	MediaURL string             // the enclosure, absolute
	Type     string             // its MIME type, as the feed gives it (or as its extension says)
	Length   int64              // its length as the feed states it; 0 if absent
	Duration float64            // itunes:duration, seconds; 0 if absent
	// ChaptersURL is the item's podcast:chapters JSON, to be fetched; the
	// manifest already holds the PSC chapters when the feed has them.
	ChaptersURL string
	// ArtURL is the episode's own art, when it is not the show's.
	ArtURL string
	// Transcripts are the item's podcast:transcript files that prodcast
	// reads (WebVTT, else SubRip), one per language, the feed's first.
	Transcripts []ImportedTranscript
}

// ImportedTranscript is a transcript file of an old feed, to be fetched.
type ImportedTranscript struct {
	URL      string
	Name     string // transcript.vtt or transcript.srt, as the type says
	Language string // as the feed gives it, else the channel's
}

// Skipped is an item of the old feed that Import did not take, and why.
type Skipped struct {
	Item  int    // its place in the feed, from 1
	Title string //
	Why   string // in words for the producer
	// Duplicate says the item has the GUID of one that was taken: the
	// episode is there, nothing is lost.
	Duplicate bool
}

// Import reads an existing podcast feed into episodes that keep their
// original GUIDs, dates, notes and media, so that apps see the same episodes
// after the move. An item without a GUID keeps the identity apps gave it:
// its enclosure URL. Slugs are made unique within the feed. feedURL, when
// the feed was fetched from one, resolves relative enclosure URLs.
//
// What cannot be an episode (no enclosure, a GUID already taken, a date
// that cannot be read) is skipped and reported, and the rest is imported.
// A feed that is broken in a way that hides items (not well-formed XML, no
// <channel>) is refused, with where it is broken: Import never reads fewer
// episodes than the feed has without saying so.
func Import(data []byte, feedURL string) (*gofeed.Feed, []Imported, []Skipped, error) {
	f, err := Parse(data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("cannot read the feed: %s", describeBroken(data, err))
	}
	if root, _ := readXML(data, true); root == "rss" && !channelStart.Match(data) {
		return nil, nil, nil, fmt.Errorf("cannot read the feed: its <rss> has no <channel> start tag, so its items belong to nothing; fix the feed (or ask its host for a valid one) and import again")
	}
	if n := countItems(data); len(f.Items) < n {
		return nil, nil, nil, fmt.Errorf("the feed has %d items but only %d can be read: %s; fix the feed (or ask its host for a valid one) and import again",
			n, len(f.Items), describeBroken(data, nil))
	}
	var base *url.URL
	if u, err := url.Parse(feedURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		base = u
	}
	var out []Imported
	var skipped []Skipped
	slugs := map[string]int{}
	guids := map[string]int{}
	for n, it := range f.Items {
		title := strings.TrimSpace(it.Title)
		if title == "" {
			title = "Episode " + strconv.Itoa(n+1)
		}
		skip := func(why string) { skipped = append(skipped, Skipped{Item: n + 1, Title: title, Why: why}) }
		if len(it.Enclosures) == 0 || strings.TrimSpace(it.Enclosures[0].URL) == "" {
			skip("it has no enclosure: there is no audio to import")
			continue
		}
		enc := it.Enclosures[0]
		media, err := resolve(base, enc.URL)
		if err != nil {
			skip(err.Error())
			continue
		}
		typ, ok := MediaType(enc.Type, media)
		if !ok {
			skip(fmt.Sprintf("its enclosure's type %q is not audio or video, nor is its file name's (%s)", enc.Type, path.Base(media)))
			continue
		}
		guid := strings.TrimSpace(it.GUID)
		if guid == "" {
			guid = media
		}
		if first, ok := guids[guid]; ok {
			skipped = append(skipped, Skipped{Item: n + 1, Title: title, Duplicate: true,
				Why: fmt.Sprintf("it has the GUID %q of item %d, which was taken; apps know them as one episode", guid, first)})
			continue
		}
		pub, err := pubDate(it)
		if err != nil {
			skip(err.Error())
			continue
		}
		guids[guid] = n + 1
		slug := bundle.Slug(title)
		if slugs[slug]++; slugs[slug] > 1 {
			slug = fmt.Sprintf("%s-%d", slug, slugs[slug])
		}
		m := &pipeline.Manifest{
			Slug: slug, GUID: guid, PublishedAt: pub,
			Meta:      pipeline.Meta{Title: title, Slug: slug},
			NotesHTML: it.Content,
		}
		if m.NotesHTML == "" {
			m.NotesHTML = it.Description
		}
		m.Meta.Guests = guests(it)
		m.Meta.Soundbites = soundbites(it)
		m.Meta.Social = social(it)
		m.Chapters = pscChapters(it)
		desc := strings.TrimSpace(it.Description)
		if list := chapterList(m.Chapters); list != nil {
			// The chapter list a feed like prodcast's ends its notes with
			// is made again from the chapters: kept, it would be there twice.
			m.NotesHTML = strings.TrimSuffix(strings.TrimSuffix(m.NotesHTML, chapterHTML(list)), chapterText(list))
			desc = strings.TrimSuffix(desc, chapterText(list))
		}
		// A plain description that is not the start of the notes is the
		// episode's summary, as prodcast writes it.
		if desc != "" && !strings.Contains(desc, "<") && it.Content != "" &&
			desc != markdown.PlainFromHTML(markdown.Notes("", m.NotesHTML), 600) {
			m.Meta.Summary = desc
		}
		pod := it.Extensions["podcast"]
		m.Meta.License, m.Meta.Location, m.Meta.TXT = licenseOf(pod["license"]), locationOf(pod["location"]), txtOf(pod["txt"])
		length, _ := strconv.ParseInt(strings.TrimSpace(enc.Length), 10, 64)
		imp := Imported{Manifest: m, MediaURL: media, Type: typ, Length: length}
		for _, c := range it.Extensions["podcast"]["chapters"] {
			if u, err := resolve(base, c.Attrs["url"]); err == nil {
				imp.ChaptersURL = u
			}
		}
		imp.Transcripts = transcripts(base, it, f.Language)
		if art := itemArt(it); art != "" && art != channelArt(f) {
			if u, err := resolve(base, art); err == nil {
				imp.ArtURL = u
			}
		}
		if x := it.ITunesExt; x != nil {
			if s := strings.TrimSpace(x.Summary); s != "" {
				m.Meta.Summary = s
			}
			m.Meta.Season, _ = strconv.Atoi(x.Season)
			m.Meta.Episode, _ = strconv.Atoi(x.Episode)
			if t := strings.ToLower(x.EpisodeType); t == "trailer" || t == "bonus" {
				m.Meta.Type = t
			}
			switch strings.ToLower(x.Explicit) {
			case "true", "yes", "explicit":
				m.Meta.Explicit = ptr(true)
			case "false", "no", "clean":
				m.Meta.Explicit = ptr(false)
			}
			imp.Duration = parseDuration(x.Duration)
		}
		out = append(out, imp)
	}
	return f, out, skipped, nil
}

// imageOf is the art a feed or an item names: itunes:image, else <image>.
func imageOf(itunes string, image *gofeed.Image) string {
	if s := strings.TrimSpace(itunes); s != "" {
		return s
	}
	if image != nil {
		return strings.TrimSpace(image.URL)
	}
	return ""
}

func itemArt(it *gofeed.Item) string {
	if it.ITunesExt != nil {
		return imageOf(it.ITunesExt.Image, it.Image)
	}
	return imageOf("", it.Image)
}

func channelArt(f *gofeed.Feed) string {
	if f.ITunesExt != nil {
		return imageOf(f.ITunesExt.Image, f.Image)
	}
	return imageOf("", f.Image)
}

// transcripts picks, for each language of an item's podcast:transcript
// elements, the file prodcast can read: WebVTT, else SubRip.
func transcripts(base *url.URL, it *gofeed.Item, channelLang string) []ImportedTranscript {
	var out []ImportedTranscript
	at := map[string]int{} // by language, the index in out
	for _, e := range it.Extensions["podcast"]["transcript"] {
		var name string
		switch strings.ToLower(strings.TrimSpace(e.Attrs["type"])) {
		case "text/vtt":
			name = "transcript.vtt"
		case "application/x-subrip", "application/srt", "text/srt":
			name = "transcript.srt"
		default:
			continue
		}
		u, err := resolve(base, e.Attrs["url"])
		if err != nil {
			continue
		}
		lang := strings.TrimSpace(e.Attrs["language"])
		if lang == "" {
			lang = strings.TrimSpace(channelLang)
		}
		t := ImportedTranscript{URL: u, Name: name, Language: lang}
		if i, ok := at[strings.ToLower(lang)]; ok {
			if out[i].Name == "transcript.srt" && name == "transcript.vtt" {
				out[i] = t
			}
			continue
		}
		at[strings.ToLower(lang)] = len(out)
		out = append(out, t)
	}
	return out
}

// guests are an item's podcast:person elements of role guest (the role
// is host when absent, as the namespace says).
func guests(it *gofeed.Item) []pipeline.Guest {
	var out []pipeline.Guest
	for _, p := range it.Extensions["podcast"]["person"] {
		if !strings.EqualFold(p.Attrs["role"], "guest") || strings.TrimSpace(p.Value) == "" {
			continue
		}
		g := pipeline.Guest{Name: strings.TrimSpace(p.Value)}
		if href := strings.TrimSpace(p.Attrs["href"]); isHTTPURL(href) {
			g.URL = href
		}
		if img := strings.TrimSpace(p.Attrs["img"]); isHTTPURL(img) {
			g.Img = img
		}
		out = append(out, g)
	}
	return out
}

// soundbites are an item's podcast:soundbite elements that make sense.
func soundbites(it *gofeed.Item) []pipeline.Soundbite {
	var out []pipeline.Soundbite
	for _, e := range it.Extensions["podcast"]["soundbite"] {
		start, err1 := strconv.ParseFloat(e.Attrs["startTime"], 64)
		dur, err2 := strconv.ParseFloat(e.Attrs["duration"], 64)
		if err1 == nil && err2 == nil && start >= 0 && dur > 0 && dur <= 120 {
			out = append(out, pipeline.Soundbite{Start: pipeline.Seconds(start), Duration: pipeline.Seconds(dur), Title: strings.TrimSpace(e.Value)})
		}
	}
	return out
}

// social are an item's podcast:socialInteract elements.
func social(it *gofeed.Item) []pipeline.Social {
	var out []pipeline.Social
	for _, e := range it.Extensions["podcast"]["socialInteract"] {
		p := e.Attrs["protocol"]
		if slices.Contains(pipeline.SocialProtocols, p) && (p == "disabled" || isHTTPURL(e.Attrs["uri"])) {
			out = append(out, pipeline.Social{Protocol: p, URI: e.Attrs["uri"], AccountID: e.Attrs["accountId"]})
		}
	}
	return out
}

// pscChapters are an item's Podlove Simple Chapters.
func pscChapters(it *gofeed.Item) []pipeline.Chapter {
	var out []pipeline.Chapter
	for _, block := range it.Extensions["psc"]["chapters"] {
		for _, c := range block.Children["chapter"] {
			start, err := chapters.ParseTime(strings.TrimSpace(c.Attrs["start"]))
			if err != nil || strings.TrimSpace(c.Attrs["title"]) == "" {
				continue
			}
			ch := pipeline.Chapter{Start: start, Title: strings.TrimSpace(c.Attrs["title"])}
			if isHTTPURL(c.Attrs["href"]) {
				ch.URL = c.Attrs["href"]
			}
			out = append(out, ch)
		}
	}
	return out
}

// resolve makes an enclosure URL absolute: spaces around it go, and a
// relative one is resolved against the feed's URL.
func resolve(base *url.URL, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("its enclosure URL %q cannot be read: %v", raw, err)
	}
	if !u.IsAbs() {
		if base == nil {
			return "", fmt.Errorf("its enclosure URL %q is relative; import the feed from its URL, so that it can be resolved", raw)
		}
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("its enclosure URL %q is not http(s)", raw)
	}
	return u.String(), nil
}

// mediaAliases are the non-standard enclosure types feeds in the wild give,
// by the standard type podcast apps take them for.
var mediaAliases = map[string]string{
	"audio/mp3": "audio/mpeg", "audio/mpeg3": "audio/mpeg", "audio/x-mp3": "audio/mpeg", "audio/x-mpeg": "audio/mpeg",
	"audio/x-mpeg-3": "audio/mpeg", "audio/mpg": "audio/mpeg", "audio/x-mpg": "audio/mpeg", "x-audio/mp3": "audio/mpeg",
	"x-audio/mpeg": "audio/mpeg", "audio/mpeg-3": "audio/mpeg",
	"audio/m4a": "audio/x-m4a", "audio/mp4a-latm": "audio/x-m4a", "audio/x-mp4": "audio/x-m4a", "audio/aac": "audio/aac",
	"audio/x-aac": "audio/aac", "audio/vorbis": "audio/ogg", "audio/x-ogg": "audio/ogg", "application/ogg": "audio/ogg",
	"audio/x-opus": "audio/opus", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav", "audio/vnd.wave": "audio/wav",
	"audio/x-flac": "audio/flac", "video/x-m4v": "video/x-m4v", "video/quicktime": "video/quicktime",
}

// MediaType is the enclosure type to publish: the feed's own when it is a
// standard audio or video type, the standard type of a known alias
// (x-audio/mp3 is audio/mpeg), else the type its extension says. ok is
// false when none of these is audio or video: such an enclosure would
// make every feed of the show fail validation.
func MediaType(given, media string) (typ string, ok bool) {
	t, _, err := mime.ParseMediaType(strings.TrimSpace(given))
	t = strings.ToLower(t)
	if std, known := mediaAliases[t]; known {
		return std, true
	}
	if err == nil && (strings.HasPrefix(t, "audio/") || strings.HasPrefix(t, "video/")) {
		return t, true
	}
	if u, err := url.Parse(media); err == nil {
		switch strings.ToLower(path.Ext(u.Path)) {
		case ".mp3":
			return "audio/mpeg", true
		case ".m4a":
			return "audio/x-m4a", true
		case ".mp4":
			return "video/mp4", true
		case ".ogg", ".oga":
			return "audio/ogg", true
		case ".opus":
			return "audio/opus", true
		}
		if t := mime.TypeByExtension(path.Ext(u.Path)); strings.HasPrefix(t, "audio/") || strings.HasPrefix(t, "video/") {
			t, _, _ = strings.Cut(t, ";")
			return t, true
		}
	}
	if strings.TrimSpace(given) == "" {
		return "audio/mpeg", true // no type at all: what nearly every feed holds
	}
	return "", false
}

// twoDigitYear are the RFC 822 layouts with a two-digit year, which RFC 822
// itself allows and old feeds use ("Thu, 01 Jan 70 00:00:00 GMT").
var twoDigitYear = []string{
	"Mon, 02 Jan 06 15:04:05 MST", "Mon, 02 Jan 06 15:04:05 -0700", "Mon, 2 Jan 06 15:04:05 MST", "Mon, 2 Jan 06 15:04:05 -0700",
	"02 Jan 06 15:04:05 MST", "02 Jan 06 15:04:05 -0700", "2 Jan 06 15:04:05 MST", "2 Jan 06 15:04:05 -0700",
	"Mon, 02 Jan 06 15:04 MST", "Mon, 02 Jan 06 15:04 -0700", "02 Jan 06 15:04 MST", "02 Jan 06 15:04 -0700",
}

// pubDate is an item's publish date: as parsed, with RFC 822's two-digit
// years read as 19xx or 20xx; now when the item has none.
func pubDate(it *gofeed.Item) (time.Time, error) {
	raw := strings.TrimSpace(it.Published)
	if t, ok := readDate(raw, it.PublishedParsed); ok {
		return t, nil
	}
	if raw == "" {
		return time.Now().UTC(), nil
	}
	return time.Time{}, fmt.Errorf("its date %q cannot be read; give it as in RFC 822 (Thu, 01 Jan 2026 09:00:00 GMT)", raw)
}

// readDate reads an RFC 822 date as a feed gives it (raw) and as gofeed
// parsed it: two-digit years, which RFC 822 allows, as 19xx or 20xx.
func readDate(raw string, parsed *time.Time) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	for _, layout := range twoDigitYear {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), true
		}
	}
	if parsed != nil && parsed.Year() >= 1900 {
		return parsed.UTC(), true
	}
	return time.Time{}, false
}

var (
	cdataSection = regexp.MustCompile(`(?s)<!\[CDATA\[.*?\]\]>`)
	xmlComment   = regexp.MustCompile(`(?s)<!--.*?-->`)
	itemTag      = regexp.MustCompile(`<(?:item|entry)[\s>/]`)
	channelStart = regexp.MustCompile(`<channel[\s>]`)
)

// countItems counts the items (or Atom entries) of a feed as written,
// outside CDATA and comments, whatever a lenient parser makes of them.
func countItems(data []byte) int {
	data = cdataSection.ReplaceAll(data, nil)
	data = xmlComment.ReplaceAll(data, nil)
	return len(itemTag.FindAll(data, -1))
}

// describeBroken says where a feed is broken: the first error of a strict
// XML reading, with its line, or what is missing.
func describeBroken(data []byte, parseErr error) string {
	if len(bytes.TrimSpace(data)) == 0 {
		return "it is empty"
	}
	root, err := readXML(data, true)
	switch {
	case root == "html":
		return "it is an HTML page, not a feed (is the URL the feed's?)"
	case err != nil:
		return "it is not well-formed XML: " + err.Error()
	case root == "rss" && !channelStart.Match(data):
		return "its <rss> has no <channel>, so its items belong to nothing"
	case parseErr != nil:
		return parseErr.Error()
	}
	return "the XML reads, but some items sit outside the <channel> where they belong"
}

// CheckXML checks what a strict XML parser checks before gofeed's lenient
// one reads a feed: that it is XML, well-formed, with no text before its
// declaration and no undefined entity, and that it is an RSS feed. Apps
// with strict parsers refuse a feed that fails any of these.
func CheckXML(data []byte) []Problem {
	problem := func(rule, msg string) []Problem {
		return []Problem{{Rule: rule, Source: "XML 1.0, RSS 2.0", Severity: Error, Where: "feed", Message: msg}}
	}
	unmarked := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a byte-order mark may come first
	trimmed := bytes.TrimLeft(unmarked, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return problem("xml-well-formed", "the feed is empty")
	case trimmed[0] != '<':
		return problem("xml-well-formed", fmt.Sprintf("there is text before the XML (%q): the feed must start with <?xml or <rss", firstLine(trimmed)))
	case !bytes.HasPrefix(unmarked, []byte("<?xml")) && bytes.Contains(data, []byte("<?xml")):
		return problem("xml-well-formed", "something comes before the <?xml ...?> declaration, which must be the very first thing in the file")
	}
	root, err := readXML(data, false)
	if root != "" && root != "rss" {
		what := map[string]string{"feed": "an Atom feed", "html": "an HTML page", "RDF": "an RSS 1.0 (RDF) feed"}[root]
		if what == "" {
			what = "<" + root + ">"
		}
		return problem("rss-root", fmt.Sprintf("this is %s: prodcast validate checks RSS 2.0 podcast feeds, whose root is <rss> (prodcast import reads Atom too)", what))
	}
	if err != nil {
		return problem("xml-well-formed", "the feed is not well-formed XML, which strict parsers refuse: "+err.Error())
	}
	return nil
}

// readXML reads data as a strict XML parser does (in the encoding it
// declares; with HTML's entities when lenient) and returns its root
// element's name, or the first error with its line.
func readXML(data []byte, htmlEntities bool) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charset.NewReaderLabel
	if htmlEntities {
		d.Entity = xml.HTMLEntity
	}
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return root, nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return root, fmt.Errorf("line %d: %s", se.Line, se.Msg)
			}
			return root, err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	if len(line) > 40 {
		line = line[:40]
	}
	return string(line)
}

func ptr[T any](v T) *T { return &v }

// parseDuration reads itunes:duration: seconds, MM:SS or HH:MM:SS.
func parseDuration(s string) float64 {
	parts := strings.Split(strings.TrimSpace(s), ":")
	total := 0.0
	for _, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return 0
		}
		total = total*60 + v
	}
	return total
}
