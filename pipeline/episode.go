package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is where an episode is on its way to listeners.
type State string

// The states of an episode, in the order it passes through them.
const (
	StateIngested    State = "ingested"    // original archived, waiting for encode
	StateEncoded     State = "encoded"     // media uploaded, waiting for publish
	StateScheduled   State = "scheduled"   // publish_at is in the future
	StatePublished   State = "published"   // in the feed and on the blog
	StateUnpublished State = "unpublished" // withdrawn: its page answers 410, its media is not served
	StateDeleted     State = "deleted"     // a tombstone: only the slug and the GUID are left
)

// Guest is one person interviewed in an episode.
type Guest struct {
	Name string `yaml:"name" json:"name"`
	Role string `yaml:"role" json:"role,omitempty"`
	URL  string `yaml:"url" json:"url,omitempty"`
	Img  string `yaml:"img" json:"img,omitempty"` // a picture of them, an http(s) URL
}

// Meta is what the producer wrote in episode.md's front matter.
type Meta struct {
	Title     string     `yaml:"title" json:"title"`
	Slug      string     `yaml:"slug" json:"slug"`
	Guests    []Guest    `yaml:"guests" json:"guests,omitempty"`
	PublishAt *time.Time `yaml:"publish_at" json:"publish_at,omitempty"`
	Season    int        `yaml:"season" json:"season,omitempty"`
	Episode   int        `yaml:"episode" json:"episode,omitempty"`
	Type      string     `yaml:"type" json:"type,omitempty"`
	Explicit  *bool      `yaml:"explicit" json:"explicit,omitempty"`
	Summary   string     `yaml:"summary" json:"summary,omitempty"`
	Tags      []string   `yaml:"tags" json:"tags,omitempty"`
	// Soundbites are the moments worth a listen, for podcast:soundbite
	// and the page's play-from-here links.
	Soundbites []Soundbite `yaml:"soundbites" json:"soundbites,omitempty"`
	// Social are where listeners comment on the episode, for
	// podcast:socialInteract.
	Social []Social `yaml:"social" json:"social,omitempty"`
	// License, Location and TXT override the show's for this episode.
	License  *License  `yaml:"license" json:"license,omitempty"`
	Location *Location `yaml:"location" json:"location,omitempty"`
	TXT      []TXT     `yaml:"txt" json:"txt,omitempty"`
	// TranscriptLanguage is the language of transcript.vtt (or .srt) when
	// it is not the show's, a BCP 47 tag such as de or pt-BR.
	TranscriptLanguage string `yaml:"transcript_language" json:"transcript_language,omitempty"`
}

// Social is one podcast:socialInteract: the post where an episode is
// discussed.
type Social struct {
	Protocol  string `yaml:"protocol" json:"protocol"` // activitypub, bluesky, ...
	URI       string `yaml:"uri" json:"uri,omitempty"`
	AccountID string `yaml:"account_id" json:"account_id,omitempty"`
}

// SocialProtocols are the protocols podcast:socialInteract names.
var SocialProtocols = []string{"disabled", "activitypub", "twitter", "lightning", "bluesky", "nostr", "matrix", "xmpp"}

// Soundbite is one podcast:soundbite: seconds, as 65.5 or HH:MM:SS(.mmm)
// in the front matter.
type Soundbite struct {
	Start    Seconds `yaml:"start" json:"start"`
	Duration Seconds `yaml:"duration" json:"duration"`
	Title    string  `yaml:"title" json:"title,omitempty"`
}

// Seconds is a time in an episode, read from YAML as seconds (65.5) or as
// HH:MM:SS(.mmm) / MM:SS.
type Seconds float64

// UnmarshalYAML reads 65.5, "1:05.5" or "00:01:05.500".
func (s *Seconds) UnmarshalYAML(unmarshal func(any) error) error {
	var f float64
	if err := unmarshal(&f); err == nil {
		*s = Seconds(f)
		return nil
	}
	var str string
	if err := unmarshal(&str); err != nil {
		return err
	}
	total := 0.0
	parts := strings.Split(strings.TrimSpace(str), ":")
	if len(parts) > 3 {
		return fmt.Errorf("%q is not a time such as 65.5 or 00:01:05.5", str)
	}
	for _, p := range parts {
		var v float64
		if _, err := fmt.Sscanf(p, "%g", &v); err != nil || v < 0 {
			return fmt.Errorf("%q is not a time such as 65.5 or 00:01:05.5", str)
		}
		total = total*60 + v
	}
	*s = Seconds(total)
	return nil
}

// Media is one encoded file in the public prefix.
type Media struct {
	Key         string  `json:"key"`          // object key, under public/media/
	ContentType string  `json:"content_type"` // e.g. audio/mpeg
	Bytes       int64   `json:"bytes"`        // exact length, as S3 reports it
	Duration    float64 `json:"duration"`     // seconds, as ffprobe reports it
	SHA256      string  `json:"sha256"`       // of the encoded bytes
	Bitrate     int     `json:"bitrate"`      // bits per second
	Source      string  `json:"source"`       // SHA-256 of the original it was encoded from
	// ChaptersSHA is ChaptersHash of the chapters written into the file.
	ChaptersSHA string `json:"chapters_sha,omitempty"`
}

// Loudness is an EBU R128 measurement.
type Loudness struct {
	Integrated float64 `json:"integrated_lufs"`
	Range      float64 `json:"range_lu"`
	SamplePeak float64 `json:"sample_peak_dbfs"`
	TruePeak   float64 `json:"true_peak_dbtp,omitempty"`
}

// LoudnessReport is what the audio stage measured and did.
type LoudnessReport struct {
	Target  float64  `json:"target_lufs"`
	GainDB  float64  `json:"gain_db"`
	Limited bool     `json:"limited"` // whether the true-peak limiter was in the chain
	Before  Loudness `json:"before"`  // the original
	After   Loudness `json:"after"`   // the encoded MP3
}

// Original is the recording as the producer dropped it.
type Original struct {
	Key      string  `json:"key"` // private/originals/<slug>/<sha256>.<ext>
	Name     string  `json:"name"`
	Bytes    int64   `json:"bytes"`
	SHA256   string  `json:"sha256"`
	Duration float64 `json:"duration"`
	Channels int     `json:"channels"`
	Codec    string  `json:"codec"`
	// SampleRate is the recording's own rate, in Hz; 0 in manifests
	// written before it was kept.
	SampleRate int `json:"sample_rate,omitempty"`
}

// Manifest is the record of one episode, kept at private/catalog/<slug>.json.
// It is the source of truth: the feed and pages are built from manifests.
type Manifest struct {
	Slug       string          `json:"slug"`
	GUID       string          `json:"guid,omitempty"` // set at first publish, never changed
	State      State           `json:"state"`
	Meta       Meta            `json:"meta"`
	NotesMD    string          `json:"notes_md"`             // show notes, Markdown, as dropped
	NotesHTML  string          `json:"notes_html,omitempty"` // show notes as HTML, for imported episodes
	Bundle     string          `json:"bundle"`               // name of the last bundle that updated it
	BundleID   string          `json:"bundle_id"`            // content hash of that bundle
	Original   Original        `json:"original"`             // the recording as dropped
	MP3        *Media          `json:"mp3,omitempty"`        // the feed enclosure
	Alternates []Media         `json:"alternates,omitempty"` // extra encodings (AAC, Opus)
	Art        string          `json:"art,omitempty"`        // key of the episode art under public/
	Cover      string          `json:"cover,omitempty"`      // key of the bundle's cover, as dropped
	ArtSizes   []Image         `json:"art_sizes,omitempty"`  // the art's published sizes, its own first
	Loudness   *LoudnessReport `json:"loudness,omitempty"`
	Chapters   []Chapter       `json:"chapters,omitempty"`
	Transcript *TranscriptRef  `json:"transcript,omitempty"`
	// Translations are the transcripts in other languages than the main
	// one: transcript.<lang>.vtt (or .srt) in the bundle.
	Translations []TranscriptRef `json:"translations,omitempty"`
	// Warnings are what the last bundle had worth a look that did not stop
	// the episode: a very short chapter, a transcript past the end.
	Warnings    []string  `json:"warnings,omitempty"`
	PublishedAt time.Time `json:"published_at,omitempty"`
	// MediaKept says that the last bundle brought no recording: its
	// chapters and art are in the feed and on the page, but not written
	// into the media, which was kept as it was (no encode) until a
	// recording is dropped again.
	MediaKept bool `json:"media_kept,omitempty"`
	// RefusedSHA256 is the original that the encoder refused (silent, cut
	// short, off its loudness target); it is not encoded again until a new
	// bundle brings it.
	RefusedSHA256 string `json:"refused_sha256,omitempty"`
	// Retired are the keys of media that a new encode replaced: removed
	// once a rebuild has put a feed that names the new media in their
	// place, so no old recording stays public.
	Retired []string `json:"retired,omitempty"`
	// Announce is the event (episode.published or episode.updated) sent to
	// the show's webhooks when the rebuild reports the pending bundle.
	Announce string `json:"announce,omitempty"`
	// Pending is the id of a bundle whose outcome is reported once the next
	// rebuild has put the episode in the feed.
	Pending   string    `json:"pending,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Publish marks the episode published at now; it gets its GUID the first
// time, and keeps it ever after.
func (m *Manifest) Publish(now time.Time, newGUID func() string) {
	if m.GUID == "" {
		m.GUID = newGUID()
		m.PublishedAt = now.Truncate(time.Second)
	}
	m.State = StatePublished
}

// Revive brings a deleted episode back when a recording is dropped for it
// again, under the GUID its tombstone kept: apps must not see a second
// episode. Other states are left as they are.
func (m *Manifest) Revive() {
	if m.State == StateDeleted {
		m.State = StateIngested
	}
}

// Ingest records a recording taken for the episode, to be encoded: an
// episode brought in by an import, its original copied here.
func (m *Manifest) Ingest() { m.State = StateIngested }

// Encoded records that the episode's recording was encoded; an episode
// already past that state (published, scheduled) stays as it is.
func (m *Manifest) Encoded() {
	if m.State == StateIngested {
		m.State = StateEncoded
	}
}

// Schedule holds the episode back until its publish time.
func (m *Manifest) Schedule() { m.State = StateScheduled }

// PublishImported publishes an episode imported from another host whose
// media stays where it is: its GUID and date are the old feed's.
func (m *Manifest) PublishImported(media Media) {
	m.MP3 = &media
	m.State = StatePublished
}

// Unpublish withdraws a published or scheduled episode. The manifest, the
// GUID and the media stay, for Republish.
func (m *Manifest) Unpublish() error {
	switch m.State {
	case StatePublished, StateScheduled, StateUnpublished:
		m.State = StateUnpublished
		return nil
	}
	return fmt.Errorf("episode %q is %s; only a published or scheduled episode can be unpublished", m.Slug, m.State)
}

// Republish puts an unpublished episode back, as it was.
func (m *Manifest) Republish() error {
	if m.State != StateUnpublished && m.State != StatePublished {
		return fmt.Errorf("episode %q is %s; only an unpublished episode can be republished", m.Slug, m.State)
	}
	m.State = StatePublished
	return nil
}

// Delete turns the manifest into a tombstone: the slug and the GUID stay,
// so that a bundle dropped later with the slug comes back under the same
// GUID; everything else goes.
func (m *Manifest) Delete() {
	*m = Manifest{Slug: m.Slug, GUID: m.GUID, PublishedAt: m.PublishedAt, State: StateDeleted,
		Meta: Meta{Title: m.Meta.Title, Slug: m.Slug}, CreatedAt: m.CreatedAt}
}

// Media lists the episode's own encoded files: the MP3 and the alternates.
func (m *Manifest) Media() []Media {
	var out []Media
	if m.MP3 != nil {
		out = append(out, *m.MP3)
	}
	return append(out, m.Alternates...)
}

// Withdrawn reports whether the episode was unpublished or deleted: its
// page answers 410 Gone.
func (m *Manifest) Withdrawn() bool {
	return m.State == StateUnpublished || m.State == StateDeleted
}

// PubDate is the date listeners see: publish_at if given, else the first
// publish time.
func (m *Manifest) PubDate() time.Time {
	if m.Meta.PublishAt != nil {
		return *m.Meta.PublishAt
	}
	return m.PublishedAt
}

// Live reports whether the episode may be shown to listeners at now.
func (m *Manifest) Live(now time.Time) bool {
	return m.State == StatePublished && !m.PubDate().After(now)
}

// NeedsEncode reports whether the media is missing or was encoded from
// other audio than the current original.
func (m *Manifest) NeedsEncode() bool {
	if m.Original.SHA256 == "" || m.Refused() {
		return false // imported with its media linked where it is, or refused
	}
	return m.MP3 == nil || m.MP3.Source != m.Original.SHA256 || (m.MP3.ChaptersSHA != ChaptersHash(m.Chapters) && !m.MediaKept)
}

// Refused reports whether the encoder refused the current original.
func (m *Manifest) Refused() bool {
	return m.RefusedSHA256 != "" && m.RefusedSHA256 == m.Original.SHA256
}

// ChaptersHash identifies a list of chapters; "" for none.
func ChaptersHash(cs []Chapter) string {
	if len(cs) == 0 {
		return ""
	}
	data, _ := json.Marshal(cs)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// Explicit resolves the episode's explicit flag against the show's.
func (m *Manifest) Explicit(show *Show) bool {
	if m.Meta.Explicit != nil {
		return *m.Meta.Explicit
	}
	return show.Explicit
}

// EpisodeType is "full", "trailer" or "bonus".
func (m *Manifest) EpisodeType() string {
	if m.Meta.Type == "" {
		return "full"
	}
	return strings.ToLower(m.Meta.Type)
}

// BundleResult is what the workers report back about one bundle, at
// private/bundles/<id>/result.json, so the watcher can move it to done/ or
// failed/.
type BundleResult struct {
	BundleID string `json:"bundle_id"`
	Bundle   string `json:"bundle"`
	Slug     string `json:"slug,omitempty"`
	OK       bool   `json:"ok"`
	Problem  string `json:"problem,omitempty"`
	Fix      string `json:"fix,omitempty"`
	// Note says what else happened to a bundle that is done, e.g. that a
	// newer bundle of the same episode replaced it before it was reported.
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
}

// BundleFile is one file of a dropped bundle, as uploaded by the watcher.
type BundleFile struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Key is where the watcher uploaded the file when not into the
	// bundle's folder: a recording whose notes name its episode goes
	// straight to its archive key.
	Key string `json:"key,omitempty"`
}

// PubDateOrNow is PubDate, or now for an episode not yet published.
func (m *Manifest) PubDateOrNow(now time.Time) time.Time {
	if d := m.PubDate(); !d.IsZero() {
		return d
	}
	return now
}

// Chapter is one chapter of an episode.
type Chapter struct {
	Start float64 `json:"startTime"` // seconds
	Title string  `json:"title"`
	URL   string  `json:"url,omitempty"`
}

// Cue is one caption of a transcript: who speaks, when, and what they say.
type Cue struct {
	Start   float64 `json:"start"`             // seconds
	End     float64 `json:"end"`               // seconds
	Speaker string  `json:"speaker,omitempty"` // as named in the file, "" if unknown
	Text    string  `json:"text"`              // plain text, lines joined by "\n"
}

// TranscriptRef is an episode's transcript as the manifest records it. The
// cues themselves are kept at Key, since a two-hour transcript would make
// every manifest, read at every rebuild, a hundred times larger.
type TranscriptRef struct {
	Key      string   `json:"key"`    // private/transcripts/<slug>/<sha256[:16]>.json
	Name     string   `json:"name"`   // the file as dropped: transcript.vtt or .srt
	SHA256   string   `json:"sha256"` // of the file as dropped
	Cues     int      `json:"cues"`
	Speakers []string `json:"speakers,omitempty"`
	// Language is the transcript's BCP 47 tag; "" for the main transcript
	// in the show's language.
	Language string `json:"language,omitempty"`
}

// TranscriptLanguage is the language of a transcript of m, for a show in
// language showLang.
func (m *Manifest) TranscriptLanguage(ref *TranscriptRef, showLang string) string {
	switch {
	case ref.Language != "":
		return ref.Language
	case m.Meta.TranscriptLanguage != "":
		return m.Meta.TranscriptLanguage
	}
	return showLang
}

// ContentKey identifies a manifest's content. The catalog stamps every
// change with UpdatedAt (and leaves it when it only notes that a bundle's
// outcome was reported); a manifest never written (in tests, in the bench)
// is hashed whole.
func (m *Manifest) ContentKey() string {
	if !m.UpdatedAt.IsZero() {
		return m.Slug + "@" + strconv.FormatInt(m.UpdatedAt.UnixNano(), 36)
	}
	data, _ := json.Marshal(m)
	sum := sha256.Sum256(data)
	return m.Slug + "#" + hex.EncodeToString(sum[:16])
}
