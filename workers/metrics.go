package workers

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/prodcast/prodcast/pipeline"
)

// The workers' metrics, in the default registry: `prodcast up` and
// `prodcast serve` show them at /metrics, `prodcast worker` at
// --metrics-listen.
var (
	bundlesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "prodcast_bundles_total",
		Help: "Bundles the workers finished, by outcome: published (or scheduled), or refused (moved to failed/).",
	}, []string{"outcome"})
	encodeSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "prodcast_encode_seconds",
		Help:    "Wall time of an episode's audio stage: download, measure, encode, tag, upload.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 12), // 1 s to about an hour
	})
	audioSecondsTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "prodcast_encoded_audio_seconds_total",
		Help: "Seconds of audio encoded; divided by prodcast_encode_seconds_sum, the speed against real time.",
	})
	rebuildSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "prodcast_rebuild_seconds",
		Help:    "Wall time of a rebuild of the feed and the pages.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
	})
	siteFilesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "prodcast_site_files_total",
		Help: "Files of the blog and feed per rebuild: rendered, reused from the last rebuild, uploaded.",
	}, []string{"how"})
	feedRefusedTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "prodcast_feed_refused_total",
		Help: "Feed builds refused by the rule table; the last good feed stayed (see prodcast status).",
	})
	episodesByState = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "prodcast_episodes",
		Help: "Episodes in a show's catalog at its last rebuild, by state (show is \"\" for the root show).",
	}, []string{"show", "state"})
)

// countEpisodes sets a show's episodes gauge from its catalog.
func countEpisodes(show string, eps []*pipeline.Manifest) {
	counts := map[pipeline.State]int{pipeline.StateIngested: 0, pipeline.StateEncoded: 0,
		pipeline.StateScheduled: 0, pipeline.StatePublished: 0}
	for _, m := range eps {
		counts[m.State]++
	}
	for state, n := range counts {
		episodesByState.WithLabelValues(show, string(state)).Set(float64(n))
	}
}
