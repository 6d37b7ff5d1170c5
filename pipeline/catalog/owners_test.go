package catalog_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOneOwnerOfKeysAndPaths: the catalog's layout computes every object
// key and the show every episode path; no other code of prodcast spells a
// bucket prefix (public/, private/) or the episode path scheme (episodes/)
// in a string. Tests, which check what the owners computed, may.
func TestOneOwnerOfKeysAndPaths(t *testing.T) {
	root := filepath.Join("..", "..")
	owners := map[string]bool{
		filepath.Join("pipeline", "catalog"): true, // the keys
		filepath.Join("pipeline", "show.go"): true, // the public URLs and paths
	}
	spelled := func(s string) bool {
		for _, p := range []string{"public/", "private/", "episodes/", "/episodes/"} {
			if strings.HasPrefix(s, p) {
				return true
			}
		}
		return false
	}
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if owners[rel] || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || rel == "e2e" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || owners[rel] {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && spelled(s) {
				t.Errorf("%s spells %q: take it from the catalog's layout (catalog.Layout) or the show (pipeline.EpisodeDir, Show.EpisodeURL)",
					fset.Position(lit.Pos()), s)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files; the walk did not find the code", checked)
	}
}
