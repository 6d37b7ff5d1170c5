package catalog

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/prodcast/prodcast/pipeline"
)

// pitchID is what a pitch's id looks like: its time, then random hex.
var pitchID = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$`)

// CheckPitchID says whether id can name a pitch, so that no id from a
// request reaches a key unchecked.
func CheckPitchID(id string) error {
	if !pitchID.MatchString(id) {
		return fmt.Errorf("%q is not a pitch id: %w", id, pipeline.ErrNotFound)
	}
	return nil
}

// Pitch reads one pitch.
func (c *Catalog) Pitch(ctx context.Context, id string) (*pipeline.Pitch, error) {
	if err := CheckPitchID(id); err != nil {
		return nil, err
	}
	var p pipeline.Pitch
	if err := c.getJSON(ctx, c.Keys.PitchKey(id), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PutPitch stores a pitch.
func (c *Catalog) PutPitch(ctx context.Context, p *pipeline.Pitch) error {
	if err := CheckPitchID(p.ID); err != nil {
		return err
	}
	return c.putJSON(ctx, c.Keys.PitchKey(p.ID), p)
}

// DeletePitch removes a pitch and with it all the guest sent.
func (c *Catalog) DeletePitch(ctx context.Context, id string) error {
	if err := CheckPitchID(id); err != nil {
		return err
	}
	return c.st.Delete(ctx, c.Keys.PitchKey(id))
}

// Pitches reads the show's pitches, newest first.
func (c *Catalog) Pitches(ctx context.Context) ([]*pipeline.Pitch, error) {
	return (&PitchCache{}).Pitches(ctx, c)
}

// PitchCache keeps the pitches it read, by key and ETag, so that an inbox
// read again lists the bucket and reads only the pitches that are new or
// changed since, not every pitch at every view. It is safe for concurrent
// use; a zero PitchCache is ready.
type PitchCache struct {
	mu   sync.Mutex
	kept map[string]keptPitch // by key
}

type keptPitch struct {
	etag  string
	pitch *pipeline.Pitch
}

// Pitches reads c's pitches, newest first, through the cache. The pitches
// returned are shared: callers must not change them.
func (pc *PitchCache) Pitches(ctx context.Context, c *Catalog) ([]*pipeline.Pitch, error) {
	objs, err := c.st.List(ctx, c.Keys.PitchesPrefix())
	if err != nil {
		return nil, fmt.Errorf("cannot list the pitches of %s: %w", c.describe(), err)
	}
	pc.mu.Lock()
	if pc.kept == nil {
		pc.kept = map[string]keptPitch{}
	}
	kept := pc.kept
	pc.mu.Unlock()
	var out []*pipeline.Pitch
	seen := make(map[string]bool, len(objs))
	for _, o := range objs {
		seen[o.Key] = true
		pc.mu.Lock()
		k, ok := kept[o.Key]
		pc.mu.Unlock()
		if ok && o.ETag != "" && k.etag == o.ETag {
			out = append(out, k.pitch)
			continue
		}
		id := strings.TrimSuffix(strings.TrimPrefix(o.Key, c.Keys.PitchesPrefix()), ".json")
		p, err := c.Pitch(ctx, id)
		if err != nil {
			continue // removed meanwhile, or not a pitch
		}
		pc.mu.Lock()
		kept[o.Key] = keptPitch{etag: o.ETag, pitch: p}
		pc.mu.Unlock()
		out = append(out, p)
	}
	pc.mu.Lock()
	for k := range kept {
		if !seen[k] && strings.HasPrefix(k, c.Keys.PitchesPrefix()) {
			delete(kept, k)
		}
	}
	pc.mu.Unlock()
	slices.SortFunc(out, func(a, b *pipeline.Pitch) int { return strings.Compare(b.ID, a.ID) })
	return out, nil
}
