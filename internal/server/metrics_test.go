package server_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc/codes"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// metricFamilies is one scrape of /metrics.
type metricFamilies map[string]*dto.MetricFamily

// scrape fetches /metrics without a credential and parses it.
func scrape(t *testing.T, e *env) metricFamilies {
	t.Helper()
	resp, err := http.Get(e.baseURL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// get returns the value of the series of name with exactly labels (a
// histogram's sample count), and whether it is there.
func (f metricFamilies) get(name string, labels ...string) (float64, bool) {
	fam := f[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			found := false
			for i := 0; i < len(labels); i += 2 {
				if labels[i] == l.GetName() && labels[i+1] == l.GetValue() {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// value is get for a series that must be there.
func (f metricFamilies) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := f.get(name, labels...)
	if !ok {
		t.Fatalf("%s%v is not in the scrape", name, labels)
	}
	return v
}

// delta is how much a series rose between two scrapes; a series missing
// from the first counts from 0.
func delta(t *testing.T, before, after metricFamilies, name string, labels ...string) float64 {
	t.Helper()
	b, _ := before.get(name, labels...)
	return after.value(t, name, labels...) - b
}

// histogramCount is the number of observations of a histogram, all its
// series together.
func (f metricFamilies) histogramCount(name string) uint64 {
	var n uint64
	for _, m := range f[name].GetMetric() {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

// TestMetrics drives traffic over gRPC and REST and an overdue run, and
// checks what /metrics says against it and against the database.
func TestMetrics(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	e := startWith(t, pgtest.NewDatabase(t), func(c *server.Config) {
		c.Clock, c.OverdueInterval = clk.now, -1
		c.AuthOptions.SessionTTL = 10 * 365 * 24 * time.Hour // the test moves the clock by weeks
		c.Metrics.BacklogCacheTTL = -1                       // the test compares with the database
		c.Metrics.Version = "v9.9.9-test"
	})
	ctx := context.Background()
	g, rest := grpcClient{e}, restClient{e}

	before := scrape(t, e)

	var cases []*mediationv1.Case
	for i, cl := range []client{g, g, g, rest, rest} {
		r := cl.create(t, newCase("metrics"), "")
		if r.st != nil {
			t.Fatalf("create %d over %s: %v", i, cl.name(), r.st)
		}
		cases = append(cases, r.c)
	}
	const creates = 5
	for _, a := range []struct {
		cl client
		c  *mediationv1.Case
	}{{g, cases[0]}, {rest, cases[3]}} {
		if r := a.cl.act(t, a.c.GetName(), casework.Command{Action: casework.ActionAccept}, ""); r.st != nil {
			t.Fatalf("accept over %s: %v", a.cl.name(), r.st)
		}
	}
	// Mediation cannot start before the case is accepted and assigned.
	for _, a := range []struct {
		cl client
		c  *mediationv1.Case
	}{{g, cases[1]}, {rest, cases[4]}} {
		if r := a.cl.act(t, a.c.GetName(), casework.Command{Action: casework.ActionStartMediation}, ""); r.code() != codes.FailedPrecondition {
			t.Fatalf("starting mediation of a new case over %s: %v, want FailedPrecondition", a.cl.name(), r.st)
		}
	}
	if _, err := e.cases.ListCases(ctx, &mediationv1.ListCasesRequest{}); err != nil {
		t.Fatal(err)
	}
	if r := rest.do(t, http.MethodGet, "/v1/cases", nil, &mediationv1.ListCasesResponse{}); r.st != nil {
		t.Fatal(r.st)
	}

	// Past the accepted cases' 30 days, the overdue job marks them.
	clk.set(start.AddDate(0, 0, 40))
	marked, err := e.srv.MarkOverdue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if marked != 2 {
		t.Fatalf("the overdue job marked %d cases, want the 2 accepted ones", marked)
	}
	// Two outbox rows are delivered, so that pending is not every row.
	if _, err := e.store.Pool().Exec(ctx, `UPDATE outbox SET deliver_time = $1 WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 2)`, clk.now()); err != nil {
		t.Fatal(err)
	}

	after := scrape(t, e)

	// Requests by method and code, REST included.
	if d := delta(t, before, after, "mediationd_grpc_requests_total", "method", mediationv1.CaseService_CreateCase_FullMethodName, "code", "OK"); d != creates {
		t.Errorf("CreateCase OK rose by %v, want %d", d, creates)
	}
	if d := delta(t, before, after, "mediationd_grpc_requests_total", "method", mediationv1.CaseService_AcceptCase_FullMethodName, "code", "OK"); d != 2 {
		t.Errorf("AcceptCase OK rose by %v, want 2", d)
	}
	if d := delta(t, before, after, "mediationd_grpc_requests_total", "method", mediationv1.CaseService_StartMediation_FullMethodName, "code", "FailedPrecondition"); d != 2 {
		t.Errorf("StartMediation FailedPrecondition rose by %v, want 2", d)
	}
	if _, ok := after.get("mediationd_grpc_requests_total", "method", mediationv1.CaseService_StartMediation_FullMethodName, "code", "OK"); ok {
		t.Error("StartMediation OK is reported, but it never succeeded")
	}
	if d := delta(t, before, after, "mediationd_grpc_requests_total", "method", mediationv1.CaseService_ListCases_FullMethodName, "code", "OK"); d != 2 {
		t.Errorf("ListCases OK rose by %v, want 2", d)
	}
	if d := delta(t, before, after, "mediationd_grpc_request_duration_seconds", "method", mediationv1.CaseService_CreateCase_FullMethodName); d != creates {
		t.Errorf("CreateCase latency count rose by %v, want %d", d, creates)
	}
	if b, a := before.histogramCount("mediationd_grpc_request_duration_seconds"), after.histogramCount("mediationd_grpc_request_duration_seconds"); a < b+creates+6 {
		t.Errorf("latency observations %d -> %d, want at least %d more", b, a, creates+6)
	}

	// Case actions by result.
	for _, c := range []struct {
		action, result string
		want           float64
	}{
		{"create", "ok", creates}, {"accept", "ok", 2}, {"startMediation", "refused", 2},
		{"startMediation", "ok", 0}, {"accept", "refused", 0}, {"accept", "error", 0},
	} {
		if d := delta(t, before, after, "mediationd_case_actions_total", "action", c.action, "result", c.result); d != c.want {
			t.Errorf("case actions %s/%s rose by %v, want %v", c.action, c.result, d, c.want)
		}
	}

	// HTTP routes: patterns, never paths.
	for _, c := range []struct {
		route, status string
		want          float64
	}{
		{"POST /v1/cases", "200", 2},
		{"POST /v1/cases/{case}:accept", "200", 1},
		{"POST /v1/cases/{case}:startMediation", "409", 1},
		{"GET /v1/cases", "200", 1},
		{"GET /metrics", "200", 1}, // the first scrape
	} {
		if d := delta(t, before, after, "mediationd_http_requests_total", "route", c.route, "status", c.status); d != c.want {
			t.Errorf("HTTP %s %s rose by %v, want %v", c.route, c.status, d, c.want)
		}
	}
	if d := delta(t, before, after, "mediationd_http_request_duration_seconds", "route", "POST /v1/cases"); d != 2 {
		t.Errorf("HTTP latency count of POST /v1/cases rose by %v, want 2", d)
	}
	ids := regexp.MustCompile(`cases/[^{]`)
	for name, fam := range after {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				if ids.MatchString(v) {
					t.Errorf("%s has a path in label %s=%q", name, l.GetName(), v)
				}
				for _, c := range cases {
					if id := strings.TrimPrefix(c.GetName(), "cases/"); strings.Contains(v, id) {
						t.Errorf("%s has case id %s in label %s=%q", name, id, l.GetName(), v)
					}
				}
			}
		}
	}

	// The database pool.
	maxConns := after.value(t, "mediationd_db_pool_max_conns")
	total := after.value(t, "mediationd_db_pool_total_conns")
	acquired := after.value(t, "mediationd_db_pool_acquired_conns")
	idle := after.value(t, "mediationd_db_pool_idle_conns")
	if maxConns != 30 || total < 1 || total > maxConns || acquired+idle > total {
		t.Errorf("pool: max %v, total %v, acquired %v, idle %v", maxConns, total, acquired, idle)
	}
	if d := delta(t, before, after, "mediationd_db_pool_acquires_total"); d < creates {
		t.Errorf("pool acquires rose by %v over %d creates and more", d, creates)
	}
	after.value(t, "mediationd_db_pool_acquire_duration_seconds_total")
	after.value(t, "mediationd_db_pool_empty_acquires_total")
	after.value(t, "mediationd_db_pool_canceled_acquires_total")

	// The backlog, against the database.
	var pending, overdue, intake, accepted int64
	var head time.Time
	if err := e.store.Pool().QueryRow(ctx, `SELECT
		(SELECT count(*) FROM outbox WHERE deliver_time IS NULL),
		(SELECT create_time FROM outbox WHERE deliver_time IS NULL ORDER BY id LIMIT 1),
		(SELECT count(*) FROM cases WHERE overdue AND state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING')),
		(SELECT count(*) FROM cases WHERE state = 'INTAKE'),
		(SELECT count(*) FROM cases WHERE state = 'ACCEPTED')`).Scan(&pending, &head, &overdue, &intake, &accepted); err != nil {
		t.Fatal(err)
	}
	if pending < 1 {
		t.Fatal("no outbox row is pending; the test needs some")
	}
	if v := after.value(t, "mediationd_outbox_pending"); v != float64(pending) {
		t.Errorf("outbox pending = %v, the database has %d", v, pending)
	}
	if v, want := after.value(t, "mediationd_outbox_oldest_pending_age_seconds"), clk.now().Sub(head).Seconds(); math.Abs(v-want) > 1e-6 {
		t.Errorf("oldest pending age = %vs, want %vs", v, want)
	}
	if v := after.value(t, "mediationd_cases_overdue"); v != float64(overdue) || overdue != int64(marked) {
		t.Errorf("overdue gauge = %v, the database has %d, the job marked %d", v, overdue, marked)
	}
	if v := after.value(t, "mediationd_cases_open", "state", "INTAKE"); v != float64(intake) || intake != creates-2 {
		t.Errorf("open INTAKE = %v, the database has %d", v, intake)
	}
	if v := after.value(t, "mediationd_cases_open", "state", "ACCEPTED"); v != float64(accepted) || accepted != 2 {
		t.Errorf("open ACCEPTED = %v, the database has %d", v, accepted)
	}
	if v := after.value(t, "mediationd_metrics_scrape_errors_total"); v != 0 {
		t.Errorf("scrape errors = %v", v)
	}

	// The overdue job.
	if d := delta(t, before, after, "mediationd_overdue_marked_total"); d != float64(marked) {
		t.Errorf("overdue marked rose by %v, the job marked %d", d, marked)
	}
	if d := delta(t, before, after, "mediationd_overdue_job_runs_total", "result", "ok"); d != 1 {
		t.Errorf("overdue job ok runs rose by %v, want 1", d)
	}

	// The build and the runtime.
	var build *dto.Metric
	if fam := after["mediationd_build_info"]; fam != nil && len(fam.GetMetric()) == 1 {
		build = fam.GetMetric()[0]
	}
	labels := map[string]string{}
	for _, l := range build.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if build.GetGauge().GetValue() != 1 || labels["version"] != "v9.9.9-test" || !strings.HasPrefix(labels["go_version"], "go") {
		t.Errorf("build info %v", build)
	}
	after.value(t, "go_goroutines")
	after.value(t, "process_resident_memory_bytes")
}

// TestMetricsPrivate checks that private metrics are off the HTTP listener
// and still served by MetricsHandler.
func TestMetricsPrivate(t *testing.T) {
	e := startWith(t, pgtest.NewDatabase(t), func(c *server.Config) { c.Metrics.Private = true })
	resp, err := http.Get(e.baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the HTTP listener: %d, want 404", resp.StatusCode)
	}
	rec := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "mediationd_db_pool_max_conns") {
		t.Errorf("MetricsHandler: %d %.200s", rec.Code, rec.Body.String())
	}
}
