package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/reqinfo"
	"github.com/mediationd/mediationd/internal/server"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// transportTokens authenticates the bearer tokens of the transport tests:
// token "alice" is users/alice, and so on, all administrators.
type transportTokens struct{}

func (transportTokens) Authenticate(_ context.Context, bearer string) (auth.Principal, error) {
	switch bearer {
	case "alice", "bob", "carol":
		return auth.Principal{Name: "users/" + bearer, Role: auth.RoleAdmin}, nil
	case "broken":
		return auth.Principal{}, errors.New("dial tcp db.internal.example:5432: connection refused")
	}
	return auth.Principal{}, auth.ErrUnauthenticated
}

// startTransport starts a server with transportTokens and tweak.
func startTransport(t *testing.T, tweak func(*server.Config)) *env {
	t.Helper()
	return startWith(t, pgtest.NewDatabase(t), func(c *server.Config) {
		c.Authenticator = transportTokens{}
		if tweak != nil {
			tweak(c)
		}
	})
}

// request does an HTTP request with headers (name, value, ...) and returns
// the response, its body, and the transport error if any.
func request(t *testing.T, client *http.Client, method, url string, headers ...string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func mustRequest(t *testing.T, client *http.Client, method, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	resp, body, err := request(t, client, method, url, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp, body
}

func grpcDial(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func TestTLSOnBothListeners(t *testing.T) {
	pki, other := server.NewPKI(t, "mediationd test CA"), server.NewPKI(t, "another CA")
	certFile, keyFile, caFile := pki.WriteFiles(t)
	tlsConfig, err := server.LoadTLSConfig(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	e := startTransport(t, func(c *server.Config) { c.TLS = tlsConfig })
	grpcAddr := e.conn.Target()
	httpsURL := strings.Replace(e.baseURL, "http://", "https://", 1)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	foreign := pki.ClientTLS()
	foreignCert := other.Client(t, "西峰区人民法院")
	foreign.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &foreignCert, nil }

	t.Run("gRPC", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			creds *tls.Config
		}{
			{"without a client certificate", pki.ClientTLS()},
			{"with a client certificate", pki.ClientTLS(pki.Client(t, "西峰区人民法院"))},
		} {
			conn := grpcDial(t, grpcAddr, credentials.NewTLS(tt.creds))
			if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				t.Errorf("%s: health: %v", tt.name, err)
			}
			if _, err := mediationv1.NewCaseServiceClient(conn).GetWorkflow(withToken(ctx, "alice"), &mediationv1.GetWorkflowRequest{}); err != nil {
				t.Errorf("%s: GetWorkflow: %v", tt.name, err)
			}
		}
		conn := grpcDial(t, grpcAddr, credentials.NewTLS(foreign))
		if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
			t.Errorf("certificate of another CA: %v, want UNAVAILABLE", err)
		}
		if _, err := healthpb.NewHealthClient(e.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
			t.Error("a plaintext gRPC client got through")
		}
	})

	t.Run("HTTPS", func(t *testing.T) {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(), ForceAttemptHTTP2: true}}
		resp, body := mustRequest(t, client, http.MethodGet, httpsURL+"/healthz")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
			t.Errorf("GET /healthz over TLS: %d %s, HSTS %q", resp.StatusCode, body, resp.Header.Get("Strict-Transport-Security"))
		}
		resp, body = mustRequest(t, client, http.MethodGet, httpsURL+"/v1/workflow", "Authorization", "Bearer alice")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("GET /v1/workflow over TLS: %d %s, headers %v", resp.StatusCode, body, resp.Header)
		}
		client.Transport = &http.Transport{TLSClientConfig: foreign}
		if resp, _, err := request(t, client, http.MethodGet, httpsURL+"/healthz"); err == nil {
			t.Errorf("certificate of another CA: %d, want a handshake failure", resp.StatusCode)
		}
		if resp, _, err := request(t, e.http, http.MethodGet, e.baseURL+"/healthz"); err == nil && resp.StatusCode == http.StatusOK {
			t.Error("plaintext HTTP got through")
		}
	})
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	e := startTransport(t, nil)
	const apiCSP = "default-src 'none'; frame-ancestors 'none'"
	const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
	for _, tt := range []struct {
		name, method, path string
		headers            []string
		status             int
		csp                string
		noStore            bool
	}{
		{"JSON", http.MethodGet, "/v1/workflow", []string{"Authorization", "Bearer alice"}, http.StatusOK, apiCSP, true},
		{"unauthenticated", http.MethodGet, "/v1/workflow", nil, http.StatusUnauthorized, apiCSP, true},
		{"no such path", http.MethodGet, "/v1/nothing/here", nil, http.StatusNotFound, apiCSP, true},
		{"bad body", http.MethodPost, "/v1/cases", []string{"Authorization", "Bearer alice", "Content-Type", "application/json"}, http.StatusBadRequest, apiCSP, true},
		{"agreement page of no case", http.MethodGet, "/v1/cases/00000000-0000-0000-0000-000000000000/agreement.html", []string{"Authorization", "Bearer alice"}, http.StatusNotFound, pageCSP, true},
		{"probe", http.MethodGet, "/healthz", nil, http.StatusOK, apiCSP, false},
		{"OpenAPI", http.MethodGet, "/openapi.json", nil, http.StatusOK, apiCSP, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustRequest(t, e.http, tt.method, e.baseURL+tt.path, tt.headers...)
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.status)
			}
			want := map[string]string{
				"X-Content-Type-Options":    "nosniff",
				"X-Frame-Options":           "DENY",
				"Referrer-Policy":           "no-referrer",
				"Content-Security-Policy":   tt.csp,
				"Cache-Control":             "",
				"Strict-Transport-Security": "",
			}
			if tt.noStore {
				want["Cache-Control"] = "no-store"
			}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, k, got, v)
				}
			}
		})
	}
}

func TestCORSEndToEnd(t *testing.T) {
	const app = "https://app.example.gov.cn"
	e := startTransport(t, func(c *server.Config) { c.CORSOrigins = []string{app} })
	preflight := func(e *env, origin string) (*http.Response, string) {
		return mustRequest(t, e.http, http.MethodOptions, e.baseURL+"/v1/cases",
			"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
	}

	resp, body := preflight(e, app)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight from %s: %d %s", app, resp.StatusCode, body)
	}
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin":  app,
		"Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE",
		"Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-Id",
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("preflight: %s = %q, want %q", k, got, v)
		}
	}

	resp, _ = preflight(e, "https://evil.example")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight from another origin: %d, headers %v", resp.StatusCode, resp.Header)
	}

	resp, body = mustRequest(t, e.http, http.MethodGet, e.baseURL+"/v1/workflow", "Origin", app, "Authorization", "Bearer alice")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != app ||
		resp.Header.Get("Access-Control-Expose-Headers") != "X-Request-Id, Retry-After" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("request from %s: %d %s, headers %v", app, resp.StatusCode, body, resp.Header)
	}
	resp, _ = mustRequest(t, e.http, http.MethodGet, e.baseURL+"/v1/workflow", "Origin", "https://evil.example", "Authorization", "Bearer alice")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("request from another origin carries CORS headers: %v", resp.Header)
	}

	off := startTransport(t, nil)
	resp, _ = preflight(off, app)
	if resp.StatusCode == http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS off by default, yet a preflight got %d, headers %v", resp.StatusCode, resp.Header)
	}
	resp, _ = mustRequest(t, off.http, http.MethodGet, off.baseURL+"/v1/workflow", "Origin", app, "Authorization", "Bearer alice")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS off by default, yet a request got %v", resp.Header)
	}
}

func TestRateLimitEndToEnd(t *testing.T) {
	e := startTransport(t, func(c *server.Config) { c.RateLimit, c.RateBurst = 1, 2 })
	rest := func(token string) *http.Response {
		t.Helper()
		resp, _ := mustRequest(t, e.http, http.MethodGet, e.baseURL+"/v1/workflow", "Authorization", "Bearer "+token)
		return resp
	}
	grpcCall := func(token string) (metadata.MD, error) {
		var header metadata.MD
		_, err := e.cases.GetWorkflow(withToken(t.Context(), token), &mediationv1.GetWorkflowRequest{}, grpc.Header(&header))
		return header, err
	}

	for range 2 {
		if resp := rest("alice"); resp.StatusCode != http.StatusOK {
			t.Fatalf("REST within the burst: %d", resp.StatusCode)
		}
	}
	resp := rest("alice")
	if after, err := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || err != nil || after < 1 {
		t.Errorf("third REST call: %d, Retry-After %q; want 429 and whole seconds ≥ 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	for range 2 {
		if _, err := grpcCall("bob"); err != nil {
			t.Fatalf("gRPC within the burst: %v", err)
		}
	}
	header, err := grpcCall("bob")
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("third gRPC call: %v, want RESOURCE_EXHAUSTED", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() <= 0 {
		t.Errorf("RetryInfo = %v", retry)
	}
	if v := header.Get("retry-after"); len(v) != 1 || v[0] == "0" {
		t.Errorf("retry-after header = %q", v)
	}

	if resp := rest("carol"); resp.StatusCode != http.StatusOK {
		t.Errorf("another principal is limited: %d", resp.StatusCode)
	}
	time.Sleep(1100 * time.Millisecond)
	if resp := rest("alice"); resp.StatusCode != http.StatusOK {
		t.Errorf("after a second the bucket has not refilled: %d", resp.StatusCode)
	}
}

// TestClientCertificateInAuditAndLogs checks that the CN of a verified
// client certificate is recorded with what the call did: in the audit rows
// of a case write over gRPC (written by the store's statement) and of a
// directory write over REST (written by the interceptor), and in the log
// lines of the calls; a call without a certificate records none.
func TestClientCertificateInAuditAndLogs(t *testing.T) {
	pki := server.NewPKI(t, "mediationd test CA")
	certFile, keyFile, caFile := pki.WriteFiles(t)
	tlsConfig, err := server.LoadTLSConfig(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	logs := &piiLogBuffer{}
	e := startTransport(t, func(c *server.Config) {
		c.TLS = tlsConfig
		c.Logger = slog.New(reqinfo.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	const court = "西峰区人民法院诉调对接系统"
	httpsURL := strings.Replace(e.baseURL, "http://", "https://", 1)

	auditCert := func(requestID string) []string {
		t.Helper()
		rows, err := e.store.Pool().Query(ctx, `SELECT client_cert FROM audit_events WHERE request_id = $1 ORDER BY id`, requestID)
		if err != nil {
			t.Fatal(err)
		}
		certs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return certs
	}
	for _, tt := range []struct {
		name, cn string
		creds    *tls.Config
	}{
		{"with a client certificate", court, pki.ClientTLS(pki.Client(t, court))},
		{"without one", "", pki.ClientTLS()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn := grpcDial(t, e.conn.Target(), credentials.NewTLS(tt.creds))
			rid := "cert-grpc-" + strconv.Itoa(len(tt.cn))
			md := metadata.AppendToOutgoingContext(withToken(ctx, "alice"), "x-request-id", rid)
			if _, err := mediationv1.NewCaseServiceClient(conn).CreateCase(md, &mediationv1.CreateCaseRequest{Case: newCase("借款纠纷")}); err != nil {
				t.Fatal(err)
			}
			if got := auditCert(rid); !slices.Equal(got, []string{tt.cn}) {
				t.Errorf("gRPC CreateCase: audit client_cert %q, want [%q]", got, tt.cn)
			}

			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tt.creds}}
			rid = "cert-rest-" + strconv.Itoa(len(tt.cn))
			req, err := http.NewRequestWithContext(ctx, http.MethodPatch, httpsURL+"/v1/regions/621002?updateMask=autoAssign", strings.NewReader(`{"autoAssign": true}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer bob")
			req.Header.Set("X-Request-Id", rid)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("PATCH /v1/regions/621002: %d %s", resp.StatusCode, body)
			}
			if got := auditCert(rid); !slices.Equal(got, []string{tt.cn}) {
				t.Errorf("REST UpdateRegion: audit client_cert %q, want [%q]", got, tt.cn)
			}
		})
	}
	var logged int
	for line := range strings.SplitSeq(string(logs.Bytes()), "\n") {
		if strings.Contains(line, `"client_cert":"`+court+`"`) {
			logged++
		}
	}
	if logged < 2 {
		t.Errorf("%d log lines name the client certificate, want the two calls' at least:\n%s", logged, logs.Bytes())
	}
}

// TestCredentialChecks: the scheme of an Authorization header is
// case-insensitive (RFC 9110), on gRPC and REST; and when checking a
// credential fails for want of the database, a call answers without the
// error's details, while reflection, which needs no credential, ignores
// the one it cannot check, as signing in does.
func TestCredentialChecks(t *testing.T) {
	e := startTransport(t, nil)
	ctx := t.Context()
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		md := metadata.AppendToOutgoingContext(ctx, "authorization", scheme+" alice")
		if _, err := mediationv1.NewCaseServiceClient(e.conn).GetWorkflow(md, &mediationv1.GetWorkflowRequest{}); err != nil {
			t.Errorf("gRPC with %q: %v", scheme, err)
		}
		if resp, body := mustRequest(t, &http.Client{Timeout: 10 * time.Second}, http.MethodGet, e.baseURL+"/v1/workflow", "Authorization", scheme+" alice"); resp.StatusCode != http.StatusOK {
			t.Errorf("REST with %q: %d %s", scheme, resp.StatusCode, body)
		}
	}

	broken := withToken(ctx, "broken")
	_, err := mediationv1.NewCaseServiceClient(e.conn).GetWorkflow(broken, &mediationv1.GetWorkflowRequest{})
	if status.Code(err) != codes.Internal || strings.Contains(err.Error(), "db.internal") {
		t.Errorf("unary call when credentials cannot be checked: %v, want INTERNAL without the cause", err)
	}
	stream, err := reflectionpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(broken)
	if err == nil {
		_ = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		_, err = stream.Recv()
	}
	if err != nil {
		t.Errorf("reflection when credentials cannot be checked: %v, want an answer", err)
	}
}
