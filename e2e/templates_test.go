package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShowTemplates gives the show its own episode template and stylesheet
// in a folder named by show.yaml: the watcher checks and uploads them, the
// workers render with them, a change is picked up, and a broken template
// is refused while the last good pages stay.
func TestShowTemplates(t *testing.T) {
	env := MustShowEnv(t, "templates: theme\n")
	theme := filepath.Join(env.Data, "theme")
	MustWrite(t, filepath.Join(theme, "episode.html"), `{{template "head" .}}<h1 class="ours">{{.Episode.Meta.Title}}</h1>{{template "foot" .}}`)
	MustWrite(t, filepath.Join(theme, "style.css"), "body { color: teal }\n")
	watch := StartRoles(t, env).Watch

	dir := filepath.Join(t.TempDir(), "themed")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=3", filepath.Join(dir, "talk.wav"))
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: Themed episode\n---\nNotes.\n")
	MoveIn(t, env.Data, dir)
	WaitFor(t, 60*time.Second, "the episode in the feed", func() bool { return FeedItems(env.URL("/feed.xml")) == 1 })
	page := env.URL("/episodes/themed-episode/")
	if _, body := Get(t, page); !strings.Contains(string(body), `<h1 class="ours">Themed episode</h1>`) {
		t.Fatalf("the page does not use the show's template:\n%s", body)
	}
	if _, css := Get(t, env.URL("/style.css")); string(css) != "body { color: teal }\n" {
		t.Errorf("style.css is not the show's: %q", css)
	}

	// A change to the stylesheet is published.
	MustWrite(t, filepath.Join(theme, "style.css"), "body { color: navy }\n")
	WaitFor(t, 30*time.Second, "the new stylesheet", func() bool {
		_, css := TryGet(env.URL("/style.css"))
		return string(css) == "body { color: navy }\n"
	})

	// A broken template is refused; the pages stay as they were.
	MustWrite(t, filepath.Join(theme, "episode.html"), `{{template "head" .}}{{.Episode.NoSuchField}}{{template "foot" .}}`)
	WaitFor(t, 30*time.Second, "the watcher to refuse the broken template", func() bool {
		return strings.Contains(watch.Output(), "the templates named in show.yaml cannot be used")
	})
	if !strings.Contains(watch.Output(), "NoSuchField") {
		t.Errorf("the watcher's message does not name the problem:\n%s", watch.Output())
	}
	if _, body := Get(t, page); !strings.Contains(string(body), `<h1 class="ours">Themed episode</h1>`) {
		t.Errorf("the page changed after a broken template:\n%s", body)
	}
}
