package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(ctx context.Context, dsn string) error {
		_, err := store.Migrate(ctx, dsn, nil)
		return err
	}))
}

// env is a running server on a fresh database, with a gRPC client and the
// HTTP base URL.
type env struct {
	store   *store.Store
	conn    *grpc.ClientConn
	cases   mediationv1.CaseServiceClient
	baseURL string
	http    *http.Client
	srv     *server.Server
	stop    func() error
	// token is the administrator's bearer token, sent by conn and http
	// unless a call brings its own.
	token string
}

func start(t *testing.T) *env {
	t.Helper()
	return startWith(t, pgtest.NewDatabase(t), nil)
}

// startCases is start with the organizations and mediators that
// caseworktest.Command's assignments name.
func startCases(t *testing.T) *env {
	t.Helper()
	e := start(t)
	for _, n := range []int{0, 1, 2, 3, 98, 99} {
		seedAssignee(t, e, n)
	}
	return e
}

// seedAssignee creates organizations/room-n (a township committee in 西峰区
// taking every dispute type) and its mediators/mediator-n, whom
// caseworktest.Command's assignments name.
func seedAssignee(t *testing.T, e *env, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := e.store.CreateOrganization(ctx, casework.Organization{
		ID: fmt.Sprintf("room-%d", n), DisplayName: fmt.Sprintf("西峰区第%d调解室", n),
		Type: casework.OrgTownshipCommittee, RegionCode: "621002", Active: true,
	}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateMediator(ctx, casework.Mediator{
		ID: fmt.Sprintf("mediator-%d", n), DisplayName: fmt.Sprintf("调解员%d", n),
		OrganizationID: fmt.Sprintf("room-%d", n), Active: true,
	}, now); err != nil {
		t.Fatal(err)
	}
}

func startWith(t *testing.T, dsn string, tweak func(*server.Config)) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: 30})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Store: st, Location: time.UTC, ReadinessInterval: 50 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	realAccounts := cfg.Authenticator == nil
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, grpcLis, httpLis) }()
	e := &env{store: st, baseURL: "http://" + httpLis.Addr().String(), srv: srv}
	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(e.withToken(ctx), method, req, reply, cc, opts...)
		}),
		grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(e.withToken(ctx), desc, cc, method, opts...)
		}))
	if err != nil {
		t.Fatal(err)
	}
	e.conn, e.cases = conn, mediationv1.NewCaseServiceClient(conn)
	e.http = &http.Client{Timeout: 30 * time.Second, Transport: tokenTransport{e}}
	var stopped bool
	var stopErr error
	e.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				t.Error("server did not stop within 30s")
			}
			conn.Close()
			st.Close()
		}
		return stopErr
	}
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	if realAccounts {
		e.token = e.signIn(t, store.User{Username: "root", DisplayName: "系统管理员", Role: auth.RoleAdmin})
	}
	return e
}

// testPassword is the password of every user the tests create.
const testPassword = "correct horse battery staple"

// signIn creates the user and signs in through the API, returning the
// bearer token.
func (e *env) signIn(t *testing.T, u store.User) string {
	t.Helper()
	var exists *casework.AlreadyExistsError
	if _, err := e.store.CreateUser(context.Background(), u, authn.HashPassword(testPassword), time.Now()); err != nil && !errors.As(err, &exists) {
		t.Fatalf("create user %s: %v", u.Username, err)
	}
	resp, err := mediationv1.NewAuthServiceClient(e.conn).CreateSession(context.Background(),
		&mediationv1.CreateSessionRequest{Username: u.Username, Password: testPassword})
	if err != nil {
		t.Fatalf("sign in as %s: %v", u.Username, err)
	}
	return resp.GetToken()
}

type tokenKey struct{}

// as returns a context whose calls carry token instead of the
// administrator's.
func as(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

// withToken adds the bearer token of ctx (as) or of the administrator to
// outgoing gRPC metadata, unless the call already has one.
func (e *env) withToken(ctx context.Context) context.Context {
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get("authorization")) > 0 {
		return ctx
	}
	token, _ := ctx.Value(tokenKey{}).(string)
	if token == "" {
		token = e.token
	}
	if token == "" || token == "-" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// tokenTransport adds the administrator's bearer token to HTTP requests
// that carry none.
type tokenTransport struct{ e *env }

func (tt tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" && tt.e.token != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tt.e.token)
	}
	return http.DefaultTransport.RoundTrip(r)
}
