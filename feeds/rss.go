package feeds

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/eduncan911/podcast"
	"github.com/google/uuid"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/chapters"
	"github.com/prodcast/prodcast/pipeline/markdown"
	"github.com/prodcast/prodcast/pipeline/transcript"
)

// Generator names prodcast in the feed's <generator>.
const Generator = "prodcast (github.com/eduncan911/podcast)"

// podcastNamespaceUUID is the UUIDv5 namespace the Podcasting 2.0 spec
// gives for podcast:guid.
var podcastNamespaceUUID = uuid.MustParse("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

type rss struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	ITunes  string   `xml:"xmlns:itunes,attr"`
	Atom    string   `xml:"xmlns:atom,attr"`
	Content string   `xml:"xmlns:content,attr"`
	Podcast string   `xml:"xmlns:podcast,attr"`
	PSC     string   `xml:"xmlns:psc,attr"`
	Channel *channel
}

// channel extends podcast.Podcast; fields here shadow the embedded ones.
type channel struct {
	XMLName xml.Name `xml:"channel"`
	podcast.Podcast
	// Hubs are the WebSub hubs, as raw <atom:link rel="hub"> elements: a
	// field named atom:link would hide the library's self link.
	Hubs    string   `xml:",innerxml"`
	Podping *podping `xml:"podcast:podping,omitempty"`
	IType   string   `xml:"itunes:type,omitempty"`
	PGUID   string   `xml:"podcast:guid,omitempty"`
	Locked  *locked  `xml:"podcast:locked,omitempty"`
	Fund    *funding `xml:"podcast:funding,omitempty"`
	Images  []image  `xml:"podcast:image"`
	// The settings of show.yaml, each only when set.
	TXT        []txt       `xml:"podcast:txt"`
	License    *license    `xml:"podcast:license,omitempty"`
	Location   *location   `xml:"podcast:location,omitempty"`
	Medium     string      `xml:"podcast:medium,omitempty"`
	UpdateFreq *updateFreq `xml:"podcast:updateFrequency,omitempty"`
	Podroll    *podroll    `xml:"podcast:podroll,omitempty"`
	Publisher  *publisher  `xml:"podcast:publisher,omitempty"`
	PBlock     string      `xml:"podcast:block,omitempty"`
	Trailers   []trailer   `xml:"podcast:trailer"`
	Value      *value      `xml:"podcast:value,omitempty"`
}

// image is podcast:image: one size of the show's or an episode's art.
type image struct {
	Href   string `xml:"href,attr"`
	Alt    string `xml:"alt,attr,omitempty"`
	Aspect string `xml:"aspect-ratio,attr,omitempty"`
	Width  int    `xml:"width,attr,omitempty"`
	Height int    `xml:"height,attr,omitempty"`
	Type   string `xml:"type,attr,omitempty"`
}

// images are the podcast:image tags of art's sizes: those apps read
// (JPEG, PNG), largest first.
func images(show *pipeline.Show, sizes []pipeline.Image, alt string) []image {
	var out []image
	for _, s := range sizes {
		if s.Type != "image/jpeg" && s.Type != "image/png" {
			continue
		}
		im := image{Href: show.PublicURL(s.Key), Alt: clean(alt), Width: s.Width, Height: s.Height, Type: s.Type}
		if s.Width > 0 && s.Height > 0 {
			g := gcd(s.Width, s.Height)
			im.Aspect = strconv.Itoa(s.Width/g) + "/" + strconv.Itoa(s.Height/g)
		}
		out = append(out, im)
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

type txt struct {
	Purpose string `xml:"purpose,attr,omitempty"`
	Value   string `xml:",chardata"`
}

type license struct {
	URL  string `xml:"url,attr,omitempty"`
	Name string `xml:",chardata"`
}

type location struct {
	Geo  string `xml:"geo,attr,omitempty"`
	OSM  string `xml:"osm,attr,omitempty"`
	Name string `xml:",chardata"`
}

type updateFreq struct {
	RRule    string `xml:"rrule,attr,omitempty"`
	Complete string `xml:"complete,attr,omitempty"`
	Text     string `xml:",chardata"`
}

type remoteItem struct {
	FeedGUID string `xml:"feedGuid,attr"`
	FeedURL  string `xml:"feedUrl,attr,omitempty"`
	Medium   string `xml:"medium,attr,omitempty"`
}

type podroll struct {
	Items []remoteItem `xml:"podcast:remoteItem"`
}

type publisher struct {
	Item remoteItem `xml:"podcast:remoteItem"`
}

type value struct {
	Type       string           `xml:"type,attr"`
	Method     string           `xml:"method,attr"`
	Suggested  string           `xml:"suggested,attr,omitempty"`
	Recipients []valueRecipient `xml:"podcast:valueRecipient"`
}

type valueRecipient struct {
	Name        string `xml:"name,attr,omitempty"`
	CustomKey   string `xml:"customKey,attr,omitempty"`
	CustomValue string `xml:"customValue,attr,omitempty"`
	Type        string `xml:"type,attr"`
	Address     string `xml:"address,attr"`
	Split       int    `xml:"split,attr"`
	Fee         string `xml:"fee,attr,omitempty"`
}

type socialInteract struct {
	Protocol  string `xml:"protocol,attr"`
	URI       string `xml:"uri,attr,omitempty"`
	AccountID string `xml:"accountId,attr,omitempty"`
}

type trailer struct {
	PubDate string `xml:"pubdate,attr"`
	URL     string `xml:"url,attr"`
	Length  int64  `xml:"length,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Season  int    `xml:"season,attr,omitempty"`
	Title   string `xml:",chardata"`
}

// settings sets the channel tags that show.yaml asks for.
func (ch *channel) settings(show *pipeline.Show, live []*pipeline.Manifest) {
	st := show.Settings
	for _, t := range st.TXT {
		ch.TXT = append(ch.TXT, txt{Purpose: t.Purpose, Value: clean(t.Value)})
	}
	if st.License.Name != "" {
		ch.License = &license{URL: st.License.URL, Name: clean(st.License.Name)}
	}
	if st.Location.Name != "" {
		ch.Location = &location{Geo: st.Location.Geo, OSM: st.Location.OSM, Name: clean(st.Location.Name)}
	}
	ch.Medium = st.Medium
	if u := st.UpdateFrequency; u.Text != "" {
		ch.UpdateFreq = &updateFreq{RRule: u.RRule, Text: clean(u.Text)}
		if u.Complete {
			ch.UpdateFreq.Complete = "true"
		}
	}
	if len(st.Podroll) > 0 {
		ch.Podroll = &podroll{}
		for _, r := range st.Podroll {
			ch.Podroll.Items = append(ch.Podroll.Items, remoteItem{FeedGUID: r.FeedGUID, FeedURL: r.FeedURL})
		}
	}
	if st.Publisher.FeedGUID != "" {
		ch.Publisher = &publisher{Item: remoteItem{FeedGUID: st.Publisher.FeedGUID, FeedURL: st.Publisher.FeedURL, Medium: "publisher"}}
	}
	if st.Block {
		ch.PBlock, ch.Podcast.IBlock = "yes", "Yes" // the library writes the itunes: ones
	}
	if st.Complete {
		ch.Podcast.IComplete = "Yes"
	}
	ch.Podcast.INewFeedURL = st.NewFeedURL
	if v := st.Value; v != nil {
		ch.Value = &value{Type: v.Type, Method: v.Method, Suggested: v.Suggested}
		for _, r := range v.Recipients {
			vr := valueRecipient{Name: clean(r.Name), CustomKey: r.CustomKey, CustomValue: r.CustomValue, Type: r.Type,
				Address: r.Address, Split: r.Split}
			if r.Fee {
				vr.Fee = "true"
			}
			ch.Value.Recipients = append(ch.Value.Recipients, vr)
		}
	}
	for _, m := range live {
		if m.Meta.Type == "trailer" && m.MP3 != nil {
			ch.Trailers = append(ch.Trailers, trailer{PubDate: m.PubDate().Format(time.RFC1123Z), URL: mediaURL(show, m.MP3.Key),
				Length: m.MP3.Bytes, Type: m.MP3.ContentType, Season: m.Meta.Season, Title: clean(m.Meta.Title)})
		}
	}
}

type podping struct {
	UsesPodping string `xml:"usesPodping,attr"`
}

// PodcastGUID is the show's podcast:guid: UUIDv5 of its feed URL without
// the scheme, as the namespace prescribes.
func PodcastGUID(show *pipeline.Show) string {
	return uuid.NewSHA1(podcastNamespaceUUID, []byte(feedHostPath(show.FeedURL()))).String()
}

// mediaURL is the URL of a media file in the feed: with OP3's prefix when
// the show asks for it (https:// dropped, as OP3 documents; http:// kept).
func mediaURL(show *pipeline.Show, key string) string {
	u := show.PublicURL(key)
	if !show.Analytics.OP3 {
		return u
	}
	return "https://op3.dev/e,pg=" + PodcastGUID(show) + "/" + strings.TrimPrefix(u, "https://")
}

// hubLinks renders <atom:link rel="hub"> for each WebSub hub.
func hubLinks(hubs []string) (string, error) {
	var b bytes.Buffer
	for _, h := range hubs {
		b.WriteString("\n    <atom:link rel=\"hub\" href=\"")
		if err := xml.EscapeText(&b, []byte(h)); err != nil {
			return "", err
		}
		b.WriteString("\"></atom:link>")
	}
	return b.String(), nil
}

type locked struct {
	Owner string `xml:"owner,attr,omitempty"`
	Value string `xml:",chardata"`
}

type funding struct {
	URL  string `xml:"url,attr"`
	Text string `xml:",chardata"`
}

// item extends podcast.Item; GUID shadows the library's plain string.
type item struct {
	podcast.Item
	GUID         guid             `xml:"guid"`
	Encoded      *cdata           `xml:"content:encoded,omitempty"`
	IEpisode     int              `xml:"itunes:episode,omitempty"`
	ISeason      int              `xml:"itunes:season,omitempty"`
	IEpisodeType string           `xml:"itunes:episodeType,omitempty"`
	PSeason      int              `xml:"podcast:season,omitempty"`
	PEpisode     int              `xml:"podcast:episode,omitempty"`
	Images       []image          `xml:"podcast:image"`
	Persons      []person         `xml:"podcast:person"`
	Chapters     *chaptersRef     `xml:"podcast:chapters,omitempty"`
	Transcripts  []transcriptRef  `xml:"podcast:transcript"`
	PSC          *psc             `xml:"psc:chapters,omitempty"`
	Alternates   []alternate      `xml:"podcast:alternateEnclosure"`
	Soundbites   []soundbite      `xml:"podcast:soundbite"`
	Social       []socialInteract `xml:"podcast:socialInteract"`
	TXT          []txt            `xml:"podcast:txt"`
	License      *license         `xml:"podcast:license,omitempty"`
	Location     *location        `xml:"podcast:location,omitempty"`
}

type soundbite struct {
	Start    string `xml:"startTime,attr"`
	Duration string `xml:"duration,attr"`
	Title    string `xml:",chardata"`
}

type person struct {
	Role  string `xml:"role,attr,omitempty"`
	Group string `xml:"group,attr,omitempty"`
	Img   string `xml:"img,attr,omitempty"`
	Href  string `xml:"href,attr,omitempty"`
	Name  string `xml:",chardata"`
}

type chaptersRef struct {
	URL  string `xml:"url,attr"`
	Type string `xml:"type,attr"`
}

type transcriptRef struct {
	URL      string `xml:"url,attr"`
	Type     string `xml:"type,attr"`
	Language string `xml:"language,attr,omitempty"`
	Rel      string `xml:"rel,attr,omitempty"`
}

// psc is Podlove Simple Chapters, which gPodder and Podlove players read.
type psc struct {
	Version  string       `xml:"version,attr"`
	Chapters []pscChapter `xml:"psc:chapter"`
}

type pscChapter struct {
	Start string `xml:"start,attr"`
	Title string `xml:"title,attr"`
	Href  string `xml:"href,attr,omitempty"`
}

type alternate struct {
	Type    string `xml:"type,attr"`
	Length  int64  `xml:"length,attr"`
	Bitrate int    `xml:"bitrate,attr,omitempty"`
	Title   string `xml:"title,attr,omitempty"`
	Default bool   `xml:"default,attr,omitempty"`
	Source  source `xml:"podcast:source"`
}

type source struct {
	URI string `xml:"uri,attr"`
}

type guid struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type cdata struct {
	Value string `xml:",cdata"`
}

// Build renders the podcast RSS for the episodes that are live at now.
func Build(show *pipeline.Show, episodes []*pipeline.Manifest, now time.Time) ([]byte, error) {
	xml, _, err := new(Builder).Build(show, episodes, now)
	return xml, err
}

// live is the episodes of the feed at now, newest first as given.
func live(episodes []*pipeline.Manifest, now time.Time) []*pipeline.Manifest {
	var out []*pipeline.Manifest
	for _, m := range episodes {
		if m.Live(now) && m.MP3 != nil {
			out = append(out, m)
		}
	}
	return out
}

// buildChannel renders the feed without its items, and returns the
// library's podcast that items are added to.
func buildChannel(show *pipeline.Show, live []*pipeline.Manifest, now time.Time) ([]byte, *podcast.Podcast, error) {
	updated := now
	if len(live) > 0 {
		updated = live[0].PubDate()
	}
	p := podcast.New(clean(show.Title), show.URL("/"), clean(show.Description), &updated, &now)
	p.Language = show.Language
	p.Generator = Generator
	p.AddAtomLink(show.FeedURL())
	p.IAuthor = clean(show.Author) // AddAuthor would write "email (name)"
	if show.Owner.Email != "" {
		p.IOwner = &podcast.Author{Name: clean(show.Owner.Name), Email: show.Owner.Email}
	}
	if art := show.ArtURL(); art != "" {
		p.AddImage(art)
	}
	if show.Category != "" {
		var subs []string
		if show.Subcategory != "" {
			subs = []string{show.Subcategory}
		}
		p.AddCategory(show.Category, subs)
	}
	p.IExplicit = strconv.FormatBool(show.Explicit)
	ch := &channel{
		Podcast: p,
		IType:   "episodic",
		PGUID:   PodcastGUID(show),
	}
	if show.Owner.Email != "" {
		ch.Locked = &locked{Owner: show.Owner.Email, Value: "yes"}
	}
	targets := show.Targets()
	hubs, err := hubLinks(targets.WebSubHubs)
	if err != nil {
		return nil, nil, err
	}
	ch.Hubs = hubs
	if targets.PodpingToken != "" {
		ch.Podping = &podping{UsesPodping: "true"}
	}
	if show.Funding.URL != "" {
		ch.Fund = &funding{URL: show.Funding.URL, Text: clean(show.Funding.Text)}
	}
	ch.Images = images(show, show.ArtSizes, show.Title)
	ch.settings(show, live)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	err = enc.Encode(rss{
		Version: "2.0",
		ITunes:  "http://www.itunes.com/dtds/podcast-1.0.dtd",
		Atom:    "http://www.w3.org/2005/Atom",
		Content: "http://purl.org/rss/1.0/modules/content/",
		Podcast: "https://podcastindex.org/namespace/1.0",
		PSC:     "http://podlove.org/simple-chapters",
		Channel: ch,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot encode the feed: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), &p, nil
}

// encodeItem renders one item as it sits in the feed: on a new line,
// indented under <channel>.
func encodeItem(it *item) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('\n')
	enc := xml.NewEncoder(&buf)
	enc.Indent("    ", "  ")
	if err := enc.Encode(it); err != nil {
		return nil, fmt.Errorf("cannot encode episode %q: %w", it.Title, err)
	}
	return buf.Bytes(), nil
}

func buildItem(p *podcast.Podcast, show *pipeline.Show, m *pipeline.Manifest) (*item, error) {
	if m.GUID == "" {
		return nil, fmt.Errorf("episode %q is published but has no GUID", m.Slug)
	}
	pub := m.PubDate()
	notes := markdown.Notes(m.NotesMD, m.NotesHTML)
	desc := m.Meta.Summary
	if desc == "" {
		desc = markdown.PlainFromHTML(notes, 600)
	}
	if desc == "" {
		desc = m.Meta.Title
	}
	if list := chapterList(m.Chapters); list != nil {
		// Apple (iOS 26.2), Spotify and YouTube read chapters from the
		// description's timestamps, not from podcast:chapters.
		desc += chapterText(list)
		notes += chapterHTML(list)
	}
	pi := podcast.Item{
		Title:       clean(m.Meta.Title),
		Link:        show.EpisodeURL(m.Slug),
		Description: clean(desc),
		PubDate:     &pub,
	}
	pi.AddEnclosure(mediaURL(show, m.MP3.Key), podcast.MP3, m.MP3.Bytes)
	pi.AddDuration(int64(m.MP3.Duration + 0.5))
	pi.IExplicit = strconv.FormatBool(m.Explicit(show))
	if m.Art != "" {
		pi.AddImage(show.PublicURL(m.Art))
	}
	if _, err := p.AddItem(pi); err != nil {
		return nil, fmt.Errorf("cannot add episode %q to the feed: %w", m.Slug, err)
	}
	added := *p.Items[len(p.Items)-1]
	added.IAuthor = clean(show.Author)
	if ct := m.MP3.ContentType; ct != "" && added.Enclosure != nil {
		// An imported episode linked where it is keeps the type its old
		// feed gave it (audio/x-m4a, audio/ogg, video/mp4...), as apps
		// read it: an alias (x-audio/mp3) as its standard type, so that
		// no one item makes the whole feed fail validation.
		if std, ok := MediaType(ct, m.MP3.Key); ok {
			ct = std
		} else {
			ct = "audio/mpeg"
		}
		added.Enclosure.TypeFormatted = ct
	}
	it := &item{
		Item:         added,
		GUID:         guid{IsPermaLink: "false", Value: m.GUID},
		IEpisode:     m.Meta.Episode,
		ISeason:      m.Meta.Season,
		IEpisodeType: m.EpisodeType(),
		PSeason:      m.Meta.Season,
		PEpisode:     m.Meta.Episode,
	}
	it.Images = images(show, m.ArtSizes, m.Meta.Title)
	if show.Author != "" {
		it.Persons = append(it.Persons, person{Role: "host", Name: clean(show.Author)})
	}
	for _, g := range m.Meta.Guests {
		it.Persons = append(it.Persons, person{Role: "guest", Href: g.URL, Img: g.Img, Name: clean(g.Name)})
	}
	if len(m.Chapters) > 0 {
		it.Chapters = &chaptersRef{URL: show.EpisodeURL(m.Slug) + "chapters.json", Type: "application/json+chapters"}
		it.PSC = &psc{Version: "1.2"}
		for _, c := range m.Chapters {
			it.PSC.Chapters = append(it.PSC.Chapters, pscChapter{Start: chapters.Format(c.Start), Title: clean(c.Title), Href: c.URL})
		}
	}
	refs := m.Translations
	if m.Transcript != nil {
		refs = append([]pipeline.TranscriptRef{*m.Transcript}, refs...)
	}
	for _, ref := range refs {
		lang := m.TranscriptLanguage(&ref, show.Language)
		for _, f := range transcript.PublishedAs(ref.Language) {
			t := transcriptRef{URL: show.EpisodeURL(m.Slug) + f.Name, Type: f.Type, Language: lang}
			if f.Type == transcript.TypeVTT {
				t.Rel = "captions"
			}
			it.Transcripts = append(it.Transcripts, t)
		}
	}
	for _, a := range m.Alternates {
		it.Alternates = append(it.Alternates, alternate{Type: a.ContentType, Length: a.Bytes, Bitrate: a.Bitrate,
			Title: formatTitle(a.ContentType), Source: source{URI: mediaURL(show, a.Key)}})
	}
	for _, t := range m.Meta.TXT {
		it.TXT = append(it.TXT, txt{Purpose: t.Purpose, Value: clean(t.Value)})
	}
	if l := m.Meta.License; l != nil {
		it.License = &license{URL: l.URL, Name: clean(l.Name)}
	}
	if l := m.Meta.Location; l != nil {
		it.Location = &location{Geo: l.Geo, OSM: l.OSM, Name: clean(l.Name)}
	}
	for _, so := range m.Meta.Social {
		it.Social = append(it.Social, socialInteract{Protocol: so.Protocol, URI: so.URI, AccountID: so.AccountID})
	}
	for _, sb := range m.Meta.Soundbites {
		it.Soundbites = append(it.Soundbites, soundbite{Start: strconv.FormatFloat(float64(sb.Start), 'f', -1, 64),
			Duration: strconv.FormatFloat(float64(sb.Duration), 'f', -1, 64), Title: clean(sb.Title)})
	}
	if strings.TrimSpace(notes) != "" {
		it.Encoded = &cdata{Value: clean(notes)}
	}
	return it, nil
}

// chapterList is an episode's chapters as "(HH:MM:SS) Title" lines, the
// first at 00:00:00, when it has three or more (fewer are not a list apps
// show); nil otherwise.
func chapterList(cs []pipeline.Chapter) []string {
	if len(cs) < 3 {
		return nil
	}
	var out []string
	if cs[0].Start >= 1 {
		out = append(out, "(00:00:00) Start")
	}
	for _, c := range cs {
		s := int(c.Start)
		out = append(out, fmt.Sprintf("(%02d:%02d:%02d) %s", s/3600, s/60%60, s%60, clean(c.Title)))
	}
	return out
}

// chapterText is the chapter list as it ends the description.
func chapterText(list []string) string { return "\n\n" + strings.Join(list, "\n") }

// chapterHTML is the chapter list as it ends content:encoded.
func chapterHTML(list []string) string {
	var b strings.Builder
	b.WriteString("\n<p>")
	for i, l := range list {
		if i > 0 {
			b.WriteString("<br>\n")
		}
		b.WriteString(html.EscapeString(l))
	}
	b.WriteString("</p>")
	return b.String()
}

func formatTitle(contentType string) string {
	switch contentType {
	case "audio/mp4":
		return "AAC"
	case "audio/ogg":
		return "Opus"
	}
	return ""
}

// clean drops the characters XML 1.0 forbids (control characters pasted
// from word processors); encoding/xml escapes the rest.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF):
			return -1
		case !unicode.IsPrint(r) && unicode.Is(unicode.Cc, r):
			return -1
		}
		return r
	}, s)
}

// feedHostPath is the feed URL without scheme and trailing slashes, as the
// podcast:guid spec asks.
func feedHostPath(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return strings.TrimRight(u, "/")
}
