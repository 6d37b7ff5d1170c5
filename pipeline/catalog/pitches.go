package catalog

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

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
	objs, err := c.st.List(ctx, c.Keys.PitchesPrefix())
	if err != nil {
		return nil, fmt.Errorf("cannot list the pitches of %s: %w", c.describe(), err)
	}
	var out []*pipeline.Pitch
	for _, o := range objs {
		id := strings.TrimSuffix(strings.TrimPrefix(o.Key, c.Keys.PitchesPrefix()), ".json")
		p, err := c.Pitch(ctx, id)
		if err != nil {
			continue // removed meanwhile, or not a pitch
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *pipeline.Pitch) int { return strings.Compare(b.ID, a.ID) })
	return out, nil
}
