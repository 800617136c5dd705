package server

import (
	"net/http"
	"time"

	"github.com/mediationd/mediationd/internal/metrics"
)

// MetricsOptions tune the Prometheus metrics (package metrics).
type MetricsOptions struct {
	// Private keeps GET /metrics off the HTTP listener, for deployments
	// that serve MetricsHandler on a listener only the monitoring system
	// reaches. By default (false) the HTTP listener serves it, without
	// authentication: then do not expose that port publicly without a
	// proxy that keeps /metrics to the monitoring system.
	Private bool
	// Version is the build's version in mediationd_build_info; "" = the
	// main module's version from the binary's build information.
	Version string
	// BacklogCacheTTL is how long one database query serves the outbox and
	// case gauges to scrapes; 0 = 5s, negative = a query at every scrape.
	BacklogCacheTTL time.Duration
}

// newMetrics builds the server's metrics over its store and clock.
func newMetrics(cfg Config) *metrics.Metrics {
	return metrics.New(metrics.Options{
		Version:         cfg.Metrics.Version,
		Pool:            cfg.Store.Pool(),
		Backlog:         cfg.Store,
		BacklogCacheTTL: cfg.Metrics.BacklogCacheTTL,
		Clock:           cfg.Clock,
		Logger:          cfg.Logger,
	})
}

// MetricsHandler serves the server's metrics in the Prometheus text
// format, without authentication; see MetricsOptions.Private.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.Handler() }

// handleMetrics registers GET /metrics on the HTTP listener's mux unless
// the metrics are private (or the server was assembled without them).
func (s *Server) handleMetrics(mux *http.ServeMux) {
	if !s.cfg.Metrics.Private && s.metrics != nil {
		mux.Handle("GET /metrics", s.metrics.Handler())
	}
}
