package server

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/auth"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// discardLog is the logger of the test stacks.
var discardLog = slog.New(slog.DiscardHandler)

// cnRecorder is a test interceptor that notes what ClientCertCN says of
// the last call.
type cnRecorder struct {
	mu   sync.Mutex
	last string
}

func (r *cnRecorder) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	r.mu.Lock()
	r.last = ClientCertCN(ctx)
	r.mu.Unlock()
	return handler(ctx, req)
}

// take returns the CN of the last call and forgets it.
func (r *cnRecorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	cn := r.last
	r.last = "(no call)"
	return cn
}

// bearerPrincipal is a test authentication: "Bearer x" is users/x, an
// administrator; no credential is anonymous.
func bearerPrincipal(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	p := auth.Anonymous
	if token := bearer(ctx); token != "" {
		p = auth.Principal{Name: "users/" + token, Role: auth.RoleAdmin}
	}
	return handler(auth.WithPrincipal(ctx, p), req)
}

// fakeCases answers the two case methods the transport tests call.
type fakeCases struct {
	mediationv1.UnimplementedCaseServiceServer
}

func (fakeCases) GetWorkflow(context.Context, *mediationv1.GetWorkflowRequest) (*mediationv1.GetWorkflowResponse, error) {
	return &mediationv1.GetWorkflowResponse{}, nil
}

func (fakeCases) GetAgreementDocument(context.Context, *mediationv1.GetAgreementDocumentRequest) (*mediationv1.GetAgreementDocumentResponse, error) {
	return &mediationv1.GetAgreementDocumentResponse{Html: "<p>协议</p>", FileName: "agreement.html"}, nil
}

// serveGRPC serves a gRPC server with creds, the interceptors, the health
// service and fakeCases on a TCP listener on 127.0.0.1, and returns with
// its address a loopback serving the same services through the same
// interceptors, as New does for the gateway.
func serveGRPC(t *testing.T, creds credentials.TransportCredentials, interceptors ...grpc.UnaryServerInterceptor) (addr string, lb *loopback) {
	t.Helper()
	srv := grpc.NewServer(grpc.Creds(creds), grpc.ChainUnaryInterceptor(interceptors...))
	lb = newLoopback(nil, interceptors...)
	hs := health.NewServer()
	for _, r := range []grpc.ServiceRegistrar{srv, lb} {
		healthpb.RegisterHealthServer(r, hs)
		mediationv1.RegisterCaseServiceServer(r, fakeCases{})
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), lb
}

// healthCheck calls the health service on a fresh connection to addr.
func healthCheck(t *testing.T, addr string, creds credentials.TransportCredentials, md ...string) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if len(md) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, md...)
	}
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func TestGRPCTLSAndClientCertCN(t *testing.T) {
	pki, other := NewPKI(t, "mediationd test CA"), NewPKI(t, "another CA")
	rec := &cnRecorder{}
	addr, lb := serveGRPC(t, serverCredentials(pki.ServerTLS(true)), rec.intercept)
	const court = "西峰区人民法院"

	t.Run("client certificate of the CA", func(t *testing.T) {
		if err := healthCheck(t, addr, credentials.NewTLS(pki.ClientTLS(pki.Client(t, court)))); err != nil {
			t.Fatal(err)
		}
		if cn := rec.take(); cn != court {
			t.Errorf("ClientCertCN = %q, want %q", cn, court)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		if err := healthCheck(t, addr, credentials.NewTLS(pki.ClientTLS())); err != nil {
			t.Fatal(err)
		}
		if cn := rec.take(); cn != "" {
			t.Errorf("ClientCertCN = %q, want none", cn)
		}
	})
	t.Run("certificate of another CA is refused", func(t *testing.T) {
		err := healthCheck(t, addr, credentials.NewTLS(presenting(pki.ClientTLS(), other.Client(t, court))))
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("call with a foreign client certificate: %v, want UNAVAILABLE (handshake refused)", err)
		}
		if cn := rec.take(); cn != "(no call)" {
			t.Errorf("the call reached the server (CN %q)", cn)
		}
	})
	t.Run("direct clients cannot claim a CN in metadata", func(t *testing.T) {
		if err := healthCheck(t, addr, credentials.NewTLS(pki.ClientTLS()), mdClientCertCN, "forged"); err != nil {
			t.Fatal(err)
		}
		if cn := rec.take(); cn != "" {
			t.Errorf("without a certificate: ClientCertCN = %q, want none", cn)
		}
		if err := healthCheck(t, addr, credentials.NewTLS(pki.ClientTLS(pki.Client(t, "court-a"))), mdClientCertCN, "court-b"); err != nil {
			t.Fatal(err)
		}
		if cn := rec.take(); cn != "court-a" {
			t.Errorf("with a certificate: ClientCertCN = %q, want court-a", cn)
		}
	})
	t.Run("plaintext client fails", func(t *testing.T) {
		if err := healthCheck(t, addr, insecure.NewCredentials()); err == nil {
			t.Fatal("a plaintext call to the TLS listener succeeded")
		}
	})
	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		c := pki.ClientTLS()
		c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		if err := healthCheck(t, addr, credentials.NewTLS(c)); err == nil {
			t.Fatal("a TLS 1.1 client got through")
		}
	})
	t.Run("the gateway's loopback carries the gateway's CN", func(t *testing.T) {
		hc := healthpb.NewHealthClient(lb)
		for _, tt := range []struct {
			md   []string
			want string
		}{
			{[]string{mdClientCertCN, url.QueryEscape(court)}, court},
			{[]string{mdClientCertCN, ""}, ""},
			{nil, ""},
			{[]string{mdClientCertCN, "a", mdClientCertCN, "b"}, ""},
			{[]string{mdClientCertCN, "%zz"}, ""},
		} {
			ctx := metadata.AppendToOutgoingContext(t.Context(), tt.md...)
			if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatal(err)
			}
			if cn := rec.take(); cn != tt.want {
				t.Errorf("metadata %q: ClientCertCN = %q, want %q", tt.md, cn, tt.want)
			}
		}
	})
}

// presenting makes c present cert whatever CAs the server asks for (Go's
// client otherwise sends no certificate the server's CAs did not issue).
func presenting(c *tls.Config, cert tls.Certificate) *tls.Config {
	c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return c
}

func TestClientCertCNOutsideACall(t *testing.T) {
	if cn := ClientCertCN(context.Background()); cn != "" {
		t.Errorf("no peer: %q", cn)
	}
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}})
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(mdClientCertCN, "forged"))
	if cn := ClientCertCN(ctx); cn != "" {
		t.Errorf("plaintext TCP peer with metadata: %q", cn)
	}
}

func TestLoadTLSConfig(t *testing.T) {
	pki := NewPKI(t, "mediationd test CA")
	cert, key, ca := pki.WriteFiles(t)

	c, err := LoadTLSConfig(cert, key, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.MinVersion != tls.VersionTLS12 || len(c.Certificates) != 1 || c.ClientAuth != tls.NoClientCert || c.ClientCAs != nil {
		t.Errorf("without a client CA: %+v", c)
	}
	c, err = LoadTLSConfig(cert, key, ca)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientAuth != tls.VerifyClientCertIfGiven || c.ClientCAs == nil {
		t.Errorf("with a client CA: ClientAuth %v, ClientCAs %v", c.ClientAuth, c.ClientCAs)
	}
	if c, err := LoadTLSConfig("", "", ""); c != nil || err != nil {
		t.Errorf("nothing set: %v, %v; want nil, nil", c, err)
	}

	garbage := t.TempDir() + "/garbage.pem"
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cert, key, ca, want string
	}{
		{cert, "", "", "both"},
		{"", key, "", "both"},
		{"", "", ca, "client CA"},
		{cert + ".missing", key, "", cert + ".missing"},
		{cert, cert, "", cert},
		{cert, key, ca + ".missing", ca + ".missing"},
		{cert, key, garbage, garbage},
	} {
		_, err := LoadTLSConfig(tt.cert, tt.key, tt.ca)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadTLSConfig(%q, %q, %q) = %v, want an error mentioning %q", tt.cert, tt.key, tt.ca, err, tt.want)
		}
	}
}

func TestBaseTLSRaisesTheMinimumVersion(t *testing.T) {
	in := &tls.Config{MinVersion: tls.VersionTLS10}
	if got := baseTLS(in).MinVersion; got != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2", got)
	}
	if in.MinVersion != tls.VersionTLS10 {
		t.Error("baseTLS changed its argument")
	}
	if got := baseTLS(&tls.Config{MinVersion: tls.VersionTLS13}).MinVersion; got != tls.VersionTLS13 {
		t.Errorf("MinVersion = %x, want TLS 1.3 kept", got)
	}
}

// restStack is the HTTP side of a server (httpHandler, the gateway and its
// loopback) over a gRPC server with the given interceptors,
// fakeCases and the health service, listening on 127.0.0.1.
type restStack struct {
	baseURL string
	client  *http.Client
}

func startREST(t *testing.T, cfg Config, interceptors ...grpc.UnaryServerInterceptor) *restStack {
	t.Helper()
	chain := append([]grpc.UnaryServerInterceptor{requestInfo, logAndMapErrors(discardLog), bearerPrincipal}, interceptors...)
	_, lb := serveGRPC(t, serverCredentials(cfg.TLS), chain...)
	gw, err := newGateway(t.Context(), lb)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = 1 << 20
	}
	s := &Server{cfg: cfg, log: discardLog, loopback: lb}
	s.http = s.httpHandler(gw)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.http, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	go func() { _ = srv.Serve(s.httpListener(lis)) }()
	t.Cleanup(func() { _ = srv.Close() })
	st := &restStack{baseURL: "http://" + lis.Addr().String(), client: &http.Client{Timeout: 10 * time.Second}}
	if cfg.TLS != nil {
		st.baseURL = "https://" + lis.Addr().String()
	}
	return st
}

// get does a GET with the headers (name, value, ...) and returns the
// response and its body; a transport error is returned, not fatal.
func (st *restStack) get(t *testing.T, path string, header ...string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, st.baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := st.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func (st *restStack) mustGet(t *testing.T, path string, header ...string) (*http.Response, string) {
	t.Helper()
	resp, body, err := st.get(t, path, header...)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp, body
}

func TestGatewayPassesTheVerifiedClientCN(t *testing.T) {
	pki, other := NewPKI(t, "mediationd test CA"), NewPKI(t, "another CA")
	rec := &cnRecorder{}
	st := startREST(t, Config{TLS: pki.ServerTLS(true)}, rec.intercept)
	const court = "西峰区人民法院"
	client := func(c *tls.Config) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: c, ForceAttemptHTTP2: true}}
	}
	withCert := client(pki.ClientTLS(pki.Client(t, court)))
	withoutCert := client(pki.ClientTLS())
	foreign := client(presenting(pki.ClientTLS(), other.Client(t, court)))

	for _, tt := range []struct {
		name   string
		client *http.Client
		path   string
		header []string
		want   string
	}{
		{"REST with a certificate", withCert, "/v1/workflow", nil, court},
		{"agreement page with a certificate", withCert, "/v1/cases/c1/agreement.html", nil, court},
		{"REST without a certificate", withoutCert, "/v1/workflow", nil, ""},
		{"forged header without a certificate", withoutCert, "/v1/workflow", []string{"Grpc-Metadata-X-Client-Cert-Cn", "forged"}, ""},
		{"forged header with a certificate", withCert, "/v1/workflow", []string{"Grpc-Metadata-X-Client-Cert-Cn", "forged"}, court},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st.client = tt.client
			resp, body := st.mustGet(t, tt.path, tt.header...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s = %d %s", tt.path, resp.StatusCode, body)
			}
			if resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
				t.Errorf("no HSTS over TLS: %v", resp.Header)
			}
			if resp.ProtoMajor != 2 {
				t.Errorf("protocol %s, want HTTP/2 over TLS", resp.Proto)
			}
			if cn := rec.take(); cn != tt.want {
				t.Errorf("ClientCertCN = %q, want %q", cn, tt.want)
			}
		})
	}
	t.Run("certificate of another CA is refused", func(t *testing.T) {
		st.client = foreign
		if resp, _, err := st.get(t, "/healthz"); err == nil {
			t.Fatalf("GET /healthz with a foreign certificate = %d, want a handshake failure", resp.StatusCode)
		}
	})
	t.Run("plaintext HTTP fails", func(t *testing.T) {
		st.client = withoutCert
		st.baseURL = strings.Replace(st.baseURL, "https://", "http://", 1)
		resp, _, err := st.get(t, "/healthz")
		if err == nil && resp.StatusCode == http.StatusOK {
			t.Fatal("plaintext GET /healthz on the TLS listener succeeded")
		}
	})
}
