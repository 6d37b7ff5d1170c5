// Package catalog keeps prodcast's record in the bucket: one manifest per
// episode under private/catalog/, the show as last uploaded by the watcher,
// and the outcome of every bundle. Everything else can be rebuilt from it.
//
//	c := catalog.New(store)
//	m, err := c.Manifest(ctx, "flask-patterns") // pipeline.ErrNotFound if new
package catalog
