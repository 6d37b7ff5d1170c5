package feeds

import (
	"time"

	"github.com/prodcast/prodcast/pipeline"
)

// BuildStatsForTest builds with b and says how many items it encoded.
func BuildStatsForTest(b *Builder, show *pipeline.Show, eps []*pipeline.Manifest, now time.Time) ([]byte, []Problem, BuildStats, error) {
	return b.build(show, eps, now)
}
