package site

import (
	"html"
	"html/template"
	"strconv"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
)

// Art is a piece of art as the pages show it: the sizes a worker made of
// it (JPEG or PNG, and WebP), for srcset.
type Art struct {
	Src    string // the art at its own size
	Srcset string // its JPEG (or PNG) sizes, "URL 600w, ..."
	WebP   string // its WebP sizes
	Alt    string

	// Set by Sized: how wide the page shows it, in CSS pixels.
	Width, Height int
	Sizes         string
	Lazy          bool

	jpegs []pipeline.Image // largest first
}

// newArt is the art at key with its sizes, nil without art. Art is
// square (the watcher and the worker refuse other art), so its sizes
// alone say its shape.
func newArt(show *pipeline.Show, key string, sizes []pipeline.Image, alt string) *Art {
	if key == "" {
		return nil
	}
	a := &Art{Src: show.PublicURL(key), Alt: alt}
	var jpeg, webp []string
	for _, s := range sizes {
		entry := show.PublicURL(s.Key) + " " + strconv.Itoa(s.Width) + "w"
		if s.Type == "image/webp" {
			webp = append(webp, entry)
		} else {
			jpeg = append(jpeg, entry)
			s.Key = show.PublicURL(s.Key)
			a.jpegs = append(a.jpegs, s)
		}
	}
	if len(jpeg) > 1 {
		a.Srcset = strings.Join(jpeg, ", ")
	}
	a.WebP = strings.Join(webp, ", ")
	return a
}

// Sized is the art shown px CSS pixels wide: the browser picks the size
// for the screen's density from srcset. lazy defers art below the fold.
func (a *Art) Sized(px int, lazy bool) *Art {
	if a == nil {
		return nil
	}
	c := *a
	c.Width, c.Height, c.Lazy = px, px, lazy
	c.Sizes = strconv.Itoa(px) + "px"
	// For a browser without srcset: the smallest size that is sharp on a
	// screen of twice the density.
	for _, s := range a.jpegs {
		if s.Width >= 2*px {
			c.Src = s.Key
		}
	}
	return &c
}

// Decorative is the art beside text that says what it is: alt="".
func (a *Art) Decorative() *Art {
	if a == nil {
		return nil
	}
	c := *a
	c.Alt = ""
	return &c
}

// Tag is the art as a <picture>. It is written here, not by a template:
// html/template checks every URL of a srcset character by character, and a
// page lists a thousand cards. Every value is escaped; the URLs are the
// show's own (its base_url is an http(s) URL).
func (a *Art) Tag() template.HTML {
	if a == nil {
		return ""
	}
	esc := html.EscapeString
	var b strings.Builder
	b.WriteString("<picture>")
	if a.WebP != "" {
		b.WriteString(`<source type="image/webp" srcset="` + esc(a.WebP) + `" sizes="` + esc(a.Sizes) + `">`)
	}
	b.WriteString(`<img src="` + esc(a.Src) + `"`)
	if a.Srcset != "" {
		b.WriteString(` srcset="` + esc(a.Srcset) + `" sizes="` + esc(a.Sizes) + `"`)
	}
	b.WriteString(` width="` + strconv.Itoa(a.Width) + `" height="` + strconv.Itoa(a.Height) + `" alt="` + esc(a.Alt) + `"`)
	if a.Lazy {
		b.WriteString(` loading="lazy"`)
	}
	b.WriteString(` decoding="async"></picture>`)
	return template.HTML(b.String())
}
