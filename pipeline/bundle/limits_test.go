package bundle_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
)

// TestParseNotesRefusals guards issue 9: every field has a limit that the
// message names, notes must be UTF-8, and a value of the wrong kind is
// refused with its key and the form it takes.
func TestParseNotesRefusals(t *testing.T) {
	front := func(body string) []byte { return []byte("---\ntitle: Async Python\n" + body + "---\nNotes.\n") }
	for _, tc := range []struct {
		name string
		md   []byte
		want string
	}{
		{"ErrFileTooLarge", front("summary: \"" + strings.Repeat("a", 2<<20) + "\"\n"), "episode.md is 2.1 MB; the limit is 1024 KB"},
		{"ErrSummary", front("summary: \"" + strings.Repeat("é", 4001) + "\"\n"), "summary is 4001 characters long; the limit is 4000"},
		{"ErrTitle", []byte("---\ntitle: " + strings.Repeat("x", 256) + "\n---\n"), "title is 256 characters long; the limit is 255"},
		{"ErrSlug", front("slug: " + strings.Repeat("a-", 50) + "b\n"), "slug is 101 characters long; the limit is 80"},
		{"ErrTooManyTags", front("tags: [" + strings.Repeat("t,", 20) + "u]\n"), "tags lists 21 topics; the limit is 20"},
		{"ErrLongTag", front("tags: [" + strings.Repeat("t", 51) + "]\n"), "is 51 characters long; the limit is 50"},
		{"ErrGuestURL", front("guests: [{name: Eve, url: \"javascript:alert(1)\"}]\n"), "is not an http(s) address"},
		{"ErrGuestName", front("guests: [{name: " + strings.Repeat("n", 201) + "}]\n"), "the name of guest 1 is 201 characters long; the limit is 200"},
		{"ErrWindows1252", []byte("---\ntitle: Caf\xe9\n---\n"), "line 2, character 11 has the byte 0xe9"},
		{"ErrUTF16", []byte("\xff\xfe-\x00-\x00"), "saved as UTF-16"},
		{"ErrPublishAtWords", front("publish_at: next tuesday\n"), `publish_at: "next tuesday" is not a date and time`},
		{"ErrSeasonWord", front("season: one\n"), `season: "one" is not a whole number`},
		{"ErrExplicitWord", front("explicit: maybe\n"), `explicit: "maybe" is not true or false`},
		{"ErrTagsNotList", front("tags: {a: b}\n"), "tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := bundle.ParseNotes(tc.md)
			if err == nil || !pipeline.IsInput(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an input error saying %q", err, tc.want)
			}
		})
	}
	t.Run("OK/PublishAtForms", func(t *testing.T) {
		for _, v := range []string{"2026-12-01T09:00:00Z", "2026-12-01T09:00:00+01:00", "2026-12-01", "\"2026-12-01T09:00:00Z\""} {
			m, _, err := bundle.ParseNotes(front("publish_at: " + v + "\n"))
			if err != nil || m.PublishAt == nil || m.PublishAt.Year() != 2026 {
				t.Errorf("publish_at: %s: %v, %v", v, m.PublishAt, err)
			}
		}
	})
	t.Run("OK/LongTitleSlug", func(t *testing.T) {
		m, _, err := bundle.ParseNotes([]byte("---\ntitle: " + strings.Repeat("Python services in production ", 8) + "\n---\n"))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Slug) > bundle.MaxSlug || strings.HasSuffix(m.Slug, "-") || !strings.HasPrefix(m.Slug, "python-services-in-production") {
			t.Errorf("slug %q (%d) is not cut to %d at a dash", m.Slug, len(m.Slug), bundle.MaxSlug)
		}
	})
}

// wavHeader is a WAV header whose data chunk promises n bytes.
func wavHeader(n uint32) []byte {
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00")
	h = append(h, make([]byte, 16)...)
	h = append(h, []byte("LIST\x03\x00\x00\x00abc\x00")...) // odd size: padded
	h = append(h, []byte("data")...)
	return binary.LittleEndian.AppendUint32(h, n)
}

func TestCheckWAV(t *testing.T) {
	head := wavHeader(1000)
	whole := int64(len(head)) + 1000
	t.Run("OK", func(t *testing.T) {
		if err := bundle.CheckWAV("a.wav", head, whole); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OK/Streamed", func(t *testing.T) {
		for _, n := range []uint32{0, 0xFFFFFFFF} {
			if err := bundle.CheckWAV("a.wav", wavHeader(n), 100); err != nil {
				t.Errorf("data size %#x: %v", n, err)
			}
		}
	})
	t.Run("OK/NotWAV", func(t *testing.T) {
		if err := bundle.CheckWAV("a.wav", []byte("RF64...."), 10); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrCutShort", func(t *testing.T) {
		err := bundle.CheckWAV("talk.wav", head, whole-600)
		if err == nil || !strings.Contains(err.Error(), `the copy of "talk.wav" looks unfinished`) || !strings.Contains(err.Error(), "(40%)") {
			t.Fatalf("got %v", err)
		}
	})
}
