package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/mail"
	"net/url"
	"strings"
)

// Show is one podcast, read from DIR/show.yaml (the root show) or
// DIR/shows/<name>/show.yaml.
type Show struct {
	// Name is the show's folder under shows/, "" for the root show. It is
	// the prefix of the show's URLs unless its base_url says otherwise.
	Name string `yaml:"-" json:"name,omitempty"`

	Title       string  `yaml:"title" json:"title"`
	Description string  `yaml:"description" json:"description"`
	Author      string  `yaml:"author" json:"author"`
	Owner       Owner   `yaml:"owner" json:"owner"`
	Language    string  `yaml:"language" json:"language"`
	Category    string  `yaml:"category" json:"category"`
	Subcategory string  `yaml:"subcategory" json:"subcategory,omitempty"`
	Explicit    bool    `yaml:"explicit" json:"explicit"`
	Image       string  `yaml:"image" json:"image,omitempty"`
	BaseURL     string  `yaml:"base_url" json:"base_url"`
	Funding     Funding `yaml:"funding" json:"funding,omitempty"`
	// Templates is a folder, relative to the data folder, whose files
	// replace the blog's built-in templates of the same names.
	Templates string `yaml:"templates" json:"templates,omitempty"`
	Audio     Audio  `yaml:"audio" json:"audio"`
	// Notify says who is told when the feed changes; nil for the defaults
	// (see Targets).
	Notify *Notify `yaml:"notify" json:"notify,omitempty"`
	// Topics are the tags a guest may pick on the pitch form, besides
	// those the show's episodes already have.
	Topics []string `yaml:"topics" json:"topics,omitempty"`
	// Analytics: op3 prefixes every enclosure with OP3's counting prefix.
	Analytics Analytics `yaml:"analytics" json:"analytics,omitempty"`
	// AppleID is the show's Apple Podcasts id (the digits after "id" in
	// its podcasts.apple.com address): the blog links Apple Podcasts, and
	// apps that look shows up by it (Overcast, Pocket Casts, Castro).
	AppleID string `yaml:"apple_id" json:"apple_id,omitempty"`

	// Settings are the channel tags of the feed that show.yaml sets.
	Settings `yaml:",inline"`

	// Art is the published show art: an object key under public/ or a URL.
	// The watcher fills it in when it uploads the image; empty until then.
	Art string `yaml:"-" json:"art,omitempty"`
	// ArtSizes are the published sizes of the show art, its own first;
	// empty while they are being made, or for art at a URL.
	ArtSizes []Image `yaml:"-" json:"art_sizes,omitempty"`
}

// Analytics is the analytics: block of show.yaml.
type Analytics struct {
	// OP3 prefixes every enclosure and alternate enclosure URL with
	// https://op3.dev/e,pg=<podcast:guid>/, so OP3 counts them too.
	OP3 bool `yaml:"op3" json:"op3,omitempty"`
}

// Owner is who Apple and podcast directories contact about the show.
type Owner struct {
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email" json:"email"`
}

// Funding is an optional link where listeners can support the show.
type Funding struct {
	URL  string `yaml:"url" json:"url,omitempty"`
	Text string `yaml:"text" json:"text,omitempty"`
}

// Audio is how recordings are processed.
type Audio struct {
	// LoudnessStereo and LoudnessMono are the integrated loudness targets
	// in LUFS (EBU R128): -16 and -19 by default, as Apple and most apps
	// expect.
	LoudnessStereo float64 `yaml:"loudness_stereo" json:"loudness_stereo"`
	LoudnessMono   float64 `yaml:"loudness_mono" json:"loudness_mono"`
	// TruePeak is the highest true peak allowed, in dBTP; default -1.
	TruePeak float64 `yaml:"true_peak" json:"true_peak"`
	// MP3StereoKbps and MP3MonoKbps are the CBR bitrates of the feed's MP3.
	MP3StereoKbps int `yaml:"mp3_stereo_kbps" json:"mp3_stereo_kbps"`
	MP3MonoKbps   int `yaml:"mp3_mono_kbps" json:"mp3_mono_kbps"`
	// Formats are extra encodings besides the MP3: "aac" (.m4a), "opus".
	Formats []string `yaml:"formats" json:"formats,omitempty"`
}

// Defaults fills in the defaults that DESIGN.md promises.
func (s *Show) Defaults(baseURL string) {
	if s.Language == "" {
		s.Language = "en"
	}
	if s.BaseURL == "" {
		s.BaseURL = baseURL
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	if s.Author == "" {
		s.Author = s.Owner.Name
	}
	a := &s.Audio
	if a.LoudnessStereo == 0 {
		a.LoudnessStereo = -16
	}
	if a.LoudnessMono == 0 {
		a.LoudnessMono = -19
	}
	if a.TruePeak == 0 {
		a.TruePeak = -1
	}
	if a.MP3StereoKbps == 0 {
		a.MP3StereoKbps = 128
	}
	if a.MP3MonoKbps == 0 {
		a.MP3MonoKbps = 64
	}
}

// Validate names the first field of show.yaml that is wrong.
func (s *Show) Validate() error {
	const fix = "edit show.yaml"
	switch {
	case strings.TrimSpace(s.Title) == "":
		return Inputf(fix, `show.yaml has no "title"`)
	case strings.TrimSpace(s.Description) == "":
		return Inputf(fix, `show.yaml has no "description"`)
	case s.BaseURL == "":
		return Inputf(fix, `show.yaml has no "base_url"`)
	}
	if u, err := url.Parse(s.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Inputf(fix, "show.yaml base_url %q is not an http(s) URL", s.BaseURL)
	}
	a := s.Audio
	if a.LoudnessStereo < -40 || a.LoudnessStereo > -5 || a.LoudnessMono < -40 || a.LoudnessMono > -5 {
		return Inputf(fix, "show.yaml audio loudness targets must lie between -40 and -5 LUFS")
	}
	if a.TruePeak < -10 || a.TruePeak > 0 {
		return Inputf(fix, "show.yaml audio.true_peak %.1f must lie between -10 and 0 dBTP", a.TruePeak)
	}
	for _, f := range a.Formats {
		if f != "aac" && f != "opus" {
			return Inputf(fix+`: formats may list "aac" and "opus"`, "show.yaml audio.formats names %q", f)
		}
	}
	if s.Notify != nil {
		if err := s.Notify.validate(); err != nil {
			return err
		}
	}
	if s.AppleID != "" && strings.Trim(s.AppleID, "0123456789") != "" {
		return Inputf(fix+": apple_id is the number after \"id\" in the show's podcasts.apple.com address",
			"show.yaml apple_id %q is not a number", s.AppleID)
	}
	if s.Owner.Email != "" {
		if _, err := mail.ParseAddress(s.Owner.Email); err != nil {
			return Inputf(fix, "show.yaml owner.email %q is not an e-mail address", s.Owner.Email)
		}
	}
	return s.Settings.validate()
}

// URL joins the show's base URL and a path that starts with "/".
func (s *Show) URL(path string) string { return s.BaseURL + path }

// Path is the link to a path of the show's site from its own pages: the
// path of the base URL, then path ("/" + the show's name + path for a show
// under shows/ served at the install's URL; path alone for the root show,
// or for a show with a host of its own).
func (s *Show) Path(path string) string {
	u, err := url.Parse(s.BaseURL)
	if err != nil {
		return path
	}
	return strings.TrimRight(u.Path, "/") + path
}

// ShowBaseURL is the base URL of a show that names none in its show.yaml:
// the install's, for the root show, and the install's plus /<name>/ for a
// show under shows/.
func ShowBaseURL(install, name string) string {
	install = strings.TrimRight(install, "/")
	if name == "" {
		return install
	}
	return install + "/" + name
}

// FeedURL is the public URL of the podcast RSS feed.
func (s *Show) FeedURL() string { return s.URL("/feed.xml") }

// EpisodesDir is the folder of the episodes' pages, under a show's site:
// episodes/<slug>/ is one episode's page and what sits beside it.
const EpisodesDir = "episodes/"

// EpisodeDir is one episode's folder in a show's site: episodes/<slug>/.
func EpisodeDir(slug string) string { return EpisodesDir + slug + "/" }

// EpisodeURL is the public URL of one episode's page.
func (s *Show) EpisodeURL(slug string) string {
	return s.URL("/" + EpisodeDir(slug))
}

// EpisodePath is the path of one episode's page under the show's base
// URL's host, for links within the site.
func (s *Show) EpisodePath(slug string) string { return s.Path("/" + EpisodeDir(slug)) }

// PublicURL turns one of the show's public object keys (public/... for the
// root show, public/<name>/... for another) into its public URL. A full
// URL is returned as it is.
func (s *Show) PublicURL(key string) string {
	if strings.HasPrefix(key, "http://") || strings.HasPrefix(key, "https://") {
		return key
	}
	prefix := "public/"
	if s.Name != "" {
		prefix += s.Name + "/"
	}
	return s.BaseURL + "/" + strings.TrimPrefix(key, prefix)
}

// ArtURL is the public URL of the show's art, or "" if it has none.
func (s *Show) ArtURL() string {
	if s.Art == "" {
		return ""
	}
	return s.PublicURL(s.Art)
}

// Fingerprint identifies the show's settings: whatever is rendered from
// them (pages, feed items) is rendered again when it changes.
func (s *Show) Fingerprint() string {
	data, _ := json.Marshal(s)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
