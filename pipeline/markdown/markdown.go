package markdown

import (
	"bytes"
	"crypto/sha256"
	"html"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

var (
	md = goldmark.New(
		goldmark.WithExtensions(extension.GFM, extension.Footnote),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	policy = newPolicy()
)

func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.RequireNoReferrerOnFullyQualifiedLinks(false)
	p.AllowAttrs("rel").OnElements("a")
	p.AllowAttrs("id").Globally()
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(language-[\w-]+|footnote[\w-]*)$`)).OnElements("code", "a", "div", "li", "sup", "hr", "ol")
	return p
}

// cache keeps rendered notes: every rebuild renders every episode's notes
// for the feed and the pages, and they rarely change.
var cache struct {
	sync.Mutex
	m map[[32]byte]string
}

const cacheMax = 8192

// HTML renders Markdown to sanitised HTML.
func HTML(src string) string {
	key := sha256.Sum256([]byte(src))
	cache.Lock()
	out, ok := cache.m[key]
	cache.Unlock()
	if ok {
		return out
	}
	out = render(src)
	cache.Lock()
	if cache.m == nil || len(cache.m) >= cacheMax {
		cache.m = map[[32]byte]string{}
	}
	cache.m[key] = out
	cache.Unlock()
	return out
}

func render(src string) string {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors; a bytes.Buffer has none.
		return html.EscapeString(src)
	}
	return addNoopener(policy.Sanitize(buf.String()))
}

var externalLink = regexp.MustCompile(`<a href="(https?://[^"]*)"(?: rel="([^"]*)")?`)

// addNoopener marks links to other sites rel="noopener", once: notes that
// are HTML already (imported, perhaps from prodcast's own feed) may have
// it. It runs after sanitising, on bluemonday's normalised output.
func addNoopener(s string) string {
	return externalLink.ReplaceAllStringFunc(s, func(a string) string {
		m := externalLink.FindStringSubmatch(a)
		rel := strings.Fields(m[2])
		if !slices.Contains(rel, "noopener") {
			rel = append(rel, "noopener")
		}
		return `<a href="` + m[1] + `" rel="` + strings.Join(rel, " ") + `"`
	})
}

var (
	blockTags  = regexp.MustCompile(`</?(p|br|li|ul|ol|h[1-6]|div|tr|td|th|table|blockquote|pre|hr)\b[^>]*>`)
	inlineTags = regexp.MustCompile(`<[^>]*>`)
)

// Plain renders Markdown to plain text, for feed descriptions and meta tags,
// cut at max runes (0: no limit) on a word boundary.
func Plain(src string, max int) string {
	return PlainFromHTML(HTML(src), max)
}

// PlainFromHTML is Plain for notes already rendered by HTML.
func PlainFromHTML(h string, max int) string {
	text := blockTags.ReplaceAllString(h, " ")
	text = html.UnescapeString(inlineTags.ReplaceAllString(text, ""))
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if max <= 0 || len(r) <= max {
		return text
	}
	cut := string(r[:max])
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// Notes renders an episode's notes: Markdown as dropped, or HTML as
// imported from another feed, sanitised either way.
func Notes(md, html string) string {
	if html != "" {
		return addNoopener(policy.Sanitize(html))
	}
	return HTML(md)
}
