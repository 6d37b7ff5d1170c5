package site

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
)

// GuestLink is a guest of an episode, with the guest's page.
type GuestLink struct {
	pipeline.Guest
	Path string // the guest's page: /guests/<slug>/
}

// guest is one person across the show's episodes.
type guest struct {
	Slug     string
	Name     string   // as first written
	Roles    []string // every role they had, in order
	URL      string
	Episodes []*Episode // newest first
}

// findGuests tells the show's guests apart: a guest is the same person
// across episodes when the name (ignoring case and spaces around it) or
// the url is the same. Each gets the slug of the name they first appeared
// with, so a page's address stays as episodes are added. Each episode's
// Guests link their pages.
func (r *renderer) findGuests(eps []*Episode) []*guest {
	var out []*guest
	byName, byURL := map[string]*guest{}, map[string]*guest{}
	slugs := map[string]bool{}
	for i := len(eps) - 1; i >= 0; i-- { // oldest first
		e := eps[i]
		for _, g := range e.Meta.Guests {
			name := strings.ToLower(strings.Join(strings.Fields(g.Name), " "))
			p := byName[name]
			if p == nil && g.URL != "" {
				p = byURL[g.URL]
			}
			if p == nil {
				p = &guest{Name: strings.TrimSpace(g.Name), Slug: bundle.Slug(g.Name)}
				if p.Slug == "" {
					p.Slug = "guest"
				}
				for n := 2; slugs[p.Slug]; n++ {
					p.Slug = fmt.Sprintf("%s-%d", bundle.Slug(g.Name), n)
				}
				slugs[p.Slug] = true
				out = append(out, p)
			}
			byName[name] = p
			if g.URL != "" {
				byURL[g.URL] = p
				if p.URL == "" {
					p.URL = g.URL
				}
			}
			if g.Role != "" && !slices.Contains(p.Roles, g.Role) {
				p.Roles = append(p.Roles, g.Role)
			}
			if n := len(p.Episodes); n == 0 || p.Episodes[n-1] != e {
				p.Episodes = append(p.Episodes, e) // oldest first, until the end
			}
			e.Guests = append(e.Guests, GuestLink{Guest: g, Path: r.show.Path("/guests/" + p.Slug + "/")})
		}
	}
	for _, p := range out {
		slices.Reverse(p.Episodes) // newest first
	}
	return out
}

// guestPages renders one page per guest: who they are and their episodes.
func (r *renderer) guestPages(guests []*guest) {
	show := r.show
	for _, g := range guests {
		desc := fmt.Sprintf("Episodes of %s with %s.", show.Title, g.Name)
		r.html("guests/"+g.Slug+"/index.html", "guest.html", page{Show: show, Title: g.Name + " · " + show.Title,
			Canonical: show.URL("/guests/" + g.Slug + "/"), Desc: desc, Image: show.ArtURL(), Episodes: g.Episodes, Guest: g},
			append(keys(g.Episodes), "guest:"+g.Slug+"|"+g.Name+"|"+g.URL+"|"+strings.Join(g.Roles, ","))...)
	}
}

// guestsKey identifies an episode's guests' pages, for its own page.
func guestsKey(e *Episode) string {
	var b strings.Builder
	for _, g := range e.Guests {
		b.WriteString(g.Path + ",")
	}
	return b.String()
}
