package site

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/chapters"
	"github.com/prodcast/prodcast/pipeline/markdown"
	"github.com/prodcast/prodcast/pipeline/transcript"
	"golang.org/x/sync/errgroup"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

//go:embed templates/*.html templates/*.css templates/*.js
var templatesFS embed.FS

// PerPage is how many episodes a home page lists.
const PerPage = 20

// File is one file of the site. A Renderer gives the bytes of the files it
// rendered; a file unchanged since its last run has only its MD5, so that a
// worker does not hold a large show's pages and transcripts in memory
// between rebuilds.
type File struct {
	Body        []byte // nil when Unchanged
	ContentType string
	MD5         string // hex, as S3 gives it in the ETag of a simple upload
	Unchanged   bool   // the same bytes as the Renderer's last run gave
	// Status, when not zero, is the HTTP status the file is served with:
	// 410 for the page of a withdrawn episode.
	Status int
}

// Episode is what an episode page shows.
type Episode struct {
	*pipeline.Manifest
	URL             string // the page's public URL
	Path            string // the page's link from the show's other pages
	MediaURL        string
	ArtURL          string
	Art             *Art          // the episode's art, else the show's
	CardArt         template.HTML // Art as the lists show it, made once
	Date, ISODate   string        // the publication date, to read and for <time>
	Length          string        // the duration, to read
	Guests          []GuestLink
	Notes           template.HTML
	Summary         string
	Newer           *Episode
	Older           *Episode
	Turns           []transcript.Turn // the transcript, as paragraphs
	TranscriptFiles []TranscriptFile
	Translations    []Translation // the transcript in other languages

	key string // identifies the manifest's content
}

// Translation is the transcript in another language, to download.
type Translation struct {
	Language string // BCP 47: de, pt-BR
	Name     string // in its own language: Deutsch, português
	Files    []TranscriptFile
}

// languageName is a language's name in itself, or its tag when unknown.
func languageName(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	if n := display.Self.Name(t); n != "" {
		return n
	}
	return tag
}

// TranscriptFile is one published form of an episode's transcript.
type TranscriptFile struct {
	transcript.Format
	URL string
}

type page struct {
	Show      *pipeline.Show
	Title     string
	Canonical string
	Desc      string
	Image     string
	Episodes  []*Episode
	Episode   *Episode
	Tag       string
	Tags      []tagCount
	Guest     *guest
	Query     string // the search page's
	Hits      []Hit
	Page      int
	Prev      string // URL of the newer page
	Next      string // URL of the older page
}

// ShowArt is the show's art.
func (p page) ShowArt() *Art {
	return newArt(p.Show, p.Show.Art, p.Show.ArtSizes, "Art of "+p.Show.Title)
}

type tagCount struct {
	Tag string
	N   int
}

// Render renders every file of the blog for the episodes live at now. Keys
// are paths under public/. It renders everything; a Renderer kept between
// rebuilds renders only what changed.
func Render(show *pipeline.Show, manifests []*pipeline.Manifest, now time.Time) (map[string]File, error) {
	files, _, err := new(Renderer).Render(show, manifests, now)
	return files, err
}

// Render renders every file of the blog for the episodes live at now, and
// says how many files it rendered and how many it took unchanged from its
// last run (those come without their bytes: see File).
func (rr *Renderer) Render(show *pipeline.Show, manifests []*pipeline.Manifest, now time.Time) (map[string]File, Stats, error) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	r := &renderer{Renderer: rr, show: show, out: map[string]File{}, last: rr.memo, memo: map[string]memo{}, theme: rr.theme,
		nextSearch: map[string]searchMemo{}}
	if r.theme == nil {
		r.theme = builtin
	}
	r.showKey = show.Fingerprint() + r.theme.key
	eps := episodes(show, manifests, now)
	guests := r.findGuests(eps)
	r.home(eps)
	for _, e := range eps {
		r.episode(e)
	}
	r.guestPages(guests)
	tags := r.tags(eps)
	for _, m := range manifests {
		if m.Withdrawn() {
			r.gone(m)
		}
	}
	r.html("about/index.html", "about.html", page{Show: show, Title: "About · " + show.Title,
		Canonical: show.URL("/about/"), Desc: show.Description, Image: show.ArtURL(), Tags: tags}, tagsKey(tags))
	r.static(eps, tags, guests, now)
	r.searchIndex(eps)
	r.renderPending()
	if r.err != nil {
		return nil, Stats{}, r.err
	}
	rr.memo, rr.search = r.memo, r.nextSearch
	return r.out, r.stats, nil
}

// episode renders one episode's page, its chapters and its transcript.
func (r *renderer) episode(e *Episode) {
	show := r.show
	img := e.ArtURL
	if img == "" {
		img = show.ArtURL()
	}
	dir := pipeline.EpisodeDir(e.Slug)
	if len(e.Chapters) > 0 {
		r.file(dir+"chapters.json", "application/json+chapters", pipeline.ChaptersHash(e.Chapters), func() ([]byte, error) {
			return chapters.JSON(e.Chapters)
		})
	}
	key := []string{e.key, neighbour(e.Newer), neighbour(e.Older), guestsKey(e)}
	if r.Transcript != nil {
		for i := range e.Manifest.Translations {
			ref := &e.Manifest.Translations[i]
			t := Translation{Language: ref.Language, Name: languageName(ref.Language)}
			for _, f := range transcript.PublishedAs(ref.Language) {
				t.Files = append(t.Files, TranscriptFile{Format: f, URL: show.Path("/" + dir + f.Name)})
				r.file(dir+f.Name, f.Type+"; charset=utf-8", ref.SHA256, func() ([]byte, error) {
					cues, err := r.Transcript(ref)
					if err != nil {
						return nil, err
					}
					return f.Render(cues)
				})
			}
			e.Translations = append(e.Translations, t)
		}
	}
	if e.Transcript != nil && r.Transcript != nil {
		for _, f := range transcript.Published {
			e.TranscriptFiles = append(e.TranscriptFiles, TranscriptFile{Format: f, URL: show.Path("/" + dir + f.Name)})
		}
		var cues []pipeline.Cue
		var turns []transcript.Turn
		load := func() ([]pipeline.Cue, error) {
			if cues != nil {
				return cues, nil
			}
			var err error
			if cues, err = r.Transcript(e.Manifest.Transcript); err != nil {
				return nil, err
			}
			turns = transcript.Turns(cues)
			return cues, nil
		}
		for _, f := range transcript.Published {
			r.file(dir+f.Name, f.Type+"; charset=utf-8", e.Transcript.SHA256, func() ([]byte, error) {
				cs, err := load()
				if err != nil {
					return nil, err
				}
				return f.Render(cs)
			})
		}
		if turns == nil && !r.fresh(dir+"index.html", joinKeys(key)) {
			if _, err := load(); err != nil && r.err == nil {
				r.err = err
			}
		}
		e.Turns = turns
	}
	r.html(dir+"embed/index.html", "embed.html", page{Show: show,
		Title: e.Meta.Title + " · " + show.Title, Canonical: e.URL, Episode: e}, e.key)
	r.html(dir+"index.html", "episode.html", page{Show: show,
		Title: e.Meta.Title + " · " + show.Title, Canonical: e.URL, Desc: e.Summary, Image: img, Episode: e}, key...)
}

// tags renders one page per topic tag and returns the tags with their counts.
func (r *renderer) tags(eps []*Episode) []tagCount {
	show := r.show
	byTag := map[string][]*Episode{}
	for _, e := range eps {
		for _, t := range e.Meta.Tags {
			byTag[t] = append(byTag[t], e)
		}
	}
	tags := make([]tagCount, 0, len(byTag))
	for t, list := range byTag {
		tags = append(tags, tagCount{t, len(list)})
		r.html("tags/"+t+"/index.html", "tag.html", page{Show: show, Title: "#" + t + " · " + show.Title,
			Canonical: show.URL("/tags/" + t + "/"), Desc: fmt.Sprintf("Episodes of %s about %s.", show.Title, t),
			Image: show.ArtURL(), Episodes: list, Tag: t}, keys(list)...)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Tag < tags[j].Tag })
	return tags
}

// static renders the stylesheet, the Atom feed, the sitemap and robots.txt.
func (r *renderer) static(eps []*Episode, tags []tagCount, guests []*guest, now time.Time) {
	show := r.show
	r.file("style.css", "text/css; charset=utf-8", "", func() ([]byte, error) {
		return r.theme.css, nil
	})
	r.file("player.js", "text/javascript; charset=utf-8", string(r.theme.js), func() ([]byte, error) {
		return r.theme.js, nil
	})
	r.file("atom.xml", "application/atom+xml; charset=utf-8", joinKeys(keys(eps[:min(atomEntries, len(eps))])),
		func() ([]byte, error) { return atom(show, eps, now) })
	var guestSlugs []string
	for _, g := range guests {
		guestSlugs = append(guestSlugs, g.Slug)
	}
	r.file("sitemap.xml", "application/xml; charset=utf-8", joinKeys(keys(eps))+tagsKey(tags)+strings.Join(guestSlugs, ","),
		func() ([]byte, error) { return sitemap(show, eps, tags, guestSlugs) })
	r.file("robots.txt", "text/plain; charset=utf-8", "", func() ([]byte, error) {
		return []byte("User-agent: *\nDisallow: /media/\n\nSitemap: " + show.URL("/sitemap.xml") + "\n"), nil
	})
}

func episodes(show *pipeline.Show, manifests []*pipeline.Manifest, now time.Time) []*Episode {
	var live []*pipeline.Manifest
	for _, m := range manifests {
		if m.Live(now) && m.MP3 != nil {
			live = append(live, m)
		}
	}
	// Rendering the notes is most of the work: spread it over the cores.
	rendered := make([]string, len(live))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				rendered[i] = markdown.Notes(live[i].NotesMD, live[i].NotesHTML)
			}
		})
	}
	for i := range live {
		next <- i
	}
	close(next)
	wg.Wait()
	eps := make([]*Episode, 0, len(live))
	for i, m := range live {
		notes := rendered[i]
		summary := m.Meta.Summary
		if summary == "" {
			summary = markdown.PlainFromHTML(notes, 200)
		}
		e := &Episode{
			Manifest: m,
			URL:      show.EpisodeURL(m.Slug),
			Path:     show.EpisodePath(m.Slug),
			MediaURL: show.PublicURL(m.MP3.Key),
			Notes:    template.HTML(notes), // sanitised by bluemonday
			Summary:  summary,
			key:      m.ContentKey(),
		}
		if m.Art != "" {
			e.ArtURL = show.PublicURL(m.Art)
			e.Art = newArt(show, m.Art, m.ArtSizes, "Art of "+m.Meta.Title)
		} else {
			e.Art = newArt(show, show.Art, show.ArtSizes, "Art of "+show.Title)
		}
		e.CardArt = e.Art.Sized(96, true).Decorative().Tag()
		pub := m.PubDate().UTC()
		e.Date, e.ISODate, e.Length = pub.Format("2 January 2006"), pub.Format(time.RFC3339), formatDuration(m.MP3.Duration)
		eps = append(eps, e)
	}
	for i, e := range eps { // newest first
		if i > 0 {
			e.Newer = eps[i-1]
		}
		if i+1 < len(eps) {
			e.Older = eps[i+1]
		}
	}
	return eps
}

// Renderer renders the blog and remembers what it rendered, so that the
// next rebuild renders again only the files whose inputs changed: after one
// new episode, its page, its neighbours, the home pages, its topics' pages
// and the feeds, not a thousand pages. The zero value is ready to use.
type Renderer struct {
	// Transcript reads the cues of an episode's transcript. When nil,
	// pages show no transcript and none is published.
	Transcript func(*pipeline.TranscriptRef) ([]pipeline.Cue, error)

	mu     sync.Mutex
	theme  *theme                // nil for the built-in one
	memo   map[string]memo       // by path: what the last run rendered
	search map[string]searchMemo // by slug: each live episode in the search index
}

// Forget drops what the renderer remembers, so that its next run renders
// every file.
func (rr *Renderer) Forget() {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.memo, rr.search = nil, nil
}

// Stats says how much work a render did.
type Stats struct {
	Rendered int // files rendered
	Reused   int // files taken unchanged from the last run
}

type memo struct {
	key         [32]byte // of the inputs
	md5         string   // of the output
	contentType string
}

type renderer struct {
	*Renderer
	show    *pipeline.Show
	showKey string
	theme   *theme
	out     map[string]File
	last    map[string]memo
	memo    map[string]memo
	stats   Stats
	err     error
	pending []pending // pages to render at once, at the end (see html)

	nextSearch map[string]searchMemo
}

// pending is a page whose template is executed at the end of Render, with
// the others, on every core.
type pending struct {
	path string
	key  [32]byte
	tmpl string
	p    page
}

// fresh reports whether the last run rendered path from the same input.
func (r *renderer) fresh(path string, input string) bool {
	m, ok := r.last[path]
	return ok && m.key == r.key(path, input)
}

func (r *renderer) key(path string, input string) [32]byte {
	h := sha256.New()
	io.WriteString(h, r.showKey)
	io.WriteString(h, "\x00"+path+"\x00")
	io.WriteString(h, input)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// file puts path in the output: the last run's bytes if its inputs are the
// same, else what render returns.
func (r *renderer) file(path, contentType string, input string, render func() ([]byte, error)) {
	if r.err != nil {
		return
	}
	key := r.key(path, input)
	if r.reuse(path, key) {
		return
	}
	body, err := render()
	r.keep(path, contentType, key, body, err)
}

// reuse takes path unchanged from the last run if its key is the same.
func (r *renderer) reuse(path string, key [32]byte) bool {
	m, ok := r.last[path]
	if !ok || m.key != key {
		return false
	}
	r.out[path] = File{ContentType: m.contentType, MD5: m.md5, Unchanged: true}
	r.memo[path] = m
	r.stats.Reused++
	return true
}

// keep records path's rendered body, or the render's error.
func (r *renderer) keep(path, contentType string, key [32]byte, body []byte, err error) {
	if err != nil {
		r.err = fmt.Errorf("cannot render %s: %w", path, err)
		return
	}
	sum := md5.Sum(body)
	f := File{Body: body, ContentType: contentType, MD5: hex.EncodeToString(sum[:])}
	r.out[path], r.memo[path] = f, memo{key: key, md5: f.MD5, contentType: contentType}
	r.stats.Rendered++
}

// html renders a template into path, unless its inputs are unchanged.
// The templates are executed at the end of Render, all at once (see
// renderPending): pages are most of a site's render.
func (r *renderer) html(path, tmpl string, p page, inputs ...string) {
	if r.err != nil {
		return
	}
	key := r.key(path, joinKeys(inputs))
	if r.reuse(path, key) {
		return
	}
	r.pending = append(r.pending, pending{path: path, key: key, tmpl: tmpl, p: p})
}

// renderPending executes the pending pages' templates, as many at once as
// there are cores, and keeps them in the order they were asked for: the
// first error, in that order, is the render's.
func (r *renderer) renderPending() {
	bodies := make([][]byte, len(r.pending))
	errs := make([]error, len(r.pending))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, pg := range r.pending {
		g.Go(func() error {
			var buf bytes.Buffer
			errs[i] = r.theme.html.ExecuteTemplate(&buf, pg.tmpl, pg.p)
			bodies[i] = buf.Bytes()
			return nil
		})
	}
	g.Wait()
	for i, pg := range r.pending {
		if r.err != nil {
			break
		}
		r.keep(pg.path, "text/html; charset=utf-8", pg.key, bodies[i], errs[i])
	}
	r.pending = nil
}

func joinKeys(inputs []string) string { return strings.Join(inputs, "\x01") }

func neighbour(e *Episode) string {
	if e == nil {
		return ""
	}
	return e.key
}

func keys(eps []*Episode) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.key
	}
	return out
}

func tagsKey(tags []tagCount) string {
	var b strings.Builder
	for _, t := range tags {
		fmt.Fprintf(&b, "%s=%d,", t.Tag, t.N)
	}
	return b.String()
}

// home renders the home page and its older pages, PerPage episodes each.
func (r *renderer) home(eps []*Episode) {
	pages := max(1, (len(eps)+PerPage-1)/PerPage)
	url := func(n int) string {
		if n == 1 {
			return "/"
		}
		return fmt.Sprintf("/page/%d/", n)
	}
	for n := 1; n <= pages; n++ {
		list := eps[(n-1)*PerPage : min(n*PerPage, len(eps))]
		p := page{Show: r.show, Title: r.show.Title, Canonical: r.show.URL(url(n)), Desc: r.show.Description,
			Image: r.show.ArtURL(), Episodes: list, Page: n}
		if n > 1 {
			p.Prev = r.show.Path(url(n - 1))
			p.Title = fmt.Sprintf("%s · page %d", r.show.Title, n)
		}
		if n < pages {
			p.Next = r.show.Path(url(n + 1))
		}
		path := "index.html"
		if n > 1 {
			path = fmt.Sprintf("page/%d/index.html", n)
		}
		r.html(path, "index.html", p, append(keys(list), strconv.Itoa(pages))...)
	}
}

func formatDuration(sec float64) string {
	s := int(sec + 0.5)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
