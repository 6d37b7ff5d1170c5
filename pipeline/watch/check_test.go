package watch_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/watch"
)

func mustFile(tb testing.TB, path string, size int) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TestCheck guards issue 9: the shapes of a bundle no worker could use are
// refused by the watcher, in plain words, before anything is uploaded.
func TestCheck(t *testing.T) {
	outside := t.TempDir()
	mustFile(t, filepath.Join(outside, "secret.wav"), 100)
	for _, tc := range []struct {
		name  string
		setup func(dir string) string // returns the bundle's path
		want  string                  // "" for OK
	}{
		{"OK", func(d string) string {
			mustFile(t, filepath.Join(d, "b", "episode.md"), 10)
			mustFile(t, filepath.Join(d, "b", "talk.wav"), 100)
			mustFile(t, filepath.Join(d, "b", ".DS_Store"), 10)
			mustFile(t, filepath.Join(d, "b", "notes", "draft.txt"), 10)
			return filepath.Join(d, "b")
		}, ""},
		{"OK/Lone", func(d string) string { mustFile(t, filepath.Join(d, "a.mp3"), 10); return filepath.Join(d, "a.mp3") }, ""},
		{"ErrEmptyFolder", func(d string) string { os.MkdirAll(filepath.Join(d, "b"), 0o755); return filepath.Join(d, "b") }, `the folder "b" is empty`},
		{"ErrLinkedBundle", func(d string) string {
			os.Symlink(outside, filepath.Join(d, "b"))
			return filepath.Join(d, "b")
		}, `"b" is a symbolic link`},
		{"ErrLinkedRecording", func(d string) string {
			mustFile(t, filepath.Join(d, "b", "episode.md"), 10)
			os.Symlink(filepath.Join(outside, "secret.wav"), filepath.Join(d, "b", "talk.wav"))
			return filepath.Join(d, "b")
		}, `"talk.wav" in bundle "b" is a symbolic link`},
		{"ErrLinkedFolder", func(d string) string {
			mustFile(t, filepath.Join(d, "b", "talk.wav"), 10)
			os.Symlink(outside, filepath.Join(d, "b", "more"))
			return filepath.Join(d, "b")
		}, `"more" in bundle "b" is a symbolic link`},
		{"ErrNested", func(d string) string {
			mustFile(t, filepath.Join(d, "b", "episode.md"), 10)
			mustFile(t, filepath.Join(d, "b", "raw", "talk.flac"), 10)
			return filepath.Join(d, "b")
		}, `the recording "raw/talk.flac" is in a sub-folder of bundle "b"`},
		{"ErrEmptyRecording", func(d string) string {
			mustFile(t, filepath.Join(d, "b", "talk.wav"), 0)
			return filepath.Join(d, "b")
		}, `the recording "talk.wav" is empty (0 bytes)`},
		{"ErrEmptyLone", func(d string) string { mustFile(t, filepath.Join(d, "a.wav"), 0); return filepath.Join(d, "a.wav") }, `"a.wav" is empty`},
		{"ErrTooManyFiles", func(d string) string {
			for i := range watch.MaxBundleFiles + 1 {
				mustFile(t, filepath.Join(d, "b", fmt.Sprintf("f%03d.txt", i)), 1)
			}
			return filepath.Join(d, "b")
		}, "holds more than 100 files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := watch.Check(tc.setup(t.TempDir()))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !pipeline.IsInput(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an input error saying %q", err, tc.want)
			}
		})
	}
}
