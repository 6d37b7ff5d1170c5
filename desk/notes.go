package desk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/markdown"
)

// notesForm is the episode notes as the desk's form holds them.
type notesForm struct {
	Title     string
	Slug      string // fixed when editing
	Guests    string // one per line: name | role | url
	Tags      []string
	MoreTags  string
	PublishAt string
	Notes     string
}

// frontMatter is episode.md's front matter as the desk writes it: only
// what has a value.
type frontMatter struct {
	Title     string           `yaml:"title"`
	Slug      string           `yaml:"slug,omitempty"`
	Guests    []pipeline.Guest `yaml:"guests,omitempty"`
	PublishAt *time.Time       `yaml:"publish_at,omitempty"`
	Season    int              `yaml:"season,omitempty"`
	Episode   int              `yaml:"episode,omitempty"`
	Type      string           `yaml:"type,omitempty"`
	Explicit  *bool            `yaml:"explicit,omitempty"`
	Summary   string           `yaml:"summary,omitempty"`
	Tags      []string         `yaml:"tags,omitempty"`
	// Soundbites and Social are kept as they were: the form does not show
	// them.
	Soundbites []pipeline.Soundbite `yaml:"soundbites,omitempty"`
	Social     []pipeline.Social    `yaml:"social,omitempty"`
	License    *pipeline.License    `yaml:"license,omitempty"`
	Location   *pipeline.Location   `yaml:"location,omitempty"`
	TXT        []pipeline.TXT       `yaml:"txt,omitempty"`
}

func readNotesForm(r *http.Request) notesForm {
	return notesForm{
		Title:     strings.TrimSpace(r.PostFormValue("title")),
		Slug:      strings.TrimSpace(r.PostFormValue("slug")),
		Guests:    r.PostFormValue("guests"),
		Tags:      r.PostForm["tag"],
		MoreTags:  r.PostFormValue("more_tags"),
		PublishAt: strings.TrimSpace(r.PostFormValue("publish_at")),
		Notes:     r.PostFormValue("notes"),
	}
}

// formFrom fills the form from an episode's manifest.
func formFrom(m *pipeline.Manifest) notesForm {
	f := notesForm{Title: m.Meta.Title, Slug: m.Slug, Tags: m.Meta.Tags, Notes: m.NotesMD}
	var lines []string
	for _, g := range m.Meta.Guests {
		lines = append(lines, strings.TrimRight(g.Name+" | "+g.Role+" | "+g.URL, " |"))
	}
	f.Guests = strings.Join(lines, "\n")
	if m.Meta.PublishAt != nil {
		f.PublishAt = m.Meta.PublishAt.UTC().Format(time.RFC3339)
	}
	return f
}

// episodeMD turns the form into episode.md, keeping what the form does
// not show (season, type, summary...) from base. It checks the result as
// the watcher will, so a bad form is refused here, with the reason.
func (f notesForm) episodeMD(base pipeline.Meta) ([]byte, []string) {
	var problems []string
	fm := frontMatter{Title: f.Title, Slug: f.Slug, Season: base.Season, Episode: base.Episode, Type: base.Type,
		Explicit: base.Explicit, Summary: base.Summary, Soundbites: base.Soundbites, Social: base.Social,
		License: base.License, Location: base.Location, TXT: base.TXT}
	if f.Title == "" {
		problems = append(problems, "The title is missing.")
	}
	for i, line := range strings.Split(strings.ReplaceAll(f.Guests, "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, "|")
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		g := pipeline.Guest{Name: strings.TrimSpace(parts[0]), Role: strings.TrimSpace(parts[1]), URL: strings.TrimSpace(strings.Join(parts[2:], "|"))}
		for _, was := range base.Guests {
			if was.Name == g.Name {
				g.Img = was.Img // the form does not show it
			}
		}
		if g.Name == "" {
			problems = append(problems, fmt.Sprintf("Guest line %d has no name: write name | role | url.", i+1))
			continue
		}
		fm.Guests = append(fm.Guests, g)
	}
	seen := map[string]bool{}
	for _, t := range append(slices.Clone(f.Tags), strings.Split(f.MoreTags, ",")...) {
		if t = bundle.Slug(strings.TrimSpace(t)); t != "" && !seen[t] {
			seen[t] = true
			fm.Tags = append(fm.Tags, t)
		}
	}
	if f.PublishAt != "" {
		t, err := time.Parse(time.RFC3339, f.PublishAt)
		if err != nil {
			t, err = time.Parse("2006-01-02T15:04", f.PublishAt)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("The publish time %q is not a time such as 2026-12-01T09:00 (UTC) or 2026-12-01T09:00:00+01:00.", f.PublishAt))
		} else {
			t = t.UTC()
			fm.PublishAt = &t
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	front, err := yaml.Marshal(fm)
	if err != nil {
		return nil, []string{"Cannot write the front matter: " + err.Error()}
	}
	md := []byte("---\n" + string(front) + "---\n" + strings.ReplaceAll(f.Notes, "\r\n", "\n"))
	if _, _, err := bundle.ParseNotes(md); err != nil {
		return nil, []string{err.Error()}
	}
	return md, nil
}

// draftSlug is the folder name a bundle takes in drop/: its slug.
func draftSlug(notes []byte) string {
	meta, _, err := bundle.ParseNotes(notes)
	if err != nil {
		return "episode"
	}
	if meta.Slug != "" {
		return bundle.Slug(meta.Slug)
	}
	if s := bundle.SlugFromTitle(meta.Title); s != "" {
		return s
	}
	return "episode"
}

type notesPage struct {
	page
	Form     notesForm
	Topics   []string
	Problems []string
	Preview  template.HTML
	Action   string // where the form posts
	Editing  bool
	Upload   bool // whether the page uploads a recording
	MaxSize  int64
	NoData   bool
}

func (d *Desk) notesPage(r *http.Request, show string, title string, f notesForm) *notesPage {
	p := &notesPage{page: d.page(r, title), Form: f, MaxSize: d.cfg.UploadMaxSize}
	p.Show = linkFor(show)
	p.Topics = d.showTopics(r.Context(), show)
	for _, t := range f.Tags {
		if !slices.Contains(p.Topics, t) {
			p.Topics = append(p.Topics, t)
		}
	}
	if _, err := os.Stat(filepath.Join(d.showDir(show), "show.yaml")); err != nil {
		p.NoData = true
	}
	return p
}

// newForm is the page that uploads a new recording with its notes,
// prefilled from a pitch when ?pitch=ID.
func (d *Desk) newForm(w http.ResponseWriter, r *http.Request) {
	show, ok := d.showOf(w, r)
	if !ok {
		return
	}
	var f notesForm
	if id := r.URL.Query().Get("pitch"); id != "" {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if pt, err := catalog.ForShow(d.cfg.Store, show).Pitch(ctx, id); err == nil {
			f = draftFromPitch(pt)
		}
	}
	p := d.notesPage(r, show, "New episode", f)
	p.Action, p.Upload = "/admin/shows/"+p.Show.Token+"/new", true
	d.render(w, r, http.StatusOK, "notes", p)
}

// draftFromPitch prefills the notes of an episode with a pitch's guest.
func draftFromPitch(pt *pipeline.Pitch) notesForm {
	role := pt.Role
	if pt.Company != "" {
		role = strings.TrimSpace(strings.TrimSuffix(role+", "+pt.Company, ", "))
		role = strings.TrimPrefix(role, ", ")
	}
	url := ""
	if len(pt.Links) > 0 {
		url = pt.Links[0]
	}
	g := strings.ReplaceAll(pt.Name, "|", "/") + " | " + strings.ReplaceAll(role, "|", "/") + " | " + url
	return notesForm{Guests: strings.TrimRight(g, " |"), Tags: pt.Topics}
}

// newPreview answers the new-episode form without a script: it shows the
// notes rendered, or says what is wrong.
func (d *Desk) newPreview(w http.ResponseWriter, r *http.Request) {
	show, ok := d.showOf(w, r)
	if !ok {
		return
	}
	f := readNotesForm(r)
	p := d.notesPage(r, show, "New episode", f)
	p.Action, p.Upload = "/admin/shows/"+p.Show.Token+"/new", true
	_, p.Problems = f.episodeMD(pipeline.Meta{})
	p.Preview = template.HTML(markdown.HTML(f.Notes))
	d.render(w, r, http.StatusOK, "notes", p)
}

// draft keeps the notes sent ahead of a recording; the upload names the
// draft in its metadata, and the two become one bundle once the recording
// is whole. The answer is JSON: {"id": ...} or {"problems": [...]}.
func (d *Desk) draft(w http.ResponseWriter, r *http.Request) {
	show, ok := d.showOf(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	md, problems := readNotesForm(r).episodeMD(pipeline.Meta{})
	if len(problems) > 0 {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string][]string{"problems": problems})
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	dir := filepath.Join(d.cfg.Data, stagingDir, "drafts")
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, id+".md"), md, 0o644)
	}
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string][]string{"problems": {"Cannot keep the notes: " + err.Error()}})
		return
	}
	d.cfg.Log.Info("notes drafted for an upload", "show", show, "draft", id)
	json.NewEncoder(w).Encode(map[string]string{"id": id})
}

func (d *Desk) editForm(w http.ResponseWriter, r *http.Request) {
	show, m, ok := d.episodeOf(w, r)
	if !ok {
		return
	}
	d.render(w, r, http.StatusOK, "notes", d.editPage(r, show, m, formFrom(m)))
}

func (d *Desk) editPage(r *http.Request, show string, m *pipeline.Manifest, f notesForm) *notesPage {
	p := d.notesPage(r, show, "Edit "+m.Meta.Title, f)
	p.Action, p.Editing = fmt.Sprintf("/admin/shows/%s/episodes/%s/edit", p.Show.Token, m.Slug), true
	return p
}

// edit previews the edited notes, or saves them as a notes-only drop: a
// folder with episode.md alone, which updates the episode and keeps its
// audio as it is.
func (d *Desk) edit(w http.ResponseWriter, r *http.Request) {
	show, m, ok := d.episodeOf(w, r)
	if !ok {
		return
	}
	f := readNotesForm(r)
	f.Slug = m.Slug
	md, problems := f.episodeMD(m.Meta)
	p := d.editPage(r, show, m, f)
	if r.PostFormValue("action") == "preview" || len(problems) > 0 {
		p.Problems = problems
		p.Preview = template.HTML(markdown.HTML(f.Notes))
		d.render(w, r, http.StatusOK, "notes", p)
		return
	}
	got, err := d.dropNotes(show, m.Slug, md)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, "Cannot put the notes in drop/: "+err.Error())
		return
	}
	d.cfg.Log.Info("notes edited in the desk", "show", show, "episode", m.Slug, "entry", got, "user", d.sessions.GetString(r.Context(), sessUser))
	d.note(r, "The new notes of %q are in drop/ as %s: the feed and pages follow within a minute.", f.Title, got)
	http.Redirect(w, r, "/admin/shows/"+p.Show.Token+"/", http.StatusSeeOther)
}

// dropNotes writes a notes-only bundle into the show's drop/, whole, in
// one rename.
func (d *Desk) dropNotes(show, slug string, md []byte) (string, error) {
	root, err := os.OpenRoot(d.cfg.Data)
	if err != nil {
		return "", err
	}
	defer root.Close()
	b := make([]byte, 16)
	rand.Read(b)
	folder := path.Join(stagingDir, "bundles", hex.EncodeToString(b))
	if err := root.MkdirAll(folder, 0o755); err != nil {
		return "", err
	}
	if err := root.WriteFile(path.Join(folder, bundle.NotesFile), md, 0o644); err != nil {
		return "", err
	}
	dir := "drop"
	if show != "" {
		dir = path.Join("shows", show, "drop")
	}
	return moveIn(root, folder, dir, slug)
}

// episodeOf reads the {show} and {slug} of a desk URL; it answers 404
// itself when either is unknown.
func (d *Desk) episodeOf(w http.ResponseWriter, r *http.Request) (string, *pipeline.Manifest, bool) {
	show, ok := d.showOf(w, r)
	if !ok {
		return "", nil, false
	}
	m, ok := d.manifest(w, r, show)
	return show, m, ok
}

func (d *Desk) manifest(w http.ResponseWriter, r *http.Request, show string) (*pipeline.Manifest, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	slug := r.PathValue("slug")
	if bundle.Slug(slug) != slug {
		d.fail(w, r, http.StatusNotFound, "There is no such episode.")
		return nil, false
	}
	m, err := catalog.ForShow(d.cfg.Store, show).Manifest(ctx, slug)
	if err != nil || m.State == pipeline.StateDeleted {
		d.fail(w, r, http.StatusNotFound, "There is no such episode.")
		return nil, false
	}
	return m, true
}
