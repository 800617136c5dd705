package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/jackc/pgx/v5/pgxpool"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// sample finds the series of name whose labels include want and returns
// its value (a histogram's sample count); ok is false when there is none.
func sample(t *testing.T, m *Metrics, name string, want map[string]string) (v float64, ok bool) {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if hasLabels(s, want) {
				return value(s), true
			}
		}
	}
	return 0, false
}

func hasLabels(s *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range s.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func value(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.GetCounter().GetValue()
	case s.Gauge != nil:
		return s.GetGauge().GetValue()
	case s.Histogram != nil:
		return float64(s.GetHistogram().GetSampleCount())
	}
	return 0
}

func TestRouteLabel(t *testing.T) {
	for pattern, want := range map[string]string{
		"/v1/cases":                                "/v1/cases",
		"/v1/sessions/current":                     "/v1/sessions/current",
		"/v1/{name=cases/*}":                       "/v1/cases/{case}",
		"/v1/{name=cases/*}:accept":                "/v1/cases/{case}:accept",
		"/v1/{case.name=cases/*}":                  "/v1/cases/{case}",
		"/v1/{parent=cases/*}/sessions":            "/v1/cases/{case}/sessions",
		"/v1/{deadline_rule.name=deadlineRules/*}": "/v1/deadlineRules/{deadlineRule}",
		"/v1/{name=cases/*/sessions/*}:cancel":     "/v1/cases/{case}/sessions/{session}:cancel",
		"/v1/{name=*}":                             "/v1/{name}",
		"/v1/{path=files/**}":                      "/v1/files/{file}",
		"/v1/{id}":                                 "/v1/{id}",
		"/v1/{broken":                              "/v1/{broken",
	} {
		if got := routeLabel(pattern); got != want {
			t.Errorf("routeLabel(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestResultOf(t *testing.T) {
	want := map[string][]codes.Code{
		resultOK: {codes.OK},
		resultRefused: {codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
			codes.ResourceExhausted, codes.FailedPrecondition, codes.Aborted, codes.OutOfRange, codes.Unauthenticated},
		resultError: {codes.Canceled, codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented,
			codes.Internal, codes.Unavailable, codes.DataLoss},
	}
	seen := 0
	for result, cs := range want {
		for _, c := range cs {
			seen++
			if got := resultOf(c); got != result {
				t.Errorf("resultOf(%v) = %s, want %s", c, got, result)
			}
		}
	}
	if seen != codeCount {
		t.Errorf("table has %d codes, want all %d", seen, codeCount)
	}
}

// TestCaseActionsCoverTheLifecycle checks that every action a caller can
// ask for has its CaseService method in the table, and that the table
// names only methods of CaseService.
func TestCaseActionsCoverTheLifecycle(t *testing.T) {
	var methods []string
	for _, md := range mediationv1.CaseService_ServiceDesc.Methods {
		methods = append(methods, "/"+mediationv1.CaseService_ServiceDesc.ServiceName+"/"+md.MethodName)
	}
	have := map[casework.Action]bool{}
	for method, a := range caseActionOf {
		if !slices.Contains(methods, method) {
			t.Errorf("%s is not a CaseService method", method)
		}
		if have[a] {
			t.Errorf("action %s appears twice", a)
		}
		have[a] = true
	}
	for _, a := range append([]casework.Action{casework.ActionCreate}, casework.Actions...) {
		if !have[a] && !slices.Contains(casework.SystemActions, a) {
			t.Errorf("no CaseService method for action %s", a)
		}
	}
}

func TestUnaryInterceptor(t *testing.T) {
	m := New(Options{})
	icpt := m.UnaryServerInterceptor()
	call := func(method string, err error) {
		info := &grpc.UnaryServerInfo{FullMethod: method}
		_, got := icpt(context.Background(), nil, info, func(context.Context, any) (any, error) { return nil, err })
		if !errors.Is(got, err) {
			t.Fatalf("interceptor changed the error %v into %v", err, got)
		}
	}
	accept := mediationv1.CaseService_AcceptCase_FullMethodName
	list := mediationv1.CaseService_ListCases_FullMethodName
	call(accept, nil)
	call(accept, nil)
	call(accept, status.Error(codes.FailedPrecondition, "not in this state"))
	call(accept, status.Error(codes.Unavailable, "database down"))
	call(accept, errors.New("not a status"))
	call(list, nil)

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"mediationd_grpc_requests_total", map[string]string{"method": accept, "code": "OK"}, 2},
		{"mediationd_grpc_requests_total", map[string]string{"method": accept, "code": "FailedPrecondition"}, 1},
		{"mediationd_grpc_requests_total", map[string]string{"method": accept, "code": "Unavailable"}, 1},
		{"mediationd_grpc_requests_total", map[string]string{"method": accept, "code": "Unknown"}, 1},
		{"mediationd_grpc_requests_total", map[string]string{"method": list, "code": "OK"}, 1},
		{"mediationd_grpc_request_duration_seconds", map[string]string{"method": accept}, 5},
		{"mediationd_case_actions_total", map[string]string{"action": "accept", "result": "ok"}, 2},
		{"mediationd_case_actions_total", map[string]string{"action": "accept", "result": "refused"}, 1},
		{"mediationd_case_actions_total", map[string]string{"action": "accept", "result": "error"}, 2},
		{"mediationd_case_actions_total", map[string]string{"action": "assign", "result": "ok"}, 0},
	} {
		if got, _ := sample(t, m, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if _, ok := sample(t, m, "mediationd_grpc_requests_total", map[string]string{"method": list, "code": "NotFound"}); ok {
		t.Error("a code the method never returned is exported")
	}
	if _, ok := sample(t, m, "mediationd_case_actions_total", map[string]string{"action": ""}); ok {
		t.Error("a read was counted as a case action")
	}
}

func TestInstrumentHTTP(t *testing.T) {
	m := New(Options{})
	gwMux := runtime.NewServeMux()
	route := m.GatewayRouteInterceptor()
	// gateway stands for the REST gateway: it annotates the context with the
	// method's pattern, as generated handlers do, and calls through its
	// gRPC client.
	gateway := func(pattern string, code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ctx, err := runtime.AnnotateContext(r.Context(), gwMux, r, "/mediation.v1.CaseService/AcceptCase", runtime.WithHTTPPathPattern(pattern))
			if err != nil {
				t.Error(err)
			}
			invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
			if err := route(ctx, "/mediation.v1.CaseService/AcceptCase", nil, nil, nil, invoker); err != nil {
				t.Error(err)
			}
			w.WriteHeader(code)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.Handle("POST /v1/cases/", gateway("/v1/{name=cases/*}:accept", http.StatusConflict))
	mux.Handle("GET /v1/cases", gateway("/v1/cases", http.StatusOK))
	mux.HandleFunc("/v1/", http.NotFound)
	h := m.InstrumentHTTP(mux)

	for _, req := range []struct{ method, path string }{
		{"GET", "/healthz"},
		{"GET", "/healthz"},
		{"POST", "/v1/cases/0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b:accept"},
		{"POST", "/v1/cases/0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c:accept"},
		{"GET", "/v1/cases"},
		{"GET", "/v1/cases/0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d/nothing"},
		{"GET", "/favicon.ico"},
		{"BREW", "/coffee/0199a1b2"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.path, nil))
	}
	for _, tc := range []struct {
		route, status string
		want          float64
	}{
		{"GET /healthz", "200", 2},
		{"POST /v1/cases/{case}:accept", "409", 2},
		{"GET /v1/cases", "200", 1},
		{"/v1/", "404", 1},
		{"other", "404", 2},
	} {
		labels := map[string]string{"route": tc.route, "status": tc.status}
		if got, _ := sample(t, m, "mediationd_http_requests_total", labels); got != tc.want {
			t.Errorf("mediationd_http_requests_total%v = %v, want %v", labels, got, tc.want)
		}
	}
	if got, _ := sample(t, m, "mediationd_http_request_duration_seconds", map[string]string{"route": "POST /v1/cases/{case}:accept"}); got != 2 {
		t.Errorf("duration count = %v, want 2", got)
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if strings.Contains(l.GetValue(), "0199a1b2") || strings.Contains(l.GetValue(), "BREW") {
					t.Errorf("%s has the raw request in label %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestOverdueRuns(t *testing.T) {
	m := New(Options{})
	m.ObserveOverdueRun(3, nil)
	m.ObserveOverdueRun(0, nil)
	m.ObserveOverdueRun(2, errors.New("connection lost"))
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"mediationd_overdue_marked_total", nil, 5},
		{"mediationd_overdue_job_runs_total", map[string]string{"result": "ok"}, 2},
		{"mediationd_overdue_job_runs_total", map[string]string{"result": "error"}, 1},
	} {
		if got, _ := sample(t, m, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

// fakeBacklog answers Gauges with g or err, counting the queries; with
// block it waits for the context to end.
type fakeBacklog struct {
	g       store.Gauges
	err     error
	block   bool
	queries atomic.Int32
}

func (f *fakeBacklog) Gauges(ctx context.Context) (store.Gauges, error) {
	f.queries.Add(1)
	if f.block {
		<-ctx.Done()
		return store.Gauges{}, ctx.Err()
	}
	return f.g, f.err
}

func TestBacklogCollector(t *testing.T) {
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	src := &fakeBacklog{g: store.Gauges{
		OutboxPending: 7, OldestPending: now.Add(-90 * time.Second), Overdue: 2,
		Open:              map[casework.State]int64{casework.StateIntake: 4, casework.StateMediating: 2},
		CommitsReplicated: true,
	}}
	m := New(Options{Backlog: src, BacklogCacheTTL: time.Hour, Clock: func() time.Time { return now }})
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"mediationd_outbox_pending", nil, 7},
		{"mediationd_outbox_oldest_pending_age_seconds", nil, 90},
		{"mediationd_cases_overdue", nil, 2},
		{"mediationd_cases_open", map[string]string{"state": "INTAKE"}, 4},
		{"mediationd_cases_open", map[string]string{"state": "MEDIATING"}, 2},
		{"mediationd_cases_open", map[string]string{"state": "AGREED"}, 0},
		{"mediationd_database_commits_replicated", nil, 1},
		{"mediationd_metrics_scrape_errors_total", nil, 0},
	} {
		if got, ok := sample(t, m, tc.name, tc.labels); !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if n := src.queries.Load(); n != 1 {
		t.Errorf("%d queries for 8 scrapes within the cache's lifetime, want 1", n)
	}
	if _, ok := sample(t, m, "mediationd_cases_open", map[string]string{"state": "CLOSED"}); ok {
		t.Error("closed cases reported as open")
	}

	// Without a cache every scrape asks; a failed query is counted and
	// leaves the backlog out without failing the scrape.
	failing := &fakeBacklog{err: errors.New("too many connections")}
	m = New(Options{Backlog: failing, BacklogCacheTTL: -1})
	for range 3 {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape with a failing query: %d %s", rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "mediationd_outbox_pending") {
			t.Error("backlog series reported from a failed query")
		}
	}
	if got, _ := sample(t, m, "mediationd_metrics_scrape_errors_total", nil); got != 4 || failing.queries.Load() != 4 {
		t.Errorf("scrape errors %v after %d queries, want 4 and 4", got, failing.queries.Load())
	}

	// A query that hangs is abandoned at the timeout.
	hanging := &fakeBacklog{block: true}
	m = New(Options{Backlog: hanging, BacklogTimeout: 50 * time.Millisecond})
	start := time.Now()
	if got, _ := sample(t, m, "mediationd_metrics_scrape_errors_total", nil); got != 1 {
		t.Errorf("scrape errors after a hanging query = %v, want 1", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("scrape took %v with a 50ms query timeout", d)
	}
}

func TestPoolCollector(t *testing.T) {
	cfg, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 7
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m := New(Options{Pool: pool})
	if got, _ := sample(t, m, "mediationd_db_pool_max_conns", nil); got != 7 {
		t.Errorf("max conns = %v, want 7", got)
	}
	for _, name := range []string{"mediationd_db_pool_acquired_conns", "mediationd_db_pool_idle_conns", "mediationd_db_pool_total_conns",
		"mediationd_db_pool_acquires_total", "mediationd_db_pool_empty_acquires_total", "mediationd_db_pool_canceled_acquires_total",
		"mediationd_db_pool_acquire_duration_seconds_total"} {
		if _, ok := sample(t, m, name, nil); !ok {
			t.Errorf("%s missing", name)
		}
	}
}

// TestHandler checks the text format, the build information and the
// runtime and process collectors, and that two instances do not collide.
func TestHandler(t *testing.T) {
	a, b := New(Options{Version: "v1.2.3"}), New(Options{})
	for _, m := range []*Metrics{a, b} {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
			t.Fatalf("scrape: %d %q", rec.Code, rec.Header().Get("Content-Type"))
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(rec.Body)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		for _, name := range []string{"mediationd_build_info", "go_goroutines", "process_cpu_seconds_total"} {
			if fams[name] == nil {
				t.Errorf("%s missing", name)
			}
		}
	}
	if v, ok := sample(t, a, "mediationd_build_info", map[string]string{"version": "v1.2.3"}); !ok || v != 1 {
		t.Errorf("build info = %v (present %v)", v, ok)
	}
}

// BenchmarkUnaryInterceptor measures what the interceptor adds to a call.
func BenchmarkUnaryInterceptor(b *testing.B) {
	m := New(Options{})
	icpt := m.UnaryServerInterceptor()
	info := &grpc.UnaryServerInfo{FullMethod: mediationv1.CaseService_AcceptCase_FullMethodName}
	handler := func(context.Context, any) (any, error) { return nil, nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = icpt(ctx, nil, info, handler)
	}
}

// BenchmarkInstrumentHTTP measures what the HTTP middleware and the
// gateway's route note add to a request the gateway routes, against the
// same handler without them.
func BenchmarkInstrumentHTTP(b *testing.B) {
	m := New(Options{})
	gwMux := runtime.NewServeMux()
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	gateway := func(route grpc.UnaryClientInterceptor) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, _ := runtime.AnnotateContext(r.Context(), gwMux, r, "/mediation.v1.CaseService/AcceptCase", runtime.WithHTTPPathPattern("/v1/{name=cases/*}:accept"))
			_ = route(ctx, "/mediation.v1.CaseService/AcceptCase", nil, nil, nil, invoker)
			w.WriteHeader(http.StatusOK)
		})
	}
	passThrough := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", gateway(passThrough)},
		{"instrumented", m.InstrumentHTTP(gateway(m.GatewayRouteInterceptor()))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("POST", "/v1/cases/x:accept", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}

// TestNilMetrics checks that a nil *Metrics passes everything through.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveOverdueRun(1, nil)
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
	resp, err := m.UnaryServerInterceptor()(context.Background(), 1, &grpc.UnaryServerInfo{FullMethod: "/x/Y"},
		func(_ context.Context, req any) (any, error) { return req, nil })
	if resp != 1 || err != nil {
		t.Errorf("interceptor: %v, %v", resp, err)
	}
	called := false
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		called = true
		return nil
	}
	if err := m.GatewayRouteInterceptor()(context.Background(), "/x/Y", nil, nil, nil, invoker); err != nil || !called {
		t.Errorf("client interceptor: %v, called %v", err, called)
	}
	rec := httptest.NewRecorder()
	m.InstrumentHTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("InstrumentHTTP: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("Handler: %d", rec.Code)
	}
}
