package catalog

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Layout is where one show's objects live in the bucket. It computes every
// object key; nothing else spells a prefix. The root show (the files at the
// top of the data folder) keeps the layout of a single-show install:
// public/ and private/. A show under shows/<name>/ lives under
// public/<name>/ and private/<name>/.
type Layout struct {
	Show string // "" for the root show
}

// RootPublic is the prefix of everything listeners may fetch, of all shows.
const RootPublic = "public/"

// RootPrivate is the prefix of the record, of all shows.
const RootPrivate = "private/"

// Public is the prefix of the show's public objects.
func (l Layout) Public() string {
	if l.Show == "" {
		return RootPublic
	}
	return RootPublic + l.Show + "/"
}

// Private is the prefix of the show's record.
func (l Layout) Private() string {
	if l.Show == "" {
		return RootPrivate
	}
	return RootPrivate + l.Show + "/"
}

// PublicKey is the key of a public path of the show's site, such as
// "feed.xml" or "episodes/x/index.html".
func (l Layout) PublicKey(p string) string { return l.Public() + p }

// PublicPath is the path of a public key within the show's site: the
// inverse of PublicKey.
func (l Layout) PublicPath(key string) (string, bool) {
	if !strings.HasPrefix(key, l.Public()) {
		return "", false
	}
	return strings.TrimPrefix(key, l.Public()), true
}

// Owns reports whether a public key belongs to this show's site, and not to
// a show nested under the root show's prefix.
func (l Layout) Owns(key string, shows map[string]bool) bool {
	p, ok := l.PublicPath(key)
	if !ok {
		return false
	}
	if l.Show == "" {
		first, _, _ := strings.Cut(p, "/")
		return !shows[first]
	}
	return true
}

// FeedKey is the key of the podcast RSS.
func (l Layout) FeedKey() string { return l.PublicKey("feed.xml") }

// MediaPrefix is the prefix of the show's encoded media and art.
func (l Layout) MediaPrefix() string { return l.PublicKey("media/") }

// MediaKey is the immutable, content-hashed key of an encoded file.
func (l Layout) MediaKey(slug, sha256, ext string) string {
	return l.MediaPrefix() + slug + "/" + sha256[:16] + ext
}

// ArtKey is the immutable, content-hashed key of show or episode art.
func (l Layout) ArtKey(sha256, ext string) string {
	return l.MediaPrefix() + "art/" + sha256[:16] + ext
}

// ArtSizeKey is the key of art scaled to width, in the format of ext.
func (l Layout) ArtSizeKey(art string, width int, ext string) string {
	return strings.TrimSuffix(art, path.Ext(art)) + "-" + strconv.Itoa(width) + ext
}

// ArtSizesKey records the sizes made of the show's art.
func (l Layout) ArtSizesKey() string { return l.Private() + "show-art-sizes.json" }

// CatalogPrefix is the prefix of the manifests.
func (l Layout) CatalogPrefix() string { return l.Private() + "catalog/" }

// ManifestKey is where an episode's manifest lives.
func (l Layout) ManifestKey(slug string) string { return l.CatalogPrefix() + slug + ".json" }

// BundlesPrefix is the prefix of the bundles the watcher uploaded.
func (l Layout) BundlesPrefix() string { return l.Private() + "bundles/" }

// BundleFilesPrefix is the prefix of one bundle's uploaded files.
func (l Layout) BundleFilesPrefix(id string) string { return l.BundlesPrefix() + id + "/files/" }

// BundleFileKey is where the watcher uploads one file of a bundle.
func (l Layout) BundleFileKey(id, name string) string { return l.BundleFilesPrefix(id) + name }

// ResultKey is where the workers report a bundle's outcome.
func (l Layout) ResultKey(id string) string { return l.BundlesPrefix() + id + "/result.json" }

// IngestedKey is where an ingest records which episode a bundle became,
// before it deletes the bundle's uploaded recording: a retry, or an ingest
// sent again after Redis was wiped, resumes from it.
func (l Layout) IngestedKey(id string) string { return l.BundlesPrefix() + id + "/ingested.json" }

// OriginalKey is where a recording is archived as dropped.
func (l Layout) OriginalKey(slug, sha256, name string) string {
	return l.Private() + "originals/" + slug + "/" + sha256 + strings.ToLower(path.Ext(name))
}

// PiecesPrefix is where a long recording's pieces wait, encoded, for
// their join: next to the original, under the first 16 digits of its hash.
func (l Layout) PiecesPrefix(slug, sha256 string) string {
	return l.Private() + "originals/" + slug + "/pieces/" + sha256[:min(16, len(sha256))] + "/"
}

// TranscriptKey is where an episode's transcript is kept, parsed, until
// the rebuild publishes it; sha256 is that of the file as dropped.
func (l Layout) TranscriptKey(slug, sha256 string) string {
	return l.Private() + "transcripts/" + slug + "/" + sha256[:16] + ".json"
}

// TemplatesPrefix is where the show's own blog templates are kept.
func (l Layout) TemplatesPrefix() string { return l.Private() + "templates/" }

// StagedKey is where the media or art that will be at a public key waits
// while its episode is scheduled: nothing of a scheduled episode is public.
func (l Layout) StagedKey(public string) string {
	p, _ := l.PublicPath(public)
	return l.Private() + "staged/" + p
}

// IsPublic reports whether key is one of the show's public objects (and
// not, say, a URL an imported episode links to).
func (l Layout) IsPublic(key string) bool { return strings.HasPrefix(key, l.Public()) }

// ShowKey is show.yaml as the watcher last uploaded it.
func (l Layout) ShowKey() string { return l.Private() + "show.yaml" }

// ShowStateKey records where the show's art was published.
func (l Layout) ShowStateKey() string { return l.Private() + "show.json" }

// SummaryKey holds what the network's pages say of the show, as its last
// rebuild left it.
func (l Layout) SummaryKey() string { return l.Private() + "summary.json" }

// FeedProblemsKey holds the problems of the last feed that was refused.
func (l Layout) FeedProblemsKey() string { return l.Private() + "feed-problems.json" }

// PitchesPrefix holds the guests' pitches.
func (l Layout) PitchesPrefix() string { return l.Private() + "pitches/" }

// PitchKey is one pitch.
func (l Layout) PitchKey(id string) string { return l.PitchesPrefix() + id + ".json" }

// NetworkKeys are the public objects of the whole install, not of a show.
const (
	OPMLKey         = RootPublic + "shows.opml"
	NetworkIndexKey = RootPublic + "index.html"
)

// showName is what a show's folder may be called: a slug.
var showName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// Reserved are the names a show may not take: each would shadow a route
// of the root show's site or of the server, or a folder of the record.
var Reserved = map[string]bool{
	// routes
	"episodes": true, "media": true, "tags": true, "page": true, "about": true, "admin": true,
	"metrics": true, "healthz": true, "pitch": true, "search": true, "guests": true, "shows": true,
	"api": true, "static": true, "assets": true,
	// the record's own folders
	"catalog": true, "bundles": true, "originals": true, "transcripts": true, "templates": true, "staged": true, "pitches": true,
}

// CheckShowName says what is wrong with a show folder's name, nil if
// nothing is.
func CheckShowName(name string) error {
	if !showName.MatchString(name) {
		return fmt.Errorf("the show folder shows/%s is not a valid name: use 1 to 40 lower-case letters, digits and dashes, such as shows/python-weekly", name)
	}
	if Reserved[name] {
		return fmt.Errorf("the show folder shows/%s would shadow the route /%s/ of the site; rename the folder", name, name)
	}
	return nil
}
