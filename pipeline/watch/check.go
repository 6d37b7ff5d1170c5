package watch

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
)

// MaxBundleFiles is the most files a bundle may hold.
const MaxBundleFiles = 100

// Check looks at the shape of a bundle on disk before anything of it is
// uploaded, and refuses in plain words what no worker could use: a link
// (nothing is followed out of the drop folder), an empty folder, a
// recording left in a sub-folder, an empty recording, too many files.
func Check(path string) error {
	name := filepath.Base(path)
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return pipeline.Inputf("copy the file or folder itself into drop/; prodcast does not follow links",
			"%q is a symbolic link", name)
	}
	if !fi.IsDir() {
		if bundle.IsAudio(name) && fi.Size() == 0 {
			return emptyRecording(name)
		}
		return nil
	}
	var top, nested []string
	files := 0
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == path {
			return nil
		}
		rel, _ := filepath.Rel(path, p)
		if bundle.Ignored(d.Name()) || rel == bundle.ErrorFile {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return pipeline.Inputf("replace the link with a copy of the file; prodcast does not follow links out of a bundle",
				"%q in bundle %q is a symbolic link", filepath.ToSlash(rel), name)
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if files++; files > MaxBundleFiles {
			return pipeline.Inputf("keep only the episode's files in the bundle: episode.md, one recording, cover, chapters, transcript",
				"bundle %q holds more than %d files", name, MaxBundleFiles)
		}
		if filepath.Dir(rel) != "." {
			nested = append(nested, filepath.ToSlash(rel))
			return nil
		}
		top = append(top, rel)
		if bundle.IsAudio(rel) {
			if fi, err := d.Info(); err == nil && fi.Size() == 0 {
				return emptyRecording(rel)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(top) == 0 && len(nested) == 0 {
		return pipeline.Inputf("put episode.md and the recording into the folder, or remove it",
			"the folder %q is empty", name)
	}
	if !hasAudio(top) {
		if audio := audioIn(nested); len(audio) > 0 {
			return pipeline.Inputf("move the recording up into the bundle folder itself, next to episode.md",
				"the recording %q is in a sub-folder of bundle %q; prodcast looks only at the bundle's top level",
				audio[0], name)
		}
	}
	return nil
}

func emptyRecording(name string) error {
	return pipeline.Inputf("export or copy the recording again, and drop it once the copy has finished",
		"the recording %q is empty (0 bytes)", name)
}

func hasAudio(names []string) bool { return len(audioIn(names)) > 0 }

func audioIn(names []string) []string {
	var out []string
	for _, n := range names {
		if bundle.IsAudio(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// refuse moves a claimed bundle that failed Check to failed/ with its
// ERROR.txt. No worker saw it; nothing of it was uploaded.
func (w *Watcher) refuse(ctx context.Context, name string, cause error) {
	res := &pipeline.BundleResult{Bundle: name, Problem: cause.Error()}
	var ie *pipeline.InputError
	if errors.As(cause, &ie) {
		res.Problem, res.Fix = ie.Problem, ie.Fix
	}
	if err := w.finish(ctx, name, &claimFile{}, res); err != nil {
		w.Log.Error("cannot move refused bundle to failed/", "bundle", name, "err", err)
	}
	// The show's webhooks hear of it as of a refusal by the workers.
	if err := w.Queue.EnqueueRefused(ctx, w.Show, name, res.Problem, res.Fix); err != nil {
		w.Log.Warn("cannot tell the workers of a refused bundle; its webhooks are not called", "bundle", name, "err", err)
	}
}

// cleanClaims removes claim files and upload marks whose bundle is no
// longer in processing/ (a watcher killed between moving a bundle out and
// removing its claim).
func (w *Watcher) cleanClaims(names []string) {
	live := map[string]bool{}
	for _, n := range names {
		live[n] = true
	}
	for _, suffix := range []string{".claim.json", ".archiving"} {
		marks, _ := filepath.Glob(filepath.Join(w.Dir, "processing", ".*"+suffix))
		for _, c := range marks {
			n := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(c), "."), suffix)
			if !live[n] {
				_ = os.Remove(c)
			}
		}
	}
}
