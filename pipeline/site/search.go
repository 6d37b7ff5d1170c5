package site

import (
	"bytes"
	"encoding/json"
	"html/template"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/markdown"
	"github.com/prodcast/prodcast/pipeline/transcript"
)

// SearchIndexPath is where the renderer puts a show's search index, next
// to its pages: every live episode's title, guests, tags, notes and
// transcript, which `serve` answers /search from.
const SearchIndexPath = "search/index.json"

// SearchIndex is what /search reads: the show's public face (for the
// page's head and foot) and its episodes, newest first.
type SearchIndex struct {
	Show     SearchShow  `json:"show"`
	Episodes []SearchDoc `json:"episodes"`

	once     sync.Once
	prepared []prepared // Episodes in lower case, made at the first search
}

// prepared is an episode in lower case, its transcript in one string, so
// that a search is one scan per word and field.
type prepared struct {
	title, guests, tags, notes string
	transcript                 string
	starts                     []int // where each paragraph starts in transcript
}

func (idx *SearchIndex) prepare() {
	idx.prepared = make([]prepared, len(idx.Episodes))
	for i, d := range idx.Episodes {
		p := prepared{title: strings.ToLower(d.Title), guests: strings.ToLower(strings.Join(d.Guests, ", ")),
			tags: strings.ToLower(strings.Join(d.Tags, " ")), notes: strings.ToLower(d.Notes)}
		var b strings.Builder
		for _, c := range d.Transcript {
			p.starts = append(p.starts, b.Len())
			b.WriteString(strings.ToLower(c.Text))
			b.WriteByte('\n')
		}
		p.transcript = b.String()
		idx.prepared[i] = p
	}
}

// SearchShow is the part of show.yaml the search page shows: nothing
// private (no notify targets, no tokens).
type SearchShow struct {
	Name     string           `json:"name,omitempty"`
	Title    string           `json:"title"`
	Language string           `json:"language"`
	BaseURL  string           `json:"base_url"`
	Art      string           `json:"art,omitempty"`
	ArtSizes []pipeline.Image `json:"art_sizes,omitempty"`
	AppleID  string           `json:"apple_id,omitempty"`
	Funding  pipeline.Funding `json:"funding,omitempty"`
}

// Show is the show as the page templates use it.
func (s SearchShow) Show() *pipeline.Show {
	return &pipeline.Show{Name: s.Name, Title: s.Title, Language: s.Language, BaseURL: s.BaseURL, Art: s.Art,
		ArtSizes: s.ArtSizes, AppleID: s.AppleID, Funding: s.Funding}
}

// SearchDoc is one episode as search reads it.
type SearchDoc struct {
	Path       string      `json:"path"`
	Title      string      `json:"title"`
	Date       string      `json:"date"`
	Guests     []string    `json:"guests,omitempty"`
	Tags       []string    `json:"tags,omitempty"`
	Notes      string      `json:"notes,omitempty"`
	Transcript []SearchCue `json:"transcript,omitempty"`
}

// SearchCue is a paragraph of the transcript and when it is said.
type SearchCue struct {
	Start float64 `json:"s"`
	Text  string  `json:"t"`
}

type searchMemo struct {
	key string
	doc SearchDoc
}

// searchDoc is an episode's entry in the index: made again only when the
// episode changed.
func (r *renderer) searchDoc(e *Episode) SearchDoc {
	if m, ok := r.Renderer.search[e.Slug]; ok && m.key == e.key {
		r.nextSearch[e.Slug] = m
		return m.doc
	}
	d := SearchDoc{Path: e.Path, Title: e.Meta.Title, Date: e.Date, Tags: e.Meta.Tags,
		Notes: markdown.PlainFromHTML(string(e.Notes), 0)}
	for _, g := range e.Meta.Guests {
		d.Guests = append(d.Guests, g.Name)
	}
	turns := e.Turns
	if turns == nil && e.Transcript != nil && r.Transcript != nil {
		if cues, err := r.Transcript(e.Manifest.Transcript); err == nil {
			turns = transcript.Turns(cues)
		} else if r.err == nil {
			r.err = err
		}
	}
	for _, t := range turns {
		d.Transcript = append(d.Transcript, SearchCue{Start: t.Start, Text: t.Text})
	}
	r.nextSearch[e.Slug] = searchMemo{key: e.key, doc: d}
	return d
}

// searchIndex renders the show's search index.
func (r *renderer) searchIndex(eps []*Episode) {
	docs := make([]SearchDoc, len(eps))
	for i, e := range eps {
		docs[i] = r.searchDoc(e)
	}
	s := r.show
	idx := &SearchIndex{Show: SearchShow{Name: s.Name, Title: s.Title, Language: s.Language, BaseURL: s.BaseURL, Art: s.Art,
		ArtSizes: s.ArtSizes, AppleID: s.AppleID, Funding: s.Funding}, Episodes: docs}
	r.file(SearchIndexPath, "application/json", joinKeys(keys(eps)), func() ([]byte, error) {
		return json.Marshal(idx)
	})
}

// Hit is one episode that a search found.
type Hit struct {
	Path, Title, Date string
	Where             string        // "the title", "the notes", "the transcript at 00:12:30"
	At                float64       // where in the audio, for a transcript hit; -1 otherwise
	Snippet           template.HTML // the words around the match, the matched words marked
	score             int
}

// Search finds the episodes whose title, guests, tags, notes or transcript
// hold every word of q (ignoring case), best first: a match in the title
// counts most, then guests and tags, then notes, then the transcript.
func (idx *SearchIndex) Search(q string, max int) []Hit {
	words := strings.Fields(strings.ToLower(q))
	if len(words) == 0 {
		return nil
	}
	if len(words) > 8 {
		words = words[:8]
	}
	idx.once.Do(idx.prepare)
	var hits []Hit
	for i := range idx.Episodes {
		if h, ok := idx.Episodes[i].match(&idx.prepared[i], words); ok {
			hits = append(hits, h)
		}
	}
	slices.SortStableFunc(hits, func(a, b Hit) int { return b.score - a.score })
	if len(hits) > max {
		hits = hits[:max]
	}
	return hits
}

func (d *SearchDoc) match(p *prepared, words []string) (Hit, bool) {
	h := Hit{Path: d.Path, Title: d.Title, Date: d.Date, At: -1}
	fields := []struct {
		where       string
		text, lower string
		weight      int
	}{{"the title", d.Title, p.title, 8}, {"the guests", strings.Join(d.Guests, ", "), p.guests, 4},
		{"the topics", strings.Join(d.Tags, " "), p.tags, 4}, {"the notes", d.Notes, p.notes, 2}}
	for _, w := range words {
		found := false
		for _, f := range fields {
			if strings.Contains(f.lower, w) {
				found = true
				h.score += f.weight
				if h.Where == "" {
					h.Where, h.Snippet = f.where, snippet(f.text, f.lower, w)
				}
			}
		}
		if at := strings.Index(p.transcript, w); at >= 0 {
			found = true
			h.score++
			if h.Where == "" {
				c := d.Transcript[sort.SearchInts(p.starts, at+1)-1]
				h.Where, h.At, h.Snippet = "the transcript", c.Start, snippet(c.Text, strings.ToLower(c.Text), w)
			}
		}
		if !found {
			return Hit{}, false
		}
	}
	return h, true
}

// snippet is about 160 characters of text around the first w, which lower
// (text in lower case) holds, with the matched words marked.
func snippet(text, lower, w string) template.HTML {
	at := strings.Index(lower, w)
	if len(lower) != len(text) { // lower-casing changed the length: mark nothing, cut by runes
		return template.HTML(template.HTMLEscapeString(cut(text, 160)))
	}
	start, end := max(0, at-70), min(len(text), at+len(w)+90)
	for start > 0 && !utf8.RuneStart(text[start]) {
		start--
	}
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	// Whole words at the edges.
	if start > 0 {
		if i := strings.IndexFunc(text[start:at], unicode.IsSpace); i >= 0 {
			start += i + 1
		}
	}
	if end < len(text) {
		if i := strings.LastIndexFunc(text[at+len(w):end], unicode.IsSpace); i >= 0 {
			end = at + len(w) + i
		}
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("… ")
	}
	b.WriteString(template.HTMLEscapeString(text[start:at]))
	b.WriteString("<mark>" + template.HTMLEscapeString(text[at:at+len(w)]) + "</mark>")
	b.WriteString(template.HTMLEscapeString(text[at+len(w) : end]))
	if end < len(text) {
		b.WriteString(" …")
	}
	return template.HTML(b.String())
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// SearchPage renders the results of a search, with the built-in templates.
func SearchPage(show *pipeline.Show, q string, hits []Hit) ([]byte, error) {
	var buf bytes.Buffer
	title := "Search · " + show.Title
	if q != "" {
		title = q + " · " + title
	}
	err := builtin.html.ExecuteTemplate(&buf, "search.html", page{Show: show, Title: title, Canonical: show.URL("/search"),
		Desc: "Search the episodes of " + show.Title, Query: q, Hits: hits})
	return buf.Bytes(), err
}
