package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediationd/mediationd/internal/store"
)

// serviceMetrics are the webhook metrics: deliveries by result, attempts
// by outcome, and each endpoint's queue depth and age (read at scrape
// time). A nil *serviceMetrics records nothing.
type serviceMetrics struct {
	created  prometheus.Counter
	results  *prometheus.CounterVec
	attempts *prometheus.CounterVec
}

func newServiceMetrics(st *store.Store, clock func() time.Time, log *slog.Logger, reg prometheus.Registerer) *serviceMetrics {
	if reg == nil {
		return nil
	}
	m := &serviceMetrics{
		created: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediationd_webhook_deliveries_created_total",
			Help: "Webhook deliveries created from the outbox (one per matching endpoint and case version)."}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediationd_webhook_deliveries_total",
			Help: "Webhook deliveries that ended, by result: delivered (a 2xx) or failed (after the last retry)."}, []string{"result"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediationd_webhook_attempts_total",
			Help: "Webhook sending attempts, by outcome: success, http_error (a non-2xx answer) or no_answer (refused, unreachable, timed out)."}, []string{"outcome"}),
	}
	for _, r := range []string{"delivered", "failed"} {
		m.results.WithLabelValues(r)
	}
	for _, o := range []string{"success", "http_error", "no_answer"} {
		m.attempts.WithLabelValues(o)
	}
	reg.MustRegister(m.created, m.results, m.attempts, &queueCollector{st: st, clock: clock, log: log,
		depth: prometheus.NewDesc("mediationd_webhook_queue_depth", "Deliveries of an endpoint by status (PENDING: waiting or retrying; FAILED: held until :redeliver).", []string{"endpoint", "status"}, nil),
		age:   prometheus.NewDesc("mediationd_webhook_queue_oldest_age_seconds", "Age of an endpoint's oldest pending delivery; 0 when none waits.", []string{"endpoint"}, nil),
	})
	return m
}

func (m *serviceMetrics) dispatched(n int) {
	if m != nil && n > 0 {
		m.created.Add(float64(n))
	}
}

func (m *serviceMetrics) attempted(r store.AttemptResult) {
	if m == nil {
		return
	}
	switch {
	case r.Delivered:
		m.attempts.WithLabelValues("success").Inc()
		m.results.WithLabelValues("delivered").Inc()
		return
	case r.HTTPStatus != 0:
		m.attempts.WithLabelValues("http_error").Inc()
	default:
		m.attempts.WithLabelValues("no_answer").Inc()
	}
	if r.Failed {
		m.results.WithLabelValues("failed").Inc()
	}
}

// queueCollector reads each endpoint's backlog at scrape time.
type queueCollector struct {
	st         *store.Store
	clock      func() time.Time
	log        *slog.Logger
	depth, age *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.depth; ch <- c.age }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	qs, err := c.st.WebhookQueues(ctx)
	if err != nil {
		c.log.Warn("webhook queue metrics", "error", err.Error())
		return
	}
	now := c.clock()
	for _, q := range qs {
		id := q.EndpointID.String()
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(q.Pending), id, store.DeliveryPending)
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(q.Failed), id, store.DeliveryFailed)
		age := 0.0
		if !q.Oldest.IsZero() {
			age = max(now.Sub(q.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age, id)
	}
}
