package web

import (
	"net/http"
	"strings"
)

// The Content-Security-Policy of the blog: scripts, styles and fetches
// from the site itself only (player.js, style.css, chapters and
// transcripts), images and audio from anywhere (guests' pictures, media
// kept at another host by an import), no plugins, no <base>, forms to the
// site, and framed only by the site itself; the embed player by any site.
const (
	publicCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; media-src * blob:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
	embedCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; media-src * blob:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *"
)

// HSTS is the Strict-Transport-Security a server sends when its public URL
// is https: a year, for every subdomain too being the operator's call.
const HSTS = "max-age=31536000"

// securityFields are the security headers of a public object at key (a
// path under public/, or a request's path): its policy, no sniffing of
// types, no referrer to other sites, and HSTS when the public URL is
// https. The four sets are made once.
func securityFields(key string, https bool) [][2]string {
	embed := strings.HasSuffix(key, "/embed/index.html") || strings.HasSuffix(key, "/embed/")
	return fieldSets[boolIndex(embed)*2+boolIndex(https)]
}

var fieldSets = func() (sets [4][][2]string) {
	for i := range sets {
		csp := publicCSP
		if i >= 2 {
			csp = embedCSP
		}
		f := [][2]string{{"Content-Security-Policy", csp}, {"X-Content-Type-Options", "nosniff"},
			{"Referrer-Policy", "strict-origin-when-cross-origin"}}
		if i%2 == 1 {
			f = append(f, [2]string{"Strict-Transport-Security", HSTS})
		}
		sets[i] = f
	}
	return sets
}()

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withSecurity sets the security headers on every answer of next; those
// that set their own (the desk, the pitch form) replace them.
func withSecurity(https bool, next http.Handler) http.Handler {
	// The values, made once: each a slice of one (an Add to it copies).
	var values [2][][]string
	for embed := range 2 {
		for _, f := range fieldSets[embed*2+boolIndex(https)] {
			values[embed] = append(values[embed], []string{f[1]}[:1:1])
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		embed := boolIndex(strings.HasSuffix(r.URL.Path, "/embed/"))
		for i, f := range fieldSets[embed*2+boolIndex(https)] {
			h[f[0]] = values[embed][i]
		}
		next.ServeHTTP(w, r)
	})
}
