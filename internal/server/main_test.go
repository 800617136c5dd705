package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

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
	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		store:   st,
		conn:    conn,
		cases:   mediationv1.NewCaseServiceClient(conn),
		baseURL: "http://" + httpLis.Addr().String(),
		http:    &http.Client{Timeout: 30 * time.Second},
		srv:     srv,
	}
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
	return e
}
