package catalog_test

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/internal/srcwalk"
)

// TestOneOwnerOfKeysAndPaths: the catalog's layout computes every object
// key and the show every episode path; no other code of prodcast spells a
// bucket prefix (public/, private/) or the episode path scheme (episodes/)
// in a string. Tests, which check what the owners computed, may.
func TestOneOwnerOfKeysAndPaths(t *testing.T) {
	owners := []string{"pipeline/catalog", "pipeline/show.go"} // the keys; the public URLs and paths
	srcwalk.Files(t, "../..", owners, func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && spellsKey(s) {
				t.Errorf("%s spells %q: take it from the catalog's layout (catalog.Layout) or the show (pipeline.EpisodeDir, Show.EpisodeURL)",
					fset.Position(lit.Pos()), s)
			}
			return true
		})
	})
}

func spellsKey(s string) bool {
	for _, p := range []string{"public/", "private/", "episodes/", "/episodes/"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
