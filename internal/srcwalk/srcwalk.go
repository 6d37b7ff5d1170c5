// Package srcwalk walks prodcast's own Go code, for the tests that hold it
// to a rule (one owner of the bucket's keys, state changes as methods):
//
//	srcwalk.Files(t, "../..", []string{"pipeline/catalog"}, func(fset *token.FileSet, f *ast.File) { ... })
package srcwalk

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Files parses every Go file of the module at root but tests, testdata,
// e2e/, hidden folders and the files or folders skip names (relative to
// root, with slashes), and calls visit with each. A walk that finds fewer
// than 50 files fails tb: it did not find the code.
func Files(tb testing.TB, root string, skip []string, visit func(fset *token.FileSet, f *ast.File)) {
	tb.Helper()
	fset := token.NewFileSet()
	read := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == "e2e" || slices.Contains(skip, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || slices.Contains(skip, rel) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		read++
		visit(fset, f)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if read < 50 {
		tb.Fatalf("read only %d files under %s; the walk did not find the code", read, root)
	}
}
