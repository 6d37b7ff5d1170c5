// Package site renders the show-notes blog as static files: the home pages,
// one page per episode and per topic tag, an about page, the blog's Atom
// feed, the sitemap, robots.txt and the stylesheet. The files go under the
// bucket's public/ prefix, so `prodcast serve`, a CDN or the bucket itself
// can serve them. Templates are html/template, embedded in the binary.
//
//	files, err := site.Render(show, manifests, time.Now())
//	// files["episodes/flask-patterns/index.html"] = <html>...
package site
