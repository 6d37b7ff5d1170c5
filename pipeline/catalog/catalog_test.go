package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// TestLayout guards issue 10: the root show keeps the keys of a
// single-show install; a show under shows/ has the same under its name.
func TestLayout(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	root, alpha := catalog.Layout{}, catalog.Layout{Show: "alpha"}
	for _, tc := range []struct{ got, want string }{
		{root.FeedKey(), "public/feed.xml"},
		{alpha.FeedKey(), "public/alpha/feed.xml"},
		{root.ManifestKey("ep"), "private/catalog/ep.json"},
		{alpha.ManifestKey("ep"), "private/alpha/catalog/ep.json"},
		{root.MediaKey("ep", sha, ".mp3"), "public/media/ep/abababababababab.mp3"},
		{alpha.MediaKey("ep", sha, ".mp3"), "public/alpha/media/ep/abababababababab.mp3"},
		{alpha.ArtKey(sha, ".jpg"), "public/alpha/media/art/abababababababab.jpg"},
		{root.StagedKey("public/media/ep/x.mp3"), "private/staged/media/ep/x.mp3"},
		{alpha.StagedKey("public/alpha/media/ep/x.mp3"), "private/alpha/staged/media/ep/x.mp3"},
		{root.OriginalKey("ep", sha, "Talk.WAV"), "private/originals/ep/" + sha + ".wav"},
		{alpha.BundleFileKey("id", "talk.wav"), "private/alpha/bundles/id/files/talk.wav"},
		{root.ResultKey("id"), "private/bundles/id/result.json"},
		{alpha.TranscriptKey("ep", sha), "private/alpha/transcripts/ep/abababababababab.json"},
		{root.ShowKey(), "private/show.yaml"},
		{alpha.FeedProblemsKey(), "private/alpha/feed-problems.json"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
	if p, ok := alpha.PublicPath("public/alpha/episodes/x/index.html"); !ok || p != "episodes/x/index.html" {
		t.Errorf("PublicPath: %q %v", p, ok)
	}
	if alpha.IsPublic("https://cdn.example.com/ep.mp3") || !alpha.IsPublic("public/alpha/media/x.mp3") || alpha.IsPublic("public/media/x.mp3") {
		t.Error("IsPublic")
	}
}

func TestCheckShowName(t *testing.T) {
	for _, ok := range []string{"alpha", "python-weekly", "a", "s2", strings.Repeat("a", 40)} {
		if err := catalog.CheckShowName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for name, want := range map[string]string{
		"episodes": "shadow", "media": "shadow", "admin": "shadow", "catalog": "shadow", "feed.xml": "not a valid name",
		"Alpha": "not a valid name", "-a": "not a valid name", "a-": "not a valid name", "": "not a valid name",
		strings.Repeat("a", 41): "not a valid name", "../x": "not a valid name",
	} {
		if err := catalog.CheckShowName(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", name, err, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	root, alpha := catalog.New(st), catalog.ForShow(st, "alpha")
	day := func(d int) time.Time { return time.Date(2026, 11, d, 9, 0, 0, 0, time.UTC) }
	for i, slug := range []string{"old", "new", "mid"} {
		m := &pipeline.Manifest{Slug: slug, State: pipeline.StatePublished, PublishedAt: day([]int{1, 20, 10}[i])}
		if err := alpha.PutManifest(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("OK/NewestFirst", func(t *testing.T) {
		eps, err := alpha.Manifests(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, e := range eps {
			slugs = append(slugs, e.Slug)
		}
		if !slices.Equal(slugs, []string{"new", "mid", "old"}) {
			t.Errorf("order %v", slugs)
		}
		if eps, _ := root.Manifests(ctx); len(eps) != 0 {
			t.Errorf("the root show sees %d of alpha's episodes", len(eps))
		}
	})
	t.Run("OK/SeesChanges", func(t *testing.T) {
		m, _ := alpha.Manifest(ctx, "old")
		m.Meta.Title = "changed"
		other := catalog.ForShow(st, "alpha") // another worker
		if err := other.PutManifest(ctx, m); err != nil {
			t.Fatal(err)
		}
		other.PutManifest(ctx, &pipeline.Manifest{Slug: "mid2"})
		st.Delete(ctx, alpha.Keys.ManifestKey("mid"))
		eps, _ := alpha.Manifests(ctx)
		titles := map[string]string{}
		for _, e := range eps {
			titles[e.Slug] = e.Meta.Title
		}
		if titles["old"] != "changed" || len(eps) != 3 {
			t.Errorf("after another catalog's writes: %v", titles)
		}
	})
	t.Run("OK/Shows", func(t *testing.T) {
		root.PutShow(ctx, []byte("title: Root\n"))
		alpha.PutShow(ctx, []byte("title: Alpha\n"))
		catalog.ForShow(st, "beta").PutManifest(ctx, &pipeline.Manifest{Slug: "x"}) // no show.yaml yet
		shows, err := catalog.Shows(ctx, st)
		if err != nil || !slices.Equal(shows, []string{"", "alpha"}) {
			t.Errorf("Shows: %q %v", shows, err)
		}
	})
}
