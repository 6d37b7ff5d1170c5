package pipeline

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Settings are the show.yaml keys that become channel tags of the feed,
// each written only when it has a value.
type Settings struct {
	// TXT are podcast:txt records, e.g. {purpose: applepodcastsverify}.
	TXT []TXT `yaml:"txt" json:"txt,omitempty"`
	// License is podcast:license: an SPDX name, and a URL for others.
	License License `yaml:"license" json:"license,omitempty"`
	// Location is podcast:location: what the show is about.
	Location Location `yaml:"location" json:"location,omitempty"`
	// Medium is podcast:medium: podcast (the default), music, audiobook...
	Medium string `yaml:"medium" json:"medium,omitempty"`
	// UpdateFrequency is podcast:updateFrequency.
	UpdateFrequency UpdateFrequency `yaml:"update_frequency" json:"update_frequency,omitempty"`
	// Podroll is podcast:podroll: shows the producer recommends.
	Podroll []RemoteFeed `yaml:"podroll" json:"podroll,omitempty"`
	// Publisher is podcast:publisher: the feed of the network behind the show.
	Publisher RemoteFeed `yaml:"publisher" json:"publisher,omitempty"`
	// Block is podcast:block and itunes:block: keep the show out of
	// directories.
	Block bool `yaml:"block" json:"block,omitempty"`
	// Complete is itunes:complete: no episode will follow.
	Complete bool `yaml:"complete" json:"complete,omitempty"`
	// NewFeedURL is itunes:new-feed-url, when the show moves away.
	NewFeedURL string `yaml:"new_feed_url" json:"new_feed_url,omitempty"`
	// Value is podcast:value: how listeners' apps send the show money
	// as they listen (value4value), with its recipients.
	Value *Value `yaml:"value" json:"value,omitempty"`
}

// Value is podcast:value.
type Value struct {
	Type       string           `yaml:"type" json:"type"`     // e.g. lightning
	Method     string           `yaml:"method" json:"method"` // e.g. keysend
	Suggested  string           `yaml:"suggested" json:"suggested,omitempty"`
	Recipients []ValueRecipient `yaml:"recipients" json:"recipients"`
}

// ValueRecipient is one podcast:valueRecipient.
type ValueRecipient struct {
	Name        string `yaml:"name" json:"name,omitempty"`
	Type        string `yaml:"type" json:"type"` // e.g. node
	Address     string `yaml:"address" json:"address"`
	Split       int    `yaml:"split" json:"split"` // a share of the whole
	CustomKey   string `yaml:"custom_key" json:"custom_key,omitempty"`
	CustomValue string `yaml:"custom_value" json:"custom_value,omitempty"`
	Fee         bool   `yaml:"fee" json:"fee,omitempty"`
}

// CheckValue says what is wrong with a podcast:value block.
func CheckValue(v Value) error {
	if v.Type == "" || v.Method == "" {
		return fmt.Errorf("value needs a type and a method, such as type: lightning, method: keysend")
	}
	if len(v.Recipients) == 0 {
		return fmt.Errorf("value needs at least one recipient")
	}
	total := 0
	for i, r := range v.Recipients {
		switch {
		case r.Type == "" || r.Address == "":
			return fmt.Errorf("value recipient %d needs a type (e.g. node) and an address", i+1)
		case r.Split <= 0:
			return fmt.Errorf("value recipient %d has split %d; a split is a share above 0", i+1, r.Split)
		case (r.CustomKey == "") != (r.CustomValue == ""):
			return fmt.Errorf("value recipient %d needs custom_key and custom_value together", i+1)
		}
		if !r.Fee {
			total += r.Split
		}
	}
	if total == 0 {
		return fmt.Errorf("value recipients other than fees have no share: the splits must add up to more than 0")
	}
	return nil
}

// TXT is one podcast:txt record.
type TXT struct {
	Purpose string `yaml:"purpose" json:"purpose,omitempty"`
	Value   string `yaml:"value" json:"value"`
}

// License is podcast:license.
type License struct {
	Name string `yaml:"name" json:"name,omitempty"`
	URL  string `yaml:"url" json:"url,omitempty"`
}

// Location is podcast:location.
type Location struct {
	Name string `yaml:"name" json:"name,omitempty"`
	Geo  string `yaml:"geo" json:"geo,omitempty"` // geo:lat,lon
	OSM  string `yaml:"osm" json:"osm,omitempty"` // e.g. R113314
}

// UpdateFrequency is podcast:updateFrequency.
type UpdateFrequency struct {
	RRule    string `yaml:"rrule" json:"rrule,omitempty"`
	Text     string `yaml:"text" json:"text,omitempty"`
	Complete bool   `yaml:"complete" json:"complete,omitempty"`
}

// RemoteFeed names another feed, for podcast:remoteItem.
type RemoteFeed struct {
	FeedGUID string `yaml:"feed_guid" json:"feed_guid,omitempty"`
	FeedURL  string `yaml:"feed_url" json:"feed_url,omitempty"`
}

// Mediums are the values podcast:medium takes, and each with "L" for a list.
var Mediums = []string{"podcast", "music", "video", "film", "audiobook", "newsletter", "blog", "publisher", "course", "mixed"}

// TXTPurposes are the purposes prodcast knows; others are allowed, up to
// 128 characters, as the namespace says.
var TXTPurposes = []string{"applepodcastsverify", "verify", "ai-content", "spotify", "youtube", "podcastindex"}

var (
	geoURI   = regexp.MustCompile(`^geo:-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?(,-?\d+(\.\d+)?)?(;u=\d+(\.\d+)?)?$`)
	osmID    = regexp.MustCompile(`^[NWR]\d+(#\d+)?$`)
	rrule    = regexp.MustCompile(`^FREQ=(SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)(;[A-Z]+=[A-Za-z0-9,+-:]+)*$`)
	feedGUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// CheckGeo says what is wrong with a geo URI (RFC 5870).
func CheckGeo(s string) error {
	if !geoURI.MatchString(s) {
		return fmt.Errorf("%q is not a geo URI such as geo:51.5072,-0.1276", s)
	}
	var lat, lon float64
	fmt.Sscanf(strings.TrimPrefix(s, "geo:"), "%g,%g", &lat, &lon)
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return fmt.Errorf("%q is off the globe: latitude is -90 to 90, longitude -180 to 180", s)
	}
	return nil
}

// CheckRRule says what is wrong with an RFC 5545 recurrence rule, as far
// as the namespace's apps read it.
func CheckRRule(s string) error {
	if !rrule.MatchString(s) {
		return fmt.Errorf("%q is not a recurrence rule such as FREQ=WEEKLY;BYDAY=TU (RFC 5545)", s)
	}
	return nil
}

// CheckMedium says whether m is a podcast:medium.
func CheckMedium(m string) error {
	for _, v := range Mediums {
		if m == v || m == v+"L" {
			return nil
		}
	}
	return fmt.Errorf("%q is not a medium: use one of %s (or one of them with L, for a list)", m, strings.Join(Mediums, ", "))
}

// CheckFeedGUID says whether g is a podcast:guid (a UUID).
func CheckFeedGUID(g string) error {
	if !feedGUID.MatchString(g) {
		return fmt.Errorf("%q is not a podcast:guid (a lower-case UUID such as 917393e3-1b1e-5cef-ace4-edaa54e1f810)", g)
	}
	return nil
}

func (r RemoteFeed) validate(key string) error {
	if r.FeedGUID == "" {
		return Inputf("edit show.yaml", "show.yaml %s needs feed_guid, the other show's podcast:guid", key)
	}
	if err := CheckFeedGUID(r.FeedGUID); err != nil {
		return Inputf("edit show.yaml", "show.yaml %s.feed_guid: %v", key, err)
	}
	if r.FeedURL != "" && !httpURL(r.FeedURL) {
		return Inputf("edit show.yaml", "show.yaml %s.feed_url %q is not an http(s) URL", key, r.FeedURL)
	}
	return nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validate names the first setting that is wrong.
func (s *Settings) validate() error {
	const fix = "edit show.yaml"
	for i, t := range s.TXT {
		switch {
		case strings.TrimSpace(t.Value) == "" || len(t.Value) > 4000:
			return Inputf(fix, "show.yaml txt %d needs a value of 1 to 4,000 characters", i+1)
		case len(t.Purpose) > 128:
			return Inputf(fix, "show.yaml txt %d: its purpose is longer than 128 characters", i+1)
		}
	}
	if s.License.URL != "" && !httpURL(s.License.URL) {
		return Inputf(fix, "show.yaml license.url %q is not an http(s) URL", s.License.URL)
	}
	if s.License.URL != "" && s.License.Name == "" {
		return Inputf(fix, "show.yaml license needs a name (an SPDX identifier such as CC-BY-4.0, or your own)")
	}
	if l := s.Location; l.Name == "" && (l.Geo != "" || l.OSM != "") {
		return Inputf(fix, "show.yaml location needs a name, such as Berlin, besides geo or osm")
	}
	if s.Location.Geo != "" {
		if err := CheckGeo(s.Location.Geo); err != nil {
			return Inputf(fix, "show.yaml location.geo: %v", err)
		}
	}
	if s.Location.OSM != "" && !osmID.MatchString(s.Location.OSM) {
		return Inputf(fix, "show.yaml location.osm %q is not an OpenStreetMap id such as R62422", s.Location.OSM)
	}
	if s.Medium != "" {
		if err := CheckMedium(s.Medium); err != nil {
			return Inputf(fix, "show.yaml medium: %v", err)
		}
	}
	if u := s.UpdateFrequency; u.RRule != "" || u.Text != "" || u.Complete {
		if u.Text == "" {
			return Inputf(fix, `show.yaml update_frequency needs text, such as "Every other Tuesday"`)
		}
		if u.RRule != "" {
			if err := CheckRRule(u.RRule); err != nil {
				return Inputf(fix, "show.yaml update_frequency.rrule: %v", err)
			}
		}
	}
	for i, r := range s.Podroll {
		if err := r.validate(fmt.Sprintf("podroll %d", i+1)); err != nil {
			return err
		}
	}
	if s.Publisher != (RemoteFeed{}) {
		if err := s.Publisher.validate("publisher"); err != nil {
			return err
		}
	}
	if s.Value != nil {
		if err := CheckValue(*s.Value); err != nil {
			return Inputf(fix, "show.yaml %v", err)
		}
	}
	if s.NewFeedURL != "" && !httpURL(s.NewFeedURL) {
		return Inputf(fix, "show.yaml new_feed_url %q is not an http(s) URL", s.NewFeedURL)
	}
	return nil
}

var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)

// IsLanguageTag reports whether s has the form of a BCP 47 language tag:
// en, de, pt-BR, zh-Hant.
func IsLanguageTag(s string) bool { return languageTag.MatchString(s) }
