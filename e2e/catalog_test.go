package e2e

import (
	"context"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// TestCatalogSeesOtherWorkers has two catalogs on one MinIO bucket, as two
// workers have: the one that keeps manifests in memory between reads sees
// what the other writes, changes and deletes.
func TestCatalogSeesOtherWorkers(t *testing.T) {
	env := MustEnv(t)
	st := env.Store(t)
	ctx := context.Background()
	a, b := catalog.New(st), catalog.New(st)
	titles := func(c *catalog.Catalog) map[string]string {
		t.Helper()
		eps, err := c.Manifests(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range eps {
			out[m.Slug] = m.Meta.Title
		}
		return out
	}
	for _, slug := range []string{"one", "two"} {
		if err := b.PutManifest(ctx, &pipeline.Manifest{Slug: slug, Meta: pipeline.Meta{Title: slug}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := titles(a); len(got) != 2 || got["one"] != "one" {
		t.Fatalf("first read: %v", got)
	}
	if err := b.PutManifest(ctx, &pipeline.Manifest{Slug: "one", Meta: pipeline.Meta{Title: "one, renamed"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, catalog.Layout{}.ManifestKey("two")); err != nil {
		t.Fatal(err)
	}
	if got := titles(a); len(got) != 1 || got["one"] != "one, renamed" {
		t.Errorf("after the other worker's writes: %v, want only one, renamed", got)
	}
	// What a caller does to a manifest it read does not leak into the next read.
	eps, _ := a.Manifests(ctx)
	eps[0].Meta.Title = "changed in memory"
	if got := titles(a); got["one"] != "one, renamed" {
		t.Errorf("a change in memory leaked into the catalog: %v", got)
	}
}
