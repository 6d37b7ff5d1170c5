package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gosimple/slug"
	"gopkg.in/yaml.v3"

	"github.com/prodcast/prodcast/pipeline"
)

// NotesFile is the name of the show-notes file in a bundle.
const NotesFile = "episode.md"

// ErrorFile is the name of the explanation written next to a failed bundle.
// It is ignored when the bundle is dropped again.
const ErrorFile = "ERROR.txt"

// AudioExts are the recording formats a bundle may hold.
var AudioExts = []string{".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus"}

// Bundle is a parsed drop: the recording, its metadata and its notes.
type Bundle struct {
	Name      string        // folder or file name in drop/
	Recording string        // file name of the one recording; "" for an update without one
	Meta      pipeline.Meta // front matter; Title may be empty for a lone file
	Notes     string        // Markdown after the front matter
	HasNotes  bool          // whether episode.md was present
	Extras    []string      // cover, chapters, transcript: kept, used later
}

// Ignored reports whether a file name in drop/ is never part of a bundle:
// dotfiles, partial downloads and editor backups.
func Ignored(name string) bool {
	base := path.Base(name)
	if strings.HasPrefix(base, ".") || strings.HasSuffix(base, "~") {
		return true
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".part", ".tmp", ".crdownload", ".partial", ".download", ".swp":
		return true
	}
	return false
}

// Partial reports whether a file name is that of a download or copy still
// under way: a bundle holding one is not taken until it is gone.
func Partial(name string) bool {
	switch strings.ToLower(path.Ext(path.Base(name))) {
	case ".part", ".tmp", ".crdownload", ".partial", ".download":
		return true
	}
	return false
}

// IsAudio reports whether name has one of AudioExts.
func IsAudio(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	for _, a := range AudioExts {
		if ext == a {
			return true
		}
	}
	return false
}

// Parse classifies the files of a bundle and parses its episode.md, given
// as notes (nil when the bundle has none).
func Parse(name string, files []string, notes []byte) (*Bundle, error) {
	b := &Bundle{Name: name}
	var recordings []string
	for _, f := range files {
		switch {
		case Ignored(f) || f == ErrorFile:
		case f == NotesFile:
			b.HasNotes = true
		case IsAudio(f):
			recordings = append(recordings, f)
		default:
			b.Extras = append(b.Extras, f)
		}
	}
	sort.Strings(recordings)
	switch len(recordings) {
	case 0:
		if b.HasNotes {
			break // an update of an episode's notes, chapters, transcript or art; the ingest checks the episode exists
		}
		return nil, pipeline.Inputf(
			"add one recording ("+strings.Join(AudioExts, ", ")+") to the bundle folder",
			"bundle %q has no recording", name)
	case 1:
		b.Recording = recordings[0]
	default:
		return nil, pipeline.Inputf(
			"keep exactly one recording in the bundle; move the others out",
			"bundle %q has %d recordings (%s)", name, len(recordings), strings.Join(recordings, ", "))
	}
	if notes == nil {
		return b, nil
	}
	if !b.HasNotes {
		return nil, fmt.Errorf("bundle %q: notes given but no %s listed", name, NotesFile)
	}
	meta, body, err := ParseNotes(notes)
	if err != nil {
		return nil, err
	}
	b.Meta, b.Notes = meta, body
	return b, nil
}

// ParseNotes splits episode.md into its YAML front matter and Markdown body,
// and checks the front matter.
func ParseNotes(data []byte) (pipeline.Meta, string, error) {
	var meta pipeline.Meta
	if err := checkEncoding(data); err != nil {
		return meta, "", err
	}
	front, body, err := splitFrontMatter(data)
	if err != nil {
		return meta, "", err
	}
	if err := checkTypes(front); err != nil {
		return meta, "", err
	}
	dec := yaml.NewDecoder(bytes.NewReader(front))
	dec.KnownFields(true)
	if err := dec.Decode(&meta); err != nil && !errors.Is(err, io.EOF) {
		return meta, "", &pipeline.InputError{
			Problem: "the front matter of episode.md is not valid YAML",
			Fix:     "fix the YAML between the two --- lines (keys are title, slug, guests, publish_at, season, episode, type, explicit, summary, tags, soundbites, social, license, location, txt)",
			Err:     err,
		}
	}
	if strings.TrimSpace(meta.Title) == "" {
		return meta, "", pipeline.Inputf(`add a line such as "title: Moving a Flask app to Python 3" to the front matter`,
			`episode.md has no "title"`)
	}
	if err := checkMeta(&meta); err != nil {
		return meta, "", err
	}
	return meta, string(body), nil
}

func splitFrontMatter(data []byte) (front, body []byte, err error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM from Windows editors
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return nil, nil, pipeline.Inputf(
			`start episode.md with a line "---", then "title: ...", then another "---" line, then the notes`,
			"episode.md has no front matter")
	}
	rest := data[len("---\n"):]
	end := bytes.Index(rest, []byte("\n---"))
	if end < 0 {
		return nil, nil, pipeline.Inputf(`close the front matter with a line "---"`,
			"the front matter of episode.md is not closed")
	}
	front = rest[:end+1]
	body = rest[end+len("\n---"):]
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	} else {
		body = nil
	}
	return front, body, nil
}

func checkMeta(m *pipeline.Meta) error {
	m.Title = strings.TrimSpace(m.Title)
	if m.Slug == "" {
		m.Slug = SlugFromTitle(m.Title)
	} else if Slug(m.Slug) != m.Slug {
		return pipeline.Inputf(fmt.Sprintf("use slug: %s", Slug(m.Slug)),
			"slug %q may hold only lower-case letters, digits and dashes", m.Slug)
	}
	if m.Slug == "" {
		return pipeline.Inputf(`add a "slug" made of letters and digits`, "cannot make a slug from title %q", m.Title)
	}
	switch strings.ToLower(m.Type) {
	case "", "full", "trailer", "bonus":
	default:
		return pipeline.Inputf(`set type to full, trailer or bonus`, "type %q is not an episode type", m.Type)
	}
	if l := m.TranscriptLanguage; l != "" && !pipeline.IsLanguageTag(l) {
		return pipeline.Inputf("set transcript_language to a language tag such as en, de or pt-BR",
			"transcript_language %q is not a language tag", l)
	}
	if m.Season < 0 || m.Episode < 0 {
		return pipeline.Inputf("use positive numbers", "season and episode must not be negative")
	}
	for i, g := range m.Guests {
		if strings.TrimSpace(g.Name) == "" {
			return pipeline.Inputf("give every guest a name", "guest %d has no name", i+1)
		}
		if g.Img != "" && !isHTTPURL(g.Img) {
			return pipeline.Inputf("give img as a full web address, such as https://example.com/ada.jpg",
				"the img of guest %d (%q) is not an http(s) address", i+1, g.Img)
		}
	}
	if l := m.License; l != nil && (strings.TrimSpace(l.Name) == "" || (l.URL != "" && !isHTTPURL(l.URL))) {
		return pipeline.Inputf("give license a name (an SPDX id such as CC-BY-4.0) and, if you like, an http(s) url", "the episode's license is incomplete")
	}
	if l := m.Location; l != nil {
		if strings.TrimSpace(l.Name) == "" {
			return pipeline.Inputf("give location a name, such as Berlin", "the episode's location has no name")
		}
		if l.Geo != "" {
			if err := pipeline.CheckGeo(l.Geo); err != nil {
				return pipeline.Inputf("write geo as geo:LATITUDE,LONGITUDE", "the episode's location: %v", err)
			}
		}
	}
	for i, t := range m.TXT {
		if strings.TrimSpace(t.Value) == "" || len(t.Value) > 4000 || len(t.Purpose) > 128 {
			return pipeline.Inputf("give each txt a value of 1 to 4,000 characters", "txt %d of the episode is empty or too long", i+1)
		}
	}
	for i, so := range m.Social {
		if !slices.Contains(pipeline.SocialProtocols, so.Protocol) {
			return pipeline.Inputf("use one of "+strings.Join(pipeline.SocialProtocols, ", "),
				"social %d has protocol %q", i+1, so.Protocol)
		}
		if so.Protocol != "disabled" && !isHTTPURL(so.URI) {
			return pipeline.Inputf("give uri as the full address of the post, such as https://mastodon.social/@show/1234",
				"social %d has uri %q", i+1, so.URI)
		}
	}
	for i, sb := range m.Soundbites {
		switch {
		case sb.Start < 0 || sb.Duration <= 0:
			return pipeline.Inputf("give start (from 0) and duration (more than 0) in seconds, such as start: 65.5, duration: 30",
				"soundbite %d has start %.1f and duration %.1f", i+1, sb.Start, sb.Duration)
		case sb.Duration > 120:
			return pipeline.Inputf("keep a soundbite to a minute or two", "soundbite %d lasts %.0f s", i+1, sb.Duration)
		case len(sb.Title) > 128:
			return pipeline.Inputf("shorten its title to 128 characters", "soundbite %d has a title of %d characters", i+1, len(sb.Title))
		}
	}
	for i, t := range m.Tags {
		m.Tags[i] = Slug(t)
	}
	if err := checkLimits(m); err != nil {
		return err
	}
	if err := checkSchedule(m.PublishAt, time.Now()); err != nil {
		return err
	}
	if m.PublishAt != nil {
		t := m.PublishAt.UTC().Truncate(time.Second)
		m.PublishAt = &t
	}
	return nil
}

// Slug turns a title into the lower-case, dash-separated form used in URLs
// and object keys: "Moving to Python 3!" becomes "moving-to-python-3".
func Slug(s string) string {
	return slug.Make(s)
}

// SlugFromTitle is the slug an episode gets from its title: Slug, cut to
// MaxSlug characters.
func SlugFromTitle(title string) string { return shortSlug(Slug(title)) }

// TitleFromFile turns a file name into a title when nothing better is known:
// "ep-12_flask_patterns.mp3" becomes "ep 12 flask patterns".
func TitleFromFile(name string) string {
	base := strings.TrimSuffix(path.Base(name), path.Ext(name))
	return strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ").Replace(base))
}
