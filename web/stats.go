package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prodcast/prodcast/analytics"
	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// statsStore is what the charts read: the shows, their manifests and the
// daily counts in the bucket.
type statsStore interface {
	catalog.Store
	catalog.Lister
}

// bar is one bar of a chart, in SVG units.
type bar struct {
	X, Y, W, H float64
	Label      string
	N          int64
}

// line is one polyline of a chart.
type line struct {
	Points string
	Label  string
	Median bool
}

type statsPage struct {
	Title      string
	Shows      []string
	Days       []bar
	DayMax     int64
	Curves     []line
	CurveMax   int64
	Apps       []bar
	AppsHeight int
	Total      int64
	From, To   string
}

var statsTemplate = template.Must(template.New("stats").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Listener numbers · {{.Title}}</title>
<style>body{font:1rem/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem}svg{width:100%;height:auto;background:#fafafa}
.bar{fill:#1f4e79}.median{stroke:#c0392b;stroke-width:3;fill:none}.ep{stroke:#7f8c8d;stroke-width:1;fill:none;opacity:.6}
text{font-size:11px;fill:#333}@media (prefers-color-scheme:dark){body{background:#111;color:#eee}svg{background:#222}text{fill:#ddd}}</style></head>
<body><main>
<h1>Listener numbers: {{.Title}}</h1>
<p>{{range .Shows}}<a href="?show={{.}}">{{if .}}{{.}}{{else}}(root){{end}}</a> {{end}}</p>
<p>{{.Total}} downloads from {{.From}} to {{.To}} (IAB rules: a listener receiving a minute of audio, once in 24 hours; bots left out).</p>
<h2>Downloads per day</h2>
<svg viewBox="0 0 600 200" role="img" aria-label="Downloads per day">{{range .Days}}<rect class="bar" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Label}}: {{.N}}</title></rect>{{end}}
<text x="2" y="12">{{.DayMax}}</text></svg>
<h2>First 30 days of each episode, against the show's median (red)</h2>
<svg viewBox="0 0 600 200" role="img" aria-label="Downloads in each episode's first 30 days">{{range .Curves}}<polyline class="{{if .Median}}median{{else}}ep{{end}}" points="{{.Points}}"><title>{{.Label}}</title></polyline>{{end}}
<text x="2" y="12">{{.CurveMax}}</text><text x="560" y="196">day 30</text></svg>
<h2>Apps</h2>
<svg viewBox="0 0 600 {{.AppsHeight}}" role="img" aria-label="Share of apps">{{range .Apps}}<rect class="bar" x="150" y="{{.Y}}" width="{{.W}}" height="16"></rect><text x="0" y="{{.H}}">{{.Label}}</text><text x="{{.X}}" y="{{.H}}">{{.N}}</text>{{end}}</svg>
</main></body></html>
`))

// stats renders /admin/stats: pictures of a show's listener numbers, drawn
// on the server as SVG, so they need no JavaScript.
func (s *server) stats(w http.ResponseWriter, r *http.Request) {
	st, ok := s.cfg.Store.(statsStore)
	if !ok {
		http.Error(w, "the bucket cannot be read for charts", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	shows, err := catalog.Shows(ctx, st)
	if err != nil {
		http.Error(w, "cannot list the shows: "+err.Error(), http.StatusBadGateway)
		return
	}
	show := r.URL.Query().Get("show")
	if !slices.Contains(shows, show) && len(shows) > 0 {
		show = shows[0]
	}
	now := time.Now().UTC()
	from := now.Add(-89 * 24 * time.Hour)
	days, err := analytics.Days(ctx, s.cfg.Counter, st, show, from, now)
	if err != nil {
		http.Error(w, "cannot read the numbers: "+err.Error(), http.StatusBadGateway)
		return
	}
	eps, err := catalog.ForShow(st, show).Manifests(ctx)
	if err != nil {
		http.Error(w, "cannot read the catalog: "+err.Error(), http.StatusBadGateway)
		return
	}
	p := chart(days, eps, from, now)
	p.Shows, p.Title = shows, show
	if show == "" {
		p.Title = "the root show"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := statsTemplate.Execute(w, p); err != nil {
		s.cfg.Log.Error("cannot render the stats page", "err", err)
	}
}

// chart lays out the three charts of a show's counts.
func chart(days map[string][]analytics.Count, eps []*pipeline.Manifest, from, to time.Time) statsPage {
	p := statsPage{From: from.Format("2006-01-02"), To: to.Format("2006-01-02")}
	perDay := map[string]int64{}
	apps := map[string]int64{}
	epDay := map[string]map[string]int64{}
	for d, counts := range days {
		for _, c := range counts {
			perDay[d] += c.N
			apps[c.App] += c.N
			p.Total += c.N
			if epDay[c.Episode] == nil {
				epDay[c.Episode] = map[string]int64{}
			}
			epDay[c.Episode][d] += c.N
		}
	}
	n := int(to.Sub(from).Hours()/24) + 1
	for _, v := range perDay {
		p.DayMax = max(p.DayMax, v)
	}
	w := 600.0 / float64(n)
	for i := range n {
		d := from.Add(time.Duration(i) * 24 * time.Hour).Format("2006-01-02")
		h := 0.0
		if p.DayMax > 0 {
			h = 180 * float64(perDay[d]) / float64(p.DayMax)
		}
		p.Days = append(p.Days, bar{X: float64(i) * w, Y: 195 - h, W: max(w-1, 1), H: h, Label: d, N: perDay[d]})
	}
	// First 30 days: cumulative downloads per day since each publish.
	var curves [][]int64
	var labels []string
	for _, m := range eps {
		if m.PubDate().IsZero() || epDay[m.Slug] == nil {
			continue
		}
		c := make([]int64, 30)
		var sum int64
		for i := range 30 {
			sum += epDay[m.Slug][m.PubDate().UTC().Add(time.Duration(i)*24*time.Hour).Format("2006-01-02")]
			c[i] = sum
		}
		curves, labels = append(curves, c), append(labels, m.Meta.Title)
	}
	for _, c := range curves {
		p.CurveMax = max(p.CurveMax, c[29])
	}
	poly := func(c []int64) string {
		var b strings.Builder
		for i, v := range c {
			y := 195.0
			if p.CurveMax > 0 {
				y -= 180 * float64(v) / float64(p.CurveMax)
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", float64(i)*600/29, y)
		}
		return b.String()
	}
	for i, c := range curves {
		p.Curves = append(p.Curves, line{Points: poly(c), Label: labels[i]})
	}
	if len(curves) > 0 {
		med := make([]int64, 30)
		for i := range 30 {
			col := make([]int64, len(curves))
			for j, c := range curves {
				col[j] = c[i]
			}
			slices.Sort(col)
			med[i] = col[len(col)/2]
		}
		p.Curves = append(p.Curves, line{Points: poly(med), Label: "median", Median: true})
	}
	for i, a := range analytics.Rank(apps) {
		wd := 0.0
		if p.Total > 0 {
			wd = 400 * float64(a.N) / float64(p.Total)
		}
		y := float64(i*20 + 2)
		p.Apps = append(p.Apps, bar{X: 155 + wd, Y: y, W: wd, H: y + 13, Label: a.Name, N: a.N})
	}
	p.AppsHeight = len(p.Apps)*20 + 4
	return p
}
