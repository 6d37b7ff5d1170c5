package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/s3"
)

// Store is the part of the bucket the catalog needs.
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	PutBytes(ctx context.Context, key string, data []byte, p pipeline.Put) error
	List(ctx context.Context, prefix string) ([]pipeline.Object, error)
	Delete(ctx context.Context, key string) error
}

var _ Store = (*s3.Store)(nil)

// Catalog reads and writes the record of one show.
type Catalog struct {
	// Keys computes the keys of the show's objects.
	Keys Layout

	st Store

	mu    sync.Mutex
	known map[string]cached // manifests by key, as last read
}

// cached is a manifest's bytes and the version of the object they came from.
type cached struct {
	version string // ETag, size and time
	data    []byte
}

// New returns the Catalog of the root show over st.
func New(st Store) *Catalog { return ForShow(st, "") }

// ForShow returns the Catalog of a show ("" for the root show) over st.
func ForShow(st Store, show string) *Catalog {
	return &Catalog{Keys: Layout{Show: show}, st: st, known: map[string]cached{}}
}

// ShowName is the name of the catalog's show, "" for the root show.
func (c *Catalog) ShowName() string { return c.Keys.Show }

// Ingested reads which episode a bundle became; pipeline.ErrNotFound if
// its ingest has not got that far.
func (c *Catalog) Ingested(ctx context.Context, id string) (string, error) {
	var v struct {
		Slug string `json:"slug"`
	}
	if err := c.getJSON(ctx, c.Keys.IngestedKey(id), &v); err != nil {
		return "", err
	}
	return v.Slug, nil
}

// PutIngested records that bundle id became the episode slug.
func (c *Catalog) PutIngested(ctx context.Context, id, slug string) error {
	return c.putJSON(ctx, c.Keys.IngestedKey(id), map[string]string{"slug": slug})
}

// Transcript reads the cues that ref names.
func (c *Catalog) Transcript(ctx context.Context, ref *pipeline.TranscriptRef) ([]pipeline.Cue, error) {
	var cues []pipeline.Cue
	if err := c.getJSON(ctx, ref.Key, &cues); err != nil {
		return nil, fmt.Errorf("cannot read the transcript of %q: %w", ref.Name, err)
	}
	return cues, nil
}

// PutTranscript keeps parsed cues at ref.Key.
func (c *Catalog) PutTranscript(ctx context.Context, ref *pipeline.TranscriptRef, cues []pipeline.Cue) error {
	return c.putJSON(ctx, ref.Key, cues)
}

// Templates reads the show's own blog templates, by file name; none if the
// show uses the built-in ones.
func (c *Catalog) Templates(ctx context.Context) (map[string][]byte, error) {
	prefix := c.Keys.TemplatesPrefix()
	objs, err := c.st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, o := range objs {
		data, err := c.st.Get(ctx, o.Key)
		if err != nil {
			return nil, err
		}
		files[strings.TrimPrefix(o.Key, prefix)] = data
	}
	return files, nil
}

// PutTemplates replaces the show's own templates with files.
func (c *Catalog) PutTemplates(ctx context.Context, files map[string][]byte) error {
	prefix := c.Keys.TemplatesPrefix()
	objs, err := c.st.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if _, ok := files[strings.TrimPrefix(o.Key, prefix)]; !ok {
			if err := c.st.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
	for name, data := range files {
		if err := c.st.PutBytes(ctx, prefix+name, data, s3.Put{ContentType: "text/plain; charset=utf-8"}); err != nil {
			return err
		}
	}
	return nil
}

// Manifest reads one episode's manifest.
func (c *Catalog) Manifest(ctx context.Context, slug string) (*pipeline.Manifest, error) {
	var m pipeline.Manifest
	if err := c.getJSON(ctx, c.Keys.ManifestKey(slug), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// PutManifest writes one episode's manifest.
func (c *Catalog) PutManifest(ctx context.Context, m *pipeline.Manifest) error {
	m.UpdatedAt = time.Now().UTC()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = m.UpdatedAt
	}
	return c.putJSON(ctx, c.Keys.ManifestKey(m.Slug), m)
}

// ClearPending records that the outcome of the manifest's pending bundle was
// reported. It leaves UpdatedAt as it was: nothing listeners see changed,
// so no page, feed entry or sitemap date has to.
func (c *Catalog) ClearPending(ctx context.Context, m *pipeline.Manifest) error {
	m.Pending, m.Announce = "", ""
	return c.putJSON(ctx, c.Keys.ManifestKey(m.Slug), m)
}

// Keep writes a manifest without stamping UpdatedAt: for bookkeeping that
// changes nothing listeners see (media removed that no feed names).
func (c *Catalog) Keep(ctx context.Context, m *pipeline.Manifest) error {
	return c.putJSON(ctx, c.Keys.ManifestKey(m.Slug), m)
}

// Manifests reads every manifest, newest publication date first.
func (c *Catalog) Manifests(ctx context.Context) ([]*pipeline.Manifest, error) {
	objs, err := c.st.List(ctx, c.Keys.CatalogPrefix())
	if err != nil {
		return nil, err
	}
	out := make([]*pipeline.Manifest, 0, len(objs))
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		data, err := c.manifestBytes(ctx, o)
		if err != nil {
			return nil, err
		}
		var m pipeline.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("cannot decode %s: %w", o.Key, err)
		}
		out = append(out, &m)
	}
	c.forgetExcept(objs)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].PubDate(), out[j].PubDate()
		if !a.Equal(b) {
			return a.After(b)
		}
		return out[i].Slug < out[j].Slug
	})
	return out, nil
}

// manifestBytes reads a listed manifest, or takes it from memory if the
// object has not changed since it was last read: a rebuild of a show of a
// thousand episodes lists them and reads only the few that changed.
func (c *Catalog) manifestBytes(ctx context.Context, o s3.Object) ([]byte, error) {
	version := fmt.Sprintf("%s/%d/%d", o.ETag, o.Size, o.LastModified.UnixNano())
	c.mu.Lock()
	k, ok := c.known[o.Key]
	c.mu.Unlock()
	if ok && k.version == version && o.ETag != "" {
		return k.data, nil
	}
	data, err := c.st.Get(ctx, o.Key)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.known[o.Key] = cached{version: version, data: data}
	c.mu.Unlock()
	return data, nil
}

// forgetExcept drops the remembered manifests that are no longer listed.
func (c *Catalog) forgetExcept(objs []s3.Object) {
	listed := make(map[string]bool, len(objs))
	for _, o := range objs {
		listed[o.Key] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.known {
		if !listed[key] {
			delete(c.known, key)
		}
	}
}

// Result reads a bundle's outcome; pipeline.ErrNotFound while it is in flight.
func (c *Catalog) Result(ctx context.Context, id string) (*pipeline.BundleResult, error) {
	var r pipeline.BundleResult
	if err := c.getJSON(ctx, c.Keys.ResultKey(id), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutResult records a bundle's outcome.
func (c *Catalog) PutResult(ctx context.Context, r *pipeline.BundleResult) error {
	r.At = time.Now().UTC()
	return c.putJSON(ctx, c.Keys.ResultKey(r.BundleID), r)
}

// Show reads show.yaml as the watcher last uploaded it.
func (c *Catalog) Show(ctx context.Context, baseURL string) (*pipeline.Show, error) {
	data, err := c.st.Get(ctx, c.Keys.ShowKey())
	if err != nil {
		return nil, fmt.Errorf("cannot read the show %s (has a watcher uploaded its show.yaml?): %w", c.describe(), err)
	}
	show, err := bundle.ParseShow(data, baseURL)
	if err != nil {
		return nil, err
	}
	show.Name = c.Keys.Show
	var state struct {
		Art string `json:"art"`
	}
	if err := c.getJSON(ctx, c.Keys.ShowStateKey(), &state); err == nil {
		show.Art = state.Art
	}
	if show.Art != "" {
		if sizes, err := c.ShowArtSizes(ctx); err == nil && sizes.Of == show.Art {
			show.ArtSizes = sizes.Sizes
		}
	}
	return show, nil
}

// ArtSizes records the sizes a worker made of the show's art. They are the
// show's only while Of is still its art.
type ArtSizes struct {
	Of    string           `json:"of"`
	Sizes []pipeline.Image `json:"sizes,omitempty"`
	Error string           `json:"error,omitempty"` // why none could be made
}

// ShowArtSizes reads what was made of the show's art; pipeline.ErrNotFound
// before anything was.
func (c *Catalog) ShowArtSizes(ctx context.Context) (*ArtSizes, error) {
	var s ArtSizes
	if err := c.getJSON(ctx, c.Keys.ArtSizesKey(), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PutShowArtSizes records what was made of the show's art.
func (c *Catalog) PutShowArtSizes(ctx context.Context, s *ArtSizes) error {
	return c.putJSON(ctx, c.Keys.ArtSizesKey(), s)
}

// PutShow stores show.yaml's bytes as the watcher read them.
func (c *Catalog) PutShow(ctx context.Context, yaml []byte) error {
	return c.st.PutBytes(ctx, c.Keys.ShowKey(), yaml, s3.Put{ContentType: "application/yaml"})
}

// PutShowArt records where the show's art was published: a key under
// public/ or a URL.
func (c *Catalog) PutShowArt(ctx context.Context, art string) error {
	return c.putJSON(ctx, c.Keys.ShowStateKey(), map[string]string{"art": art})
}

func (c *Catalog) describe() string {
	if c.Keys.Show == "" {
		return "at the top of the data folder"
	}
	return "shows/" + c.Keys.Show
}

func (c *Catalog) getJSON(ctx context.Context, key string, v any) error {
	return GetJSON(ctx, c.st, key, v)
}

func (c *Catalog) putJSON(ctx context.Context, key string, v any) error {
	return PutJSON(ctx, c.st, key, v)
}

// GetJSON reads the JSON object at key into v; an object that does not
// parse is an error naming it.
func GetJSON(ctx context.Context, st interface {
	Get(ctx context.Context, key string) ([]byte, error)
}, key string, v any) error {
	data, err := st.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("cannot parse %q (is it damaged?): %w", key, err)
	}
	return nil
}

// PutJSON writes v as a JSON object at key.
func PutJSON(ctx context.Context, st interface {
	PutBytes(ctx context.Context, key string, data []byte, p pipeline.Put) error
}, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode %q: %w", key, err)
	}
	return st.PutBytes(ctx, key, data, s3.Put{ContentType: "application/json"})
}
