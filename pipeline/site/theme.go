package site

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/chapters"
)

// Overridable are the files a show's own templates may replace: show.yaml's
// "templates" names a folder holding any of them. base.html defines the
// blocks "head", "foot" and "card" that the pages use.
var Overridable = []string{"base.html", "index.html", "episode.html", "tag.html", "guest.html", "about.html", "style.css"}

var funcs = template.FuncMap{
	"duration": formatDuration,
	"stamp":    func(t any) string { return chapters.Format(seconds(t)) },
	"secs":     func(t any) string { return strconv.FormatFloat(seconds(t), 'f', -1, 64) },
	"clock":    func(f float64) string { return chapters.Format(math.Floor(f)) },
	"ext":      func(name string) string { return strings.ToUpper(strings.TrimPrefix(path.Ext(name), ".")) },
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

// seconds reads a time in an episode, as chapters (float64) and
// soundbites (pipeline.Seconds) hold it.
func seconds(t any) float64 {
	switch v := t.(type) {
	case float64:
		return v
	case pipeline.Seconds:
		return float64(v)
	}
	return 0
}

var builtin = mustTheme(nil)

// theme is the templates and the stylesheet the blog is rendered with.
type theme struct {
	html *template.Template
	css  []byte
	js   []byte // player.js: not a template, not overridable
	key  string // identifies the overrides; "" for the built-in theme
}

func mustTheme(overrides map[string][]byte) *theme {
	t, err := newTheme(overrides)
	if err != nil {
		panic(err)
	}
	return t
}

// newTheme parses the built-in templates, then the overrides over them.
func newTheme(overrides map[string][]byte) (*theme, error) {
	html, err := template.New("").Funcs(funcs).ParseFS(templatesFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	css, err := templatesFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	js, err := templatesFS.ReadFile("templates/player.js")
	if err != nil {
		return nil, err
	}
	t := &theme{html: html, css: css, js: js, key: TemplatesKey(overrides)}
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		data := overrides[name]
		switch {
		case !slices.Contains(Overridable, name):
			return nil, pipeline.Inputf("name the files after the built-in ones: "+strings.Join(Overridable, ", "),
				"template %q would replace nothing", name)
		case name == "style.css":
			t.css = data
		default:
			if _, err := t.html.New(name).Parse(string(data)); err != nil {
				return nil, &pipeline.InputError{Problem: "template " + name + " does not parse",
					Fix: "fix it; the built-in templates are in pipeline/site/templates/", Err: err}
			}
		}
	}
	return t, nil
}

// TemplatesKey identifies a show's own templates: "" for none.
func TemplatesKey(overrides map[string][]byte) string {
	if len(overrides) == 0 {
		return ""
	}
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(overrides[name]))
		h.Write(overrides[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Check reports whether a show's own templates parse and render a sample
// show, so that a broken template is refused before any page is.
func Check(overrides map[string][]byte) error {
	t, err := newTheme(overrides)
	if err != nil {
		return err
	}
	r := &Renderer{theme: t, Transcript: func(*pipeline.TranscriptRef) ([]pipeline.Cue, error) {
		return []pipeline.Cue{{Start: 0, End: 5, Speaker: "Host", Text: "Welcome."}}, nil
	}}
	show := &pipeline.Show{Title: "Sample", Description: "Sample show", Author: "Host", Language: "en", BaseURL: "http://localhost"}
	pub := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ep := &pipeline.Manifest{Slug: "sample", GUID: "sample", State: pipeline.StatePublished, PublishedAt: pub,
		Meta:         pipeline.Meta{Title: "Sample", Guests: []pipeline.Guest{{Name: "Guest", Role: "SRE"}}, Tags: []string{"flask"}, Episode: 1},
		NotesMD:      "Notes.",
		MP3:          &pipeline.Media{Key: catalog.Layout{}.MediaKey("sample", "0000000000000000", ".mp3"), ContentType: "audio/mpeg", Bytes: 1, Duration: 60},
		Chapters:     []pipeline.Chapter{{Start: 0, Title: "Intro"}},
		Transcript:   &pipeline.TranscriptRef{Key: "sample", SHA256: "sample"},
		Translations: []pipeline.TranscriptRef{{Key: "sample-de", SHA256: "sample-de", Language: "de"}},
	}
	if _, _, err := r.Render(show, []*pipeline.Manifest{ep}, pub.Add(time.Hour)); err != nil {
		return &pipeline.InputError{Problem: "the show's templates do not render", Fix: "fix the template the error names", Err: err}
	}
	return nil
}

// SetTemplates renders with the show's own templates from now on: files
// by name, as in Overridable; none for the built-in ones.
func (rr *Renderer) SetTemplates(overrides map[string][]byte) error {
	key := TemplatesKey(overrides)
	rr.mu.Lock()
	current := rr.theme
	rr.mu.Unlock()
	if current != nil && current.key == key {
		return nil // parsed already
	}
	var t *theme // nil: the built-in one
	if key != "" {
		var err error
		if t, err = newTheme(overrides); err != nil {
			return err
		}
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.theme = t
	return nil
}
