package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// queueCollector reports the asynq queues at every scrape, from Redis, so
// that any `serve` shows the queues whichever worker runs the tasks.
type queueCollector struct {
	insp *asynq.Inspector
}

var (
	queueTasksDesc = prometheus.NewDesc("prodcast_queue_tasks",
		"Tasks in an asynq queue, by state: pending, active, scheduled, retry, archived (failed for good), aggregating.",
		[]string{"queue", "state"}, nil)
	queueDoneDesc = prometheus.NewDesc("prodcast_queue_tasks_today",
		"Tasks an asynq queue finished today (UTC), by result: processed (including failed) or failed.",
		[]string{"queue", "result"}, nil)
	queueLatencyDesc = prometheus.NewDesc("prodcast_queue_latency_seconds",
		"How long the oldest pending task of an asynq queue has waited.",
		[]string{"queue"}, nil)
)

// Describe sends the descriptions of the queue metrics.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueTasksDesc
	ch <- queueDoneDesc
	ch <- queueLatencyDesc
}

// Collect reads every queue's counts from Redis. A Redis that does not
// answer gives no queue metrics, rather than a failed scrape.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.insp.Queues()
	if err != nil {
		return
	}
	for _, q := range queues {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			continue
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "aggregating": info.Aggregating} {
			ch <- prometheus.MustNewConstMetric(queueTasksDesc, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(queueDoneDesc, prometheus.GaugeValue, float64(info.Processed), q, "processed")
		ch <- prometheus.MustNewConstMetric(queueDoneDesc, prometheus.GaugeValue, float64(info.Failed), q, "failed")
		ch <- prometheus.MustNewConstMetric(queueLatencyDesc, prometheus.GaugeValue, info.Latency.Seconds(), q)
	}
}

// requireToken lets a request through to next only with the bearer token
// token; an empty token lets none through.
func requireToken(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Cache-Control", "no-store")
			msg := "/metrics needs its token: send PRODCAST_METRICS_TOKEN as \"Authorization: Bearer TOKEN\"\n"
			if token == "" {
				msg = "/metrics is not public: set PRODCAST_METRICS_TOKEN and send it as \"Authorization: Bearer TOKEN\", or scrape PRODCAST_METRICS_LISTEN\n"
			}
			http.Error(w, msg, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
