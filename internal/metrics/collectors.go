package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediationd/mediationd/internal/store"
)

// poolCollector reports the database pool's figures as pgxpool counts
// them, read at scrape time.
type poolCollector struct {
	pool PoolStater

	acquired, idle, total, constructing, max   *prometheus.Desc
	acquires, emptyAcquires, canceledAcquires  *prometheus.Desc
	acquireSeconds, emptyWaitSeconds, newConns *prometheus.Desc
	destroyed                                  *prometheus.Desc
}

func newPoolCollector(p PoolStater) *poolCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, labels, nil)
	}
	return &poolCollector{
		pool:             p,
		acquired:         d("acquired_conns", "Connections in use."),
		idle:             d("idle_conns", "Connections open and unused."),
		total:            d("total_conns", "Connections open or being opened."),
		constructing:     d("constructing_conns", "Connections being opened."),
		max:              d("max_conns", "Most connections the pool opens."),
		acquires:         d("acquires_total", "Connections handed out."),
		emptyAcquires:    d("empty_acquires_total", "Connections asked for when none was idle (the caller waited for one to open or be released)."),
		canceledAcquires: d("canceled_acquires_total", "Requests for a connection given up before one was free."),
		acquireSeconds:   d("acquire_duration_seconds_total", "Time spent getting connections."),
		emptyWaitSeconds: d("empty_acquire_wait_seconds_total", "Time spent waiting for a connection when none was idle."),
		newConns:         d("new_conns_total", "Connections opened."),
		destroyed:        d("closed_conns_total", "Connections the pool closed by reason (max_lifetime, max_idle).", "reason"),
	}
}

// Describe sends the descriptions of the pool's series.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.constructing, c.max,
		c.acquires, c.emptyAcquires, c.canceledAcquires, c.acquireSeconds, c.emptyWaitSeconds, c.newConns, c.destroyed} {
		ch <- d
	}
}

// Collect reads the pool's statistics once and sends them.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.canceledAcquires, float64(s.CanceledAcquireCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
	counter(c.emptyWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(c.newConns, float64(s.NewConnsCount()))
	counter(c.destroyed, float64(s.MaxLifetimeDestroyCount()), "max_lifetime")
	counter(c.destroyed, float64(s.MaxIdleDestroyCount()), "max_idle")
}

// backlogCollector reports the outbox and the open cases. It reads them
// with one query, bounded by a timeout, and serves scrapes from the last
// answer for a few seconds. A failed query is counted in
// mediationd_metrics_scrape_errors_total and leaves the backlog series out
// of that scrape; the scrape itself goes on.
type backlogCollector struct {
	src     BacklogSource
	ttl     time.Duration
	timeout time.Duration
	clock   func() time.Time
	log     *slog.Logger

	pending, oldestAge, overdue, open, replicated, errors *prometheus.Desc

	// mu serialises queries, so that concurrent scrapes wait for one
	// answer rather than each sending their own.
	mu     sync.Mutex
	asked  time.Time // when the last query was sent (wall clock)
	last   store.Gauges
	ok     bool // whether the last query answered
	failed int  // queries that failed, ever
}

func newBacklogCollector(o Options) *backlogCollector {
	c := &backlogCollector{
		src: o.Backlog, ttl: o.BacklogCacheTTL, timeout: o.BacklogTimeout, clock: o.Clock, log: o.Logger,
		pending: prometheus.NewDesc(namespace+"_outbox_pending",
			"Outbox rows not yet delivered.", nil, nil),
		oldestAge: prometheus.NewDesc(namespace+"_outbox_oldest_pending_age_seconds",
			"Age of the first undelivered outbox row; 0 when none waits.", nil, nil),
		overdue: prometheus.NewDesc(namespace+"_cases_overdue",
			"Open cases (accepted, assigned or in mediation) flagged overdue.", nil, nil),
		open: prometheus.NewDesc(namespace+"_cases_open",
			"Cases not closed, by state.", []string{"state"}, nil),
		replicated: prometheus.NewDesc(namespace+"_database_commits_replicated",
			"1 when the database acknowledges a commit only once a synchronous standby has it (synchronous_commit on and a synchronous standby named, as Patroni's synchronous_mode sets), 0 when a failover could lose acknowledged changes.", nil, nil),
		errors: prometheus.NewDesc(namespace+"_metrics_scrape_errors_total",
			"Backlog queries of scrapes that failed or timed out; their series were left out.", nil, nil),
	}
	if c.ttl == 0 {
		c.ttl = 5 * time.Second
	}
	if c.timeout <= 0 {
		c.timeout = 2 * time.Second
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Describe sends the descriptions of the backlog's series.
func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pending, c.oldestAge, c.overdue, c.open, c.replicated, c.errors} {
		ch <- d
	}
}

// Collect sends the backlog from the cache or a fresh query, and the
// count of failed queries.
func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	g, ok, failed := c.read()
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(failed))
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(g.OutboxPending))
	age := 0.0
	if g.OutboxPending > 0 && !g.OldestPending.IsZero() {
		age = max(0, c.clock().Sub(g.OldestPending).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(g.Overdue))
	for _, st := range store.OpenStates {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(g.Open[st]), string(st))
	}
	replicated := 0.0
	if g.CommitsReplicated {
		replicated = 1
	}
	ch <- prometheus.MustNewConstMetric(c.replicated, prometheus.GaugeValue, replicated)
}

// read returns the cached answer while it is fresh, else queries. A
// failure is cached as long as an answer, so that a database in trouble is
// not asked again at every scrape.
func (c *backlogCollector) read() (g store.Gauges, ok bool, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl > 0 && !c.asked.IsZero() && time.Since(c.asked) < c.ttl {
		return c.last, c.ok, c.failed
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.asked = time.Now()
	g, err := c.src.Gauges(ctx)
	if err != nil {
		c.failed++
		c.last, c.ok = store.Gauges{}, false
		c.log.Warn("metrics: backlog query failed; its series are left out", "error", err.Error())
		return c.last, false, c.failed
	}
	c.last, c.ok = g, true
	return g, true, c.failed
}
