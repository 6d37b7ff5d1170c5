package pipeline_test

import (
	"go/ast"
	"go/token"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/internal/srcwalk"
	"github.com/prodcast/prodcast/pipeline"
)

// TestStateChangesAreMethods: every change of an episode's state is a
// method of the manifest (episode.go says which transitions exist); no
// other code assigns a manifest's State.
func TestStateChangesAreMethods(t *testing.T) {
	srcwalk.Files(t, "..", []string{"pipeline/episode.go"}, func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok {
				return true
			}
			for i, lhs := range as.Lhs {
				sel, ok := lhs.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "State" || i >= len(as.Rhs) || !isEpisodeState(as.Rhs[i]) {
					continue
				}
				t.Errorf("%s assigns a State: change an episode's state with a method of pipeline.Manifest", fset.Position(sel.Pos()))
			}
			return true
		})
	})
}

func TestStateMethods(t *testing.T) {
	m := &pipeline.Manifest{Slug: "x", State: pipeline.StateDeleted, GUID: "g"}
	m.Revive()
	if m.State != pipeline.StateIngested || m.GUID != "g" {
		t.Errorf("Revive of a deleted episode: %s, GUID %q", m.State, m.GUID)
	}
	m.State = pipeline.StatePublished
	m.Revive()
	m.Encoded()
	if m.State != pipeline.StatePublished {
		t.Errorf("Revive and Encoded changed a published episode: %s", m.State)
	}
	m.Ingest()
	m.Encoded()
	if m.State != pipeline.StateEncoded {
		t.Errorf("Encoded after Ingest: %s", m.State)
	}
	m.Schedule()
	if m.State != pipeline.StateScheduled {
		t.Errorf("Schedule: %s", m.State)
	}
	imp := &pipeline.Manifest{Slug: "old", GUID: "old-guid", PublishedAt: time.Date(2020, 3, 2, 10, 0, 0, 0, time.UTC)}
	imp.PublishImported(pipeline.Media{Key: "https://old.test/a.mp3", Bytes: 100})
	if imp.State != pipeline.StatePublished || imp.MP3 == nil || imp.GUID != "old-guid" || imp.PublishedAt.Year() != 2020 {
		t.Errorf("PublishImported: %+v", imp)
	}
}

// isEpisodeState reports whether e names one of pipeline's episode states
// (pipeline.StatePublished, or StatePublished inside the package).
func isEpisodeState(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		pkg, ok := x.X.(*ast.Ident)
		return ok && pkg.Name == "pipeline" && strings.HasPrefix(x.Sel.Name, "State")
	case *ast.Ident:
		return strings.HasPrefix(x.Name, "State")
	}
	return false
}
