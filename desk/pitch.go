package desk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/workers"
)

// The limits of the pitch form.
const (
	pitchMaxBytes    = 10 << 10        // a whole pitch, as sent
	pitchPerHour     = 5               // pitches an address (IPv6: a /64) may send in an hour
	pitchPerDay      = 10              // and in a day
	pitchNotifyEvery = 5 * time.Minute // a show's webhooks hear of one pitch at once, then of the rest once a window
)

// honeypot is the form field that people never see and bots fill in.
const honeypot = "website"

type cachedTopics struct {
	topics []string
	at     time.Time
}

// showTopics are the tags a guest may pick: show.yaml's topics, then the
// tags of the show's published episodes. They are read once a minute.
func (d *Desk) showTopics(ctx context.Context, show string) []string {
	d.topicsMu.Lock()
	c, ok := d.topics[show]
	d.topicsMu.Unlock()
	if ok && d.cfg.Now().Sub(c.at) < time.Minute {
		return slices.Clone(c.topics)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cat := catalog.ForShow(d.cfg.Store, show)
	var topics []string
	if s, err := d.showInfo(ctx, show); err == nil {
		topics = append(topics, s.Topics...)
	}
	if eps, err := cat.Manifests(ctx); err == nil {
		var tags []string
		for _, m := range eps {
			if m.State == pipeline.StatePublished {
				tags = append(tags, m.Meta.Tags...)
			}
		}
		slices.Sort(tags)
		topics = append(topics, tags...)
	}
	var out []string
	for _, t := range topics {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	d.topicsMu.Lock()
	d.topics[show] = cachedTopics{topics: out, at: d.cfg.Now()}
	d.topicsMu.Unlock()
	return slices.Clone(out)
}

type pitchForm struct {
	ShowTitle string
	BlogURL   string
	Action    string
	Topics    []string
	Pitch     pipeline.Pitch
	LinksText string
	Problems  []string
	Thanks    bool
	Message   string
	Shows     []pitchShow // /pitch/ with no root show: where to go
}

type pitchShow struct{ Title, URL string }

// Pitch serves the guest's door: /pitch/ for the root show and
// /<show>/pitch/ for the others. It needs no login: abuse is held off by
// a honeypot field, a limit of pitchPerHour per address and pitchMaxBytes
// per pitch, and what a guest types is only ever shown escaped.
func (d *Desk) Pitch() http.Handler {
	return d.secure(http.HandlerFunc(d.pitchDoor))
}

func (d *Desk) pitchDoor(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	show := r.PathValue("show")
	shows, err := catalog.Shows(ctx, d.cfg.Store)
	if err != nil {
		d.pitchPage(w, http.StatusBadGateway, &pitchForm{Message: "The form cannot be shown right now; please try again in a few minutes."})
		return
	}
	if !slices.Contains(shows, show) {
		if show == "" && len(shows) > 0 {
			d.pitchChooser(ctx, w, shows)
			return
		}
		http.NotFound(w, r)
		return
	}
	info, err := d.showInfo(ctx, show)
	if err != nil {
		d.pitchPage(w, http.StatusBadGateway, &pitchForm{Message: "The form cannot be shown right now; please try again in a few minutes."})
		return
	}
	f := &pitchForm{ShowTitle: info.Title, BlogURL: info.Path("/"), Action: info.Path("/pitch/"), Topics: d.showTopics(ctx, show)}
	if r.Method != http.MethodPost {
		d.pitchPage(w, http.StatusOK, f)
		return
	}
	d.receivePitch(ctx, w, r, show, f)
}

func (d *Desk) pitchChooser(ctx context.Context, w http.ResponseWriter, shows []string) {
	f := &pitchForm{Message: "Which show would you like to be a guest of?"}
	for _, s := range shows {
		if info, err := d.showInfo(ctx, s); err == nil {
			f.Shows = append(f.Shows, pitchShow{Title: info.Title, URL: info.Path("/pitch/")})
		}
	}
	d.pitchPage(w, http.StatusOK, f)
}

func (d *Desk) receivePitch(ctx context.Context, w http.ResponseWriter, r *http.Request, show string, f *pitchForm) {
	r.Body = http.MaxBytesReader(w, r.Body, pitchMaxBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			f.Message = fmt.Sprintf("Your pitch is longer than %d KB. Please shorten it: a summary is enough, we will ask for more.", pitchMaxBytes>>10)
			d.pitchPage(w, http.StatusRequestEntityTooLarge, f)
			return
		}
		f.Message = "The form could not be read; please send it again."
		d.pitchPage(w, http.StatusBadRequest, f)
		return
	}
	ip := d.clientIP(r)
	if r.PostFormValue(honeypot) != "" {
		d.cfg.Log.Info("pitch dropped: the honeypot was filled", "show", show, "ip", ip)
		f.Thanks = true
		d.pitchPage(w, http.StatusOK, f)
		return
	}
	// The slots are taken before the pitch is read, so that concurrent
	// pitches cannot overtake the count; a pitch that is not stored gives
	// them back.
	from := LimitKey(d.cfg.ClientIP(r))
	slots := []string{"pitch:hour:" + from, "pitch:day:" + from}
	for i, n := range []int{pitchPerHour, pitchPerDay} {
		ok, retry, err := d.limits.Allow(ctx, slots[i], n, []time.Duration{time.Hour, 24 * time.Hour}[i])
		if err != nil {
			f.Message = "Your pitch could not be taken just now; please send it again in a few minutes."
			d.pitchPage(w, http.StatusServiceUnavailable, f)
			return
		}
		if !ok {
			w.Header().Set("Retry-After", fmt.Sprint(max(1, int(retry.Seconds()))))
			f.Message = fmt.Sprintf("You have sent %d pitches in the last %s; that is the most we take. Please try again later.",
				n, []string{"hour", "day"}[i])
			d.pitchPage(w, http.StatusTooManyRequests, f)
			return
		}
	}
	stored := false
	defer func() {
		if !stored {
			for _, k := range slots {
				d.limits.Release(context.WithoutCancel(ctx), k)
			}
		}
	}()
	now := d.cfg.Now().UTC()
	p := pipeline.Pitch{
		Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Role: strings.TrimSpace(r.PostFormValue("role")), Company: strings.TrimSpace(r.PostFormValue("company")),
		Story: strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("story"), "\r\n", "\n")), Consent: r.PostFormValue("consent") == "yes",
		Status: pipeline.PitchNew, Received: now.Truncate(time.Second), Updated: now.Truncate(time.Second),
	}
	for _, t := range r.PostForm["topic"] {
		if slices.Contains(f.Topics, t) && !slices.Contains(p.Topics, t) {
			p.Topics = append(p.Topics, t)
		}
	}
	f.LinksText = r.PostFormValue("links")
	for _, l := range strings.Fields(f.LinksText) {
		p.Links = append(p.Links, l)
	}
	f.Pitch = p
	if f.Problems = p.Validate(); len(f.Problems) > 0 {
		d.pitchPage(w, http.StatusBadRequest, f)
		return
	}
	b := make([]byte, 4)
	rand.Read(b)
	p.ID = now.Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
	if err := catalog.ForShow(d.cfg.Store, show).PutPitch(ctx, &p); err != nil {
		d.cfg.Log.Error("cannot store a pitch", "show", show, "err", err)
		f.Message = "Your pitch could not be saved just now; please send it again in a few minutes."
		d.pitchPage(w, http.StatusServiceUnavailable, f)
		return
	}
	stored = true
	d.cfg.Log.Info("pitch received", "show", show, "pitch", p.ID)
	d.announcePitch(ctx, show, &p)
	f.Thanks = true
	d.pitchPage(w, http.StatusOK, f)
}

// pitchCache is the show's inbox as last read.
func (d *Desk) pitchCache(show string) *catalog.PitchCache {
	c, _ := d.pitchCaches.LoadOrStore(show, &catalog.PitchCache{})
	return c.(*catalog.PitchCache)
}

// announcePitch tells the show's webhooks of a pitch: the first of a
// window at once, the rest in one digest at the window's end.
func (d *Desk) announcePitch(ctx context.Context, show string, p *pipeline.Pitch) {
	if d.cfg.Queue == nil {
		return
	}
	inbox := strings.TrimRight(d.cfg.BaseURL, "/") + "/admin/shows/" + linkFor(show).Token + "/pitches/"
	first, retry, err := d.limits.Allow(ctx, "pitch:notify:"+show, 1, pitchNotifyEvery)
	if err == nil && !first {
		err = d.cfg.Queue.EnqueuePitchDigest(ctx, show, p.Received, d.cfg.Now().Add(retry), inbox)
	} else {
		ev := workers.PitchEvent{ID: p.ID, Name: p.Name, Role: p.Role, Company: p.Company, Topics: p.Topics, DeskURL: inbox + p.ID}
		err = d.cfg.Queue.EnqueuePitch(ctx, show, ev)
	}
	if err != nil {
		d.cfg.Log.Warn("cannot announce a pitch to the webhooks; it is in the desk", "pitch", p.ID, "err", err)
	}
}

func (d *Desk) pitchPage(w http.ResponseWriter, code int, f *pitchForm) {
	var buf strings.Builder
	if err := d.tmpl["pitch-public"].ExecuteTemplate(&buf, "pitch-public", f); err != nil {
		d.cfg.Log.Error("cannot render the pitch form", "err", err)
		http.Error(w, "cannot render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(buf.String()))
}

type inboxPage struct {
	page
	Status   string
	Statuses []pipeline.PitchStatus
	Counts   map[pipeline.PitchStatus]int
	Pitches  []*pipeline.Pitch
}

// pitches is a show's inbox, by status (all but archived unless asked).
func (d *Desk) pitches(w http.ResponseWriter, r *http.Request) {
	show, ok := d.showOf(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	all, err := d.pitchCache(show).Pitches(ctx, catalog.ForShow(d.cfg.Store, show))
	if err != nil {
		d.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	p := &inboxPage{page: d.page(r, "Pitches"), Status: r.URL.Query().Get("status"), Statuses: pipeline.PitchStatuses,
		Counts: map[pipeline.PitchStatus]int{}}
	p.Show = linkFor(show)
	for _, pt := range all {
		p.Counts[pt.Status]++
		if (p.Status == "" && pt.Status != pipeline.PitchArchived) || string(pt.Status) == p.Status {
			p.Pitches = append(p.Pitches, pt)
		}
	}
	d.render(w, r, http.StatusOK, "pitches", p)
}

type onePitchPage struct {
	page
	Pitch    *pipeline.Pitch
	Links    []pitchLink
	Statuses []pipeline.PitchStatus
}

type pitchLink struct {
	Text string
	Href string // "" unless an http(s) URL
}

func (d *Desk) pitch(w http.ResponseWriter, r *http.Request) {
	show, pt, ok := d.loadPitch(w, r)
	if !ok {
		return
	}
	p := &onePitchPage{page: d.page(r, "Pitch from "+pt.Name), Pitch: pt, Statuses: pipeline.PitchStatuses}
	p.Show = linkFor(show)
	for _, l := range pt.Links {
		pl := pitchLink{Text: l}
		if u, err := url.Parse(l); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			pl.Href = u.String()
		}
		p.Links = append(p.Links, pl)
	}
	d.render(w, r, http.StatusOK, "pitch", p)
}

func (d *Desk) loadPitch(w http.ResponseWriter, r *http.Request) (string, *pipeline.Pitch, bool) {
	show, ok := d.showOf(w, r)
	if !ok {
		return "", nil, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	pt, err := catalog.ForShow(d.cfg.Store, show).Pitch(ctx, r.PathValue("id"))
	if err != nil {
		d.fail(w, r, http.StatusNotFound, "There is no such pitch (deleted?).")
		return "", nil, false
	}
	return show, pt, true
}

func (d *Desk) pitchStatus(w http.ResponseWriter, r *http.Request) {
	show, pt, ok := d.loadPitch(w, r)
	if !ok {
		return
	}
	status := r.PostFormValue("status")
	if !pipeline.ValidPitchStatus(status) {
		d.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a status: use new, accepted, declined or archived.", status))
		return
	}
	pt.Status = pipeline.PitchStatus(status)
	pt.Updated = d.cfg.Now().UTC().Truncate(time.Second)
	if err := catalog.ForShow(d.cfg.Store, show).PutPitch(r.Context(), pt); err != nil {
		d.fail(w, r, http.StatusBadGateway, "Cannot save it: "+err.Error())
		return
	}
	d.note(r, "The pitch of %s is now %s.", pt.Name, status)
	http.Redirect(w, r, "/admin/shows/"+linkFor(show).Token+"/pitches/"+pt.ID, http.StatusSeeOther)
}

// pitchDelete removes a pitch and so all the guest sent: what a guest
// asks for when they want their data gone.
func (d *Desk) pitchDelete(w http.ResponseWriter, r *http.Request) {
	show, pt, ok := d.loadPitch(w, r)
	if !ok {
		return
	}
	if err := catalog.ForShow(d.cfg.Store, show).DeletePitch(r.Context(), pt.ID); err != nil {
		d.fail(w, r, http.StatusBadGateway, "Cannot delete it: "+err.Error())
		return
	}
	d.cfg.Log.Info("pitch deleted from the desk", "show", show, "pitch", pt.ID, "user", d.sessions.GetString(r.Context(), sessUser))
	d.note(r, "The pitch of %s and everything in it is deleted.", pt.Name)
	http.Redirect(w, r, "/admin/shows/"+linkFor(show).Token+"/pitches/", http.StatusSeeOther)
}
