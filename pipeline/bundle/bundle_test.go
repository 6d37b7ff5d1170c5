package bundle_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
)

func TestParse(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		md := "---\ntitle: Moving Flask to Python 3\nguests:\n  - {name: Ada, role: SRE, url: https://example.com}\nseason: 2\nepisode: 7\ntags: [Flask, python-3-migration]\n---\nNotes **here**.\n"
		b, err := bundle.Parse("ep7", []string{"episode.md", "talk.wav", ".DS_Store", "cover.jpg", "ERROR.txt"}, []byte(md))
		if err != nil {
			t.Fatal(err)
		}
		want := pipeline.Meta{
			Title: "Moving Flask to Python 3", Slug: "moving-flask-to-python-3",
			Guests: []pipeline.Guest{{Name: "Ada", Role: "SRE", URL: "https://example.com"}},
			Season: 2, Episode: 7, Tags: []string{"flask", "python-3-migration"},
		}
		if diff := cmp.Diff(want, b.Meta); diff != "" {
			t.Errorf("meta (-want +got):\n%s", diff)
		}
		if b.Recording != "talk.wav" || b.Notes != "Notes **here**.\n" || !b.HasNotes {
			t.Errorf("got recording %q notes %q", b.Recording, b.Notes)
		}
		if diff := cmp.Diff([]string{"cover.jpg"}, b.Extras); diff != "" {
			t.Errorf("extras: %s", diff)
		}
	})
	t.Run("OK/NotesOnly", func(t *testing.T) {
		// An update of an episode's notes: the ingest checks it exists.
		b, err := bundle.Parse("fix", []string{"episode.md", "chapters.txt"}, []byte("---\ntitle: Fixed title\nslug: ep\n---\n"))
		if err != nil || b.Recording != "" || b.Meta.Slug != "ep" {
			t.Fatalf("got %+v, %v", b, err)
		}
	})
	t.Run("OK/LoneFile", func(t *testing.T) {
		b, err := bundle.Parse("x.mp3", []string{"x.mp3"}, nil)
		if err != nil || b.Recording != "x.mp3" || b.HasNotes {
			t.Fatalf("got %+v, %v", b, err)
		}
	})
	for _, tc := range []struct {
		name    string
		files   []string
		md      string
		problem string
	}{
		{"ErrNoAudio", []string{"cover.jpg", "notes.txt"}, "", "has no recording"},
		{"ErrTwoRecordings", []string{"episode.md", "a.wav", "b.mp3"}, "---\ntitle: x\n---\n", "has 2 recordings (a.wav, b.mp3)"},
		{"ErrNoTitle", []string{"episode.md", "a.wav"}, "---\nslug: x\n---\n", `episode.md has no "title"`},
		{"ErrBadYAML", []string{"episode.md", "a.wav"}, "---\ntitle: [unclosed\n---\n", "not valid YAML"},
		{"ErrUnknownKey", []string{"episode.md", "a.wav"}, "---\ntitle: x\ntitel: y\n---\n", "not valid YAML"},
		{"ErrNoFrontMatter", []string{"episode.md", "a.wav"}, "just notes\n", "has no front matter"},
		{"ErrUnclosed", []string{"episode.md", "a.wav"}, "---\ntitle: x\n", "not closed"},
		{"ErrBadType", []string{"episode.md", "a.wav"}, "---\ntitle: x\ntype: pilot\n---\n", `type "pilot"`},
		{"ErrBadSlug", []string{"episode.md", "a.wav"}, "---\ntitle: x\nslug: Not A Slug\n---\n", "may hold only"},
		{"ErrGuestName", []string{"episode.md", "a.wav"}, "---\ntitle: x\nguests: [{role: SRE}]\n---\n", "guest 1 has no name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bundle.Parse("b", tc.files, []byte(tc.md))
			var ie *pipeline.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want an InputError", err)
			}
			if !strings.Contains(ie.Error(), tc.problem) {
				t.Errorf("error %q does not say %q", ie.Error(), tc.problem)
			}
			if ie.Fix == "" {
				t.Errorf("error %q says nothing about how to fix it", ie.Error())
			}
		})
	}
}

func TestParseNotesCRLFAndBOM(t *testing.T) {
	m, body, err := bundle.ParseNotes([]byte("\xef\xbb\xbf---\r\ntitle: Async in Falcon\r\n---\r\nHi\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Title != "Async in Falcon" || m.Slug != "async-in-falcon" || body != "Hi\n" {
		t.Errorf("got %+v %q", m, body)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Moving to Python 3!":         "moving-to-python-3",
		"OAuth 2.0 & You":             "oauth-2-0-and-you",
		"  Life without Kubernetes  ": "life-without-kubernetes",
		"Ünïcödé Flask":               "unicode-flask",
		"GraphQL / OpenAPI":           "graphql-openapi",
	} {
		if got := bundle.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIgnored(t *testing.T) {
	for name, want := range map[string]bool{
		".DS_Store": true, "talk.wav.part": true, "x.tmp": true, "y.crdownload": true, "notes.md~": true,
		"talk.wav": false, "episode.md": false, "bundle": false,
	} {
		if got := bundle.Ignored(name); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseShow(t *testing.T) {
	t.Run("OK/Starter", func(t *testing.T) {
		s, err := bundle.ParseShow([]byte(bundle.StarterShow), "http://127.0.0.1:8080/")
		if err != nil {
			t.Fatal(err)
		}
		if s.BaseURL != "http://127.0.0.1:8080" || s.Language != "en" || s.FeedURL() != "http://127.0.0.1:8080/feed.xml" {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("ErrNoTitle", func(t *testing.T) {
		_, err := bundle.ParseShow([]byte("description: d\n"), "http://x")
		if err == nil || !strings.Contains(err.Error(), `no "title"`) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("ErrBadEmail", func(t *testing.T) {
		_, err := bundle.ParseShow([]byte("title: t\ndescription: d\nowner: {email: nope}\n"), "http://x")
		if err == nil || !strings.Contains(err.Error(), "owner.email") {
			t.Errorf("got %v", err)
		}
	})
}

// FuzzParseNotes feeds episode.md parsing arbitrary files: it must never
// panic, refuse only with a message for the producer, and give what it
// accepts a title and a slug fit for a URL.
func FuzzParseNotes(f *testing.F) {
	f.Add("---\ntitle: Flask & Falcon\nguests: [{name: Ada}]\ntags: [Async IO]\n---\nNotes.\n")
	f.Add("---\ntitle: x\npublish_at: 2026-12-01T09:00:00Z\nseason: 1\nepisode: 2\ntype: bonus\n---\n")
	f.Add("\xef\xbb\xbf---\r\ntitle: \"\\u0000\"\r\n---\r\n")
	f.Fuzz(func(t *testing.T, data string) {
		meta, _, err := bundle.ParseNotes([]byte(data))
		if err != nil {
			if !pipeline.IsInput(err) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		if meta.Title == "" || meta.Slug == "" || bundle.Slug(meta.Slug) != meta.Slug {
			t.Fatalf("accepted %+v", meta)
		}
	})
}
