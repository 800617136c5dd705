package server_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

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
