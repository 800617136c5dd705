// Package metrics keeps mediationd's Prometheus metrics: gRPC and HTTP
// requests, case actions by outcome, the overdue job, the database pool and
// the backlog (outbox and open cases). Each Metrics has its own registry,
// so that several servers in one process (as in tests) do not collide.
//
// Every label has a bounded set of values: gRPC methods come from the
// registered service descriptors, codes from the 17 gRPC codes, HTTP routes
// from the patterns the handlers were registered with (never a raw path, so
// never a case id), actions from a fixed table of CaseService methods.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mediationd/mediationd/internal/store"
)

// namespace prefixes every metric of the service's own.
const namespace = "mediationd"

// latencyBuckets are the upper bounds, in seconds, of the request duration
// histograms: from 1ms (a cached read) to 5s (a call near its deadline).
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// PoolStater is what the pool metrics read at scrape time; *pgxpool.Pool
// is one.
type PoolStater interface {
	Stat() *pgxpool.Stat
}

// BacklogSource reads the backlog figures at scrape time; *store.Store is
// one.
type BacklogSource interface {
	Gauges(ctx context.Context) (store.Gauges, error)
}

// Options say what a Metrics reports beyond requests and case actions.
type Options struct {
	// Version is the build's version in mediationd_build_info; "" = the
	// main module's version from the binary's build information.
	Version string
	// Pool, when set, is reported as mediationd_db_pool_* at each scrape.
	Pool PoolStater
	// Backlog, when set, is queried for the outbox and case gauges.
	Backlog BacklogSource
	// BacklogCacheTTL is how long one backlog query serves scrapes, so
	// that frequent scrapes do not load the database; 0 = 5s, negative =
	// a query at every scrape.
	BacklogCacheTTL time.Duration
	// BacklogTimeout bounds the backlog query; 0 = 2s.
	BacklogTimeout time.Duration
	// Clock is the time outbox ages are measured against: the clock the
	// service stamps outbox rows with; nil = time.Now.
	Clock func() time.Time
	// Logger receives failed backlog queries; nil = discarded.
	Logger *slog.Logger
}

// Metrics is one server's set of metrics and the registry that holds them.
// A nil *Metrics records nothing, so that code paths built without metrics
// (tests that assemble parts of a server) need no checks of their own.
type Metrics struct {
	reg *prometheus.Registry

	grpcRequests  *prometheus.CounterVec
	grpcDuration  *prometheus.HistogramVec
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	caseActions   *prometheus.CounterVec
	overdueMarked prometheus.Counter
	overdueRuns   *prometheus.CounterVec

	methods methodCache
	routes  routeCache
}

// New builds the metrics and registers them, with the Go runtime and
// process collectors, in a registry of their own.
func New(o Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		grpcRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "grpc_requests_total",
			Help: "Unary gRPC calls handled, REST calls through the gateway included, by full method and status code.",
		}, []string{"method", "code"}),
		grpcDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "grpc_request_duration_seconds",
			Help:    "Time to handle a unary gRPC call, interceptors included, by full method.",
			Buckets: latencyBuckets,
		}, []string{"method"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "Requests on the HTTP listener by route pattern and response status.",
		}, []string{"route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer a request on the HTTP listener, by route pattern.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		caseActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "case_actions_total",
			Help: "Case registrations and lifecycle actions asked for, by action and result (ok, refused, error).",
		}, []string{"action", "result"}),
		overdueMarked: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "overdue_marked_total",
			Help: "Cases the overdue job marked overdue.",
		}),
		overdueRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "overdue_job_runs_total",
			Help: "Runs of the overdue job by result (ok, error).",
		}, []string{"result"}),
	}
	for _, action := range caseActions {
		for _, result := range []string{resultOK, resultRefused, resultError} {
			m.caseActions.WithLabelValues(action, result)
		}
	}
	m.overdueRuns.WithLabelValues(resultOK)
	m.overdueRuns.WithLabelValues(resultError)

	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": buildVersion(o.Version), "go_version": runtime.Version()},
	})
	build.Set(1)

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.grpcRequests, m.grpcDuration, m.httpRequests, m.httpDuration,
		m.caseActions, m.overdueMarked, m.overdueRuns, build,
	)
	if o.Pool != nil {
		m.reg.MustRegister(newPoolCollector(o.Pool))
	}
	if o.Backlog != nil {
		m.reg.MustRegister(newBacklogCollector(o))
	}
	return m
}

// buildVersion is v, or else the main module's version as the toolchain
// recorded it ("(devel)" for a build from a work tree).
func buildVersion(v string) string {
	if v != "" {
		return v
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

// Registry is the registry the metrics are in, for tests and for callers
// that add collectors of their own.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus text format. It asks for no
// credential: whoever reaches it sees request counts, pool figures and
// backlog sizes (no personal data, no case ids), so it belongs on a port
// that only the monitoring system reaches, or behind a proxy that guards
// it. A collector that fails leaves its series out of the answer rather
// than failing the scrape. A nil Metrics has none to serve: 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	})
}

// ObserveOverdueRun records one run of the overdue job: how many cases it
// marked (also when it failed part way) and whether it failed.
func (m *Metrics) ObserveOverdueRun(marked int, err error) {
	if m == nil {
		return
	}
	if marked > 0 {
		m.overdueMarked.Add(float64(marked))
	}
	result := resultOK
	if err != nil {
		result = resultError
	}
	m.overdueRuns.WithLabelValues(result).Inc()
}
