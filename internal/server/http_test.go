package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

func httpGet(t *testing.T, e *env, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	return httpDo(t, e, http.MethodGet, path, "", header)
}

func httpDo(t *testing.T, e *env, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.baseURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func waitReady(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := httpGet(t, e, "/readyz", nil)
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestProbesHealthAndReflection(t *testing.T) {
	e := startCases(t)
	waitReady(t, e)
	if resp, _ := httpGet(t, e, "/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	hc := healthpb.NewHealthClient(e.conn)
	for _, svc := range []string{"", "mediation.v1.CaseService"} {
		var st healthpb.HealthCheckResponse_ServingStatus
		for range 100 {
			r, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{Service: svc})
			if err != nil {
				t.Fatal(err)
			}
			if st = r.GetStatus(); st == healthpb.HealthCheckResponse_SERVING {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if st != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health(%q) = %v", svc, st)
		}
	}
	stream, err := reflectionpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !strings.Contains(strings.Join(names, " "), "mediation.v1.CaseService") {
		t.Errorf("reflection lists %v", names)
	}

	r, body := httpGet(t, e, "/openapi.json", nil)
	var doc struct {
		Swagger string                    `json:"swagger"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || r.StatusCode != 200 {
		t.Fatalf("/openapi.json: %d %v", r.StatusCode, err)
	}
	for _, p := range []string{"/v1/cases", "/v1/{name}:accept", "/v1/{parent}/events", "/v1/workflow"} {
		if doc.Paths[p] == nil {
			t.Errorf("OpenAPI lacks %s (has %d paths)", p, len(doc.Paths))
		}
	}
}

func TestNotReadyWhenSchemaIsBehind(t *testing.T) {
	// A database without migrations: the service starts but is not ready.
	dsn := pgtest.NewDatabase(t)
	e := startWith(t, dsn, nil)
	if _, err := e.store.Pool().Exec(t.Context(), `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, body := httpGet(t, e, "/readyz", nil)
		if resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), "mediationd migrate") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s, want 503 naming mediationd migrate", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		r, err := healthpb.NewHealthClient(e.conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
		if err == nil && r.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health = %v, %v; want NOT_SERVING", r.GetStatus(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadyDuringRollingUpgrade: a newer release's migrations are
// applied before this replica is replaced. It stays ready while every
// newer migration declares its schema compatible, and says what to do
// once one does not.
func TestReadyDuringRollingUpgrade(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	e := startWith(t, dsn, nil)
	ctx := t.Context()
	latest := store.LatestVersion()
	ready := func() (int, string) {
		resp, body := httpGet(t, e, "/readyz", nil)
		return resp.StatusCode, string(body)
	}
	if code, body := ready(); code != http.StatusOK {
		t.Fatalf("/readyz at the binary's schema = %d %s", code, body)
	}
	add := func(version int, compatibleFrom any) {
		t.Helper()
		if _, err := e.store.Pool().Exec(ctx, `INSERT INTO schema_migrations (version, name, compatible_from) VALUES ($1, 'next_release', $2)`, version, compatibleFrom); err != nil {
			t.Fatal(err)
		}
	}
	add(latest+1, latest) // an added index, say
	if code, body := ready(); code != http.StatusOK {
		t.Fatalf("/readyz with a compatible newer migration = %d %s, want 200", code, body)
	}
	add(latest+2, nil) // recorded without a declaration: its own version
	code, body := ready()
	want := fmt.Sprintf("migration %04d_next_release needs binaries built for schema %d", latest+2, latest+2)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, want) || !strings.Contains(body, "replace this replica") {
		t.Fatalf("/readyz with an incompatible newer migration = %d %s, want 503 saying %q", code, body, want)
	}
}

func TestDatabaseGoneIsUnavailable(t *testing.T) {
	e := startCases(t)
	e.store.Close()
	_, err := e.cases.GetCase(t.Context(), &mediationv1.GetCaseRequest{Name: "cases/" + uuid.NewString()})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("GetCase with the database gone = %v, want Unavailable", err)
	}
	resp, _ := httpGet(t, e, "/v1/cases", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("REST with the database gone = %d, want 503", resp.StatusCode)
	}
	if resp, _ := httpGet(t, e, "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d, want 503", resp.StatusCode)
	}
}

func TestRequestIDs(t *testing.T) {
	e := startCases(t)
	resp, _ := httpGet(t, e, "/v1/workflow", map[string]string{"X-Request-Id": "court-abc-123"})
	if got := resp.Header.Get("X-Request-Id"); got != "court-abc-123" {
		t.Errorf("echoed request id %q", got)
	}
	resp, _ = httpGet(t, e, "/v1/workflow", map[string]string{"X-Request-Id": "bad id\twith spaces"})
	if got := resp.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("replacement request id %q", got)
	}
	var header metadata.MD
	ctx := metadata.AppendToOutgoingContext(t.Context(), "x-request-id", "grpc-req-1")
	if _, err := e.cases.GetWorkflow(ctx, &mediationv1.GetWorkflowRequest{}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get("x-request-id"); len(got) != 1 || got[0] != "grpc-req-1" {
		t.Errorf("gRPC x-request-id header = %v", got)
	}
	// The request id reaches the history.
	c := bring(t, grpcClient{e}, "INTAKE")
	hdr := map[string]string{"X-Request-Id": "req-for-history", "Content-Type": "application/json"}
	if resp, body := httpDo(t, e, http.MethodPost, "/v1/"+c.GetName()+":accept", `{}`, hdr); resp.StatusCode != 200 {
		t.Fatalf("accept: %d %s", resp.StatusCode, body)
	}
}

func TestMalformedHTTPRequests(t *testing.T) {
	e := startWith(t, pgtest.NewDatabase(t), nil)
	json := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name, method, path, body string
		status                   int
		mention                  string
	}{
		{"not JSON", "POST", "/v1/cases", `{"summary": `, 400, ""},
		{"unknown field", "POST", "/v1/cases", `{"sumary":"x"}`, 400, "sumary"},
		{"wrong type", "POST", "/v1/cases", `{"parties":"张三"}`, 400, "does not match the API"},
		{"unknown enum", "POST", "/v1/cases", `{"disputeType":"DISPUTE_TYPE_FIGHT"}`, 400, "DISPUTE_TYPE_FIGHT"},
		{"too large", "POST", "/v1/cases", `{"summary":"` + strings.Repeat("x", 5<<20) + `"}`, 413, "exceeds"},
		{"no such route", "GET", "/v1/nothing", "", 404, ""},
		{"wrong method", "DELETE", "/v1/cases", "", 405, ""},
		{"bad page token", "GET", "/v1/cases?pageToken=zzz", "", 400, "page_token"},
		{"bad order", "GET", "/v1/cases?orderBy=summary", "", 400, "order_by"},
		{"bad filter", "GET", "/v1/cases?filter=state%3DMEDIATE", "", 400, "MEDIATE"},
		{"negative page size", "GET", "/v1/cases?pageSize=-1", "", 400, "page_size"},
	}
	for _, tt := range tests {
		resp, body := httpDo(t, e, tt.method, tt.path, tt.body, json)
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.mention) {
			t.Errorf("%s: %d %.300s; want %d mentioning %q", tt.name, resp.StatusCode, body, tt.status, tt.mention)
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%s: server error %d", tt.name, resp.StatusCode)
		}
	}
	if n := countCases(t, e); n != 0 {
		t.Errorf("malformed requests stored %d cases", n)
	}
}

func countCases(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestListPagesOverTheAPI(t *testing.T) {
	e := startCases(t)
	for range 7 {
		bring(t, grpcClient{e}, "INTAKE")
	}
	bring(t, grpcClient{e}, "MEDIATING")
	var names []string
	token := ""
	for {
		resp, err := e.cases.ListCases(t.Context(), &mediationv1.ListCasesRequest{PageSize: 3, PageToken: token, Filter: "state = INTAKE", OrderBy: "create_time"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.GetCases() {
			names = append(names, c.GetName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
		_, err = e.cases.ListCases(t.Context(), &mediationv1.ListCasesRequest{PageSize: 3, PageToken: token, Filter: "state = ACCEPTED", OrderBy: "create_time"})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "page_token") {
			t.Errorf("token reused with another filter: %v", err)
		}
	}
	if len(names) != 7 {
		t.Errorf("listed %d INTAKE cases, want 7", len(names))
	}
	for i := 1; i < len(names); i++ {
		if names[i] <= names[i-1] { // UUIDv7 names grow with registration time
			t.Errorf("oldest-first order broken at %d: %s after %s", i, names[i], names[i-1])
		}
	}
}

func TestWorkflowOverBothTransports(t *testing.T) {
	e := startCases(t)
	want, err := api.WorkflowToProto()
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.cases.GetWorkflow(t.Context(), &mediationv1.GetWorkflowRequest{})
	if err != nil || !proto.Equal(got.GetWorkflow(), want) {
		t.Errorf("gRPC workflow differs: %v", err)
	}
	var out mediationv1.GetWorkflowResponse
	if r := (restClient{e}).do(t, http.MethodGet, "/v1/workflow", nil, &out); r.st != nil || !proto.Equal(out.GetWorkflow(), want) {
		t.Errorf("REST workflow differs: %v", r.st)
	}
	if !strings.HasPrefix(want.GetMermaid(), "stateDiagram-v2\n") || len(want.GetStates()) != 6 || len(want.GetActions()) != len(casework.Actions) {
		t.Errorf("workflow: %d states, %d actions", len(want.GetStates()), len(want.GetActions()))
	}
}

func TestGracefulShutdown(t *testing.T) {
	e := startCases(t)
	waitReady(t, e)
	if err := e.stop(); err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if err := e.srv.Ready(context.Background()); err == nil {
		t.Error("ready after shutdown")
	}
	if _, err := http.Get(e.baseURL + "/healthz"); err == nil {
		t.Error("HTTP still answers after shutdown")
	}
}
