package desk

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"

	"github.com/prodcast/prodcast/pipeline/bundle"
)

// CleanName turns a file name sent by a browser into a plain name for
// drop/: no folders (../../etc/passwd becomes passwd), no leading dot (the
// watcher would ignore it), nothing but letters, digits, dot, dash,
// underscore and space, at most 120 bytes with the extension kept.
func CleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '.', r == '-', r == '_', r == ' ':
			return r
		}
		return '-'
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ". ")
	if len(name) > 120 {
		ext := path.Ext(name)
		if len(ext) > 10 {
			ext = ""
		}
		name = strings.ToValidUTF8(name[:120-len(ext)], "") + ext
	}
	if name == "" || bundle.Ignored(name) {
		name = "recording" + path.Ext(name)
	}
	return name
}

// checkEntry says whether name, from a request, can name an entry of a
// folder: one plain element, no dotfile.
func checkEntry(name string) error {
	if name == "" || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("%q is not a bundle name: %w", name, os.ErrNotExist)
	}
	return nil
}

// freeIn returns name, or name with a numeric suffix before its extension,
// whichever is free in dir of root.
func freeIn(root *os.Root, dir, name string) string {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	if stem == "" {
		stem, ext = name, ""
	}
	cand := name
	for i := 2; ; i++ {
		if _, err := root.Lstat(path.Join(dir, cand)); errors.Is(err, fs.ErrNotExist) {
			return cand
		}
		cand = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
}

// moveIn moves src (a file or a folder, relative to root) into dir as a
// free variant of name, in one rename, so the watcher never sees it half
// there. Across file systems it copies to a dotted name first, which the
// watcher ignores, then renames. It returns the name taken.
func moveIn(root *os.Root, src, dir, name string) (string, error) {
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name = freeIn(root, dir, name)
	dst := path.Join(dir, name)
	err := root.Rename(src, dst)
	if errors.Is(err, syscall.EXDEV) {
		tmp := path.Join(dir, "."+name+".part")
		if err := copyTree(root, src, tmp); err != nil {
			root.RemoveAll(tmp)
			return "", err
		}
		if err := root.Rename(tmp, dst); err != nil {
			return "", err
		}
		return name, root.RemoveAll(src)
	}
	return name, err
}

func copyTree(root *os.Root, src, dst string) error {
	fi, err := root.Stat(src)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		in, err := root.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := root.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
	if err := root.Mkdir(dst, 0o755); err != nil {
		return err
	}
	entries, err := fs.ReadDir(root.FS(), src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := copyTree(root, path.Join(src, e.Name()), path.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// retryBundle moves failed/<name> of a show's folder back to drop/: the
// folder without its ERROR.txt, or, for a lone recording that failed, the
// recording alone. It returns where it went.
func retryBundle(showDir, name string) (string, error) {
	if err := checkEntry(name); err != nil {
		return "", err
	}
	root, err := os.OpenRoot(showDir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	src := path.Join("failed", name)
	entries, err := fs.ReadDir(root.FS(), src)
	if err != nil {
		return "", err
	}
	var files []string
	for _, e := range entries {
		if e.Name() != bundle.ErrorFile && !bundle.Ignored(e.Name()) {
			files = append(files, e.Name())
		}
	}
	if len(files) == 1 && files[0] != bundle.NotesFile {
		got, err := moveIn(root, path.Join(src, files[0]), "drop", files[0])
		if err != nil {
			return "", err
		}
		return filepath.Join(showDir, "drop", got), root.RemoveAll(src)
	}
	got, err := moveIn(root, src, "drop", name)
	if err != nil {
		return "", err
	}
	// The watcher ignores an ERROR.txt in drop/; it goes so that done/
	// does not keep it.
	_ = root.Remove(path.Join("drop", got, bundle.ErrorFile))
	return filepath.Join(showDir, "drop", got), nil
}
