package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/checker"
	"github.com/mediationd/mediationd/internal/pgembed"
	"github.com/mediationd/mediationd/internal/pgtest"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// serveAt starts the service on the given loopback addresses, so that a
// restarted service answers where the clients already connect.
func serveAt(ctx context.Context, t *testing.T, env []string, grpcAddr, httpAddr string, args ...string) *service {
	t.Helper()
	args = append(args, "--grpc-addr="+grpcAddr, "--http-addr="+httpAddr)
	return &service{process: launch(ctx, t, env, args...), grpcAddr: grpcAddr, baseURL: "http://" + httpAddr, env: env}
}

// newWorkload connects a checker workload to the services' gRPC addresses
// and registers its cases.
func newWorkload(ctx context.Context, t *testing.T, token string, o checker.Options, services ...*service) *checker.Workload {
	t.Helper()
	var addrs []string
	for _, s := range services {
		addrs = append(addrs, s.grpcAddr)
	}
	conns, err := checker.Dial(addrs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	o.Logf = t.Logf
	w, err := checker.New(conns, token, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

// background runs the workload until stop is called; stop waits for it.
func background(ctx context.Context, t *testing.T, w *checker.Workload) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("workload: %v", err)
		}
	}
}

// resolveAndVerify settles the run's unknown outcomes with their request
// ids, re-sends registrations, and verifies the database; it fails the
// test on any violation.
func resolveAndVerify(ctx context.Context, t *testing.T, w *checker.Workload, dsn string, all bool) (checker.Record, *checker.Report) {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := w.Resolve(rctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unresolved > 0 {
		t.Errorf("%d requests still had no answer after the service came back", st.Unresolved)
	}
	if st.Creates == 0 {
		t.Error("Resolve re-sent no registration")
	}
	rec := w.Record()
	rep, err := checker.Verify(ctx, dsn, rec, checker.VerifyOptions{AllCases: all})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if !rep.OK() {
		t.Errorf("the verifier found violations:\n%s", rep)
	}
	return rec, rep
}

// between counts the calls of rec with outcome o that ended in [from, to).
func between(rec checker.Record, o checker.Outcome, from, to time.Time) int {
	n := 0
	for _, c := range rec.Calls {
		if c.Outcome == o && !c.End.Before(from) && c.End.Before(to) {
			n++
		}
	}
	for _, c := range rec.Creates {
		if c.Outcome == o && !c.End.Before(from) && c.End.Before(to) {
			n++
		}
	}
	return n
}

// crashEnv is the environment of the crash and replica tests: no rate
// limit, since the workload is one user calling as fast as it can.
func crashEnv(env ...string) []string {
	return append([]string{"MEDIATION_RATE_LIMIT=0", "MEDIATION_SHUTDOWN_TIMEOUT=5s"}, env...)
}

// TestCrashServiceKilled kills the service with SIGKILL in the middle of
// the workload and starts it again on the same addresses and database:
// nothing acknowledged may be lost or half-applied, every unknown outcome
// must resolve with its request id, and every registration sent again
// must return the case it made.
func TestCrashServiceKilled(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 2*time.Minute)
	dsn := pgtest.NewDatabase(t)
	env := crashEnv("DATABASE_URL=" + dsn)
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)

	s := serveAt(ctx, t, env, grpcAddr, httpAddr, "--migrate")
	s.waitReady(ctx, 30*time.Second)
	s.signIn(ctx)
	w := newWorkload(ctx, t, s.token, checker.Options{
		Workers: 8, Cases: 20, HotCases: 3, Actions: 1 << 30, Duration: time.Minute, Seed: 11, CallTimeout: 2 * time.Second,
	}, s)
	stop := background(ctx, t, w)

	time.Sleep(3 * time.Second)
	killed := time.Now()
	s.signal(syscall.SIGKILL)
	if code := s.wait(10 * time.Second); code != -1 {
		t.Fatalf("SIGKILL: exit status %d, want death by signal", code)
	}
	time.Sleep(500 * time.Millisecond)
	again := serveAt(ctx, t, env, grpcAddr, httpAddr)
	again.waitReady(ctx, 30*time.Second)
	restarted := time.Now()
	t.Logf("killed the service; it answered again %v later", restarted.Sub(killed).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	stop()

	rec, _ := resolveAndVerify(ctx, t, w, dsn, true)
	if n := between(rec, checker.Unknown, killed, restarted); n == 0 {
		t.Error("no call had an unknown outcome while the service was down: the kill did not interrupt the load")
	}
	if n := between(rec, checker.Acked, restarted, time.Now()); n == 0 {
		t.Error("no call was acknowledged after the restart")
	}
	again.stop(shutdownTimeout)
}

// pgCtl runs pg_ctl on the private cluster of dataDir as the account that
// owns it (PostgreSQL refuses to run as root).
func pgCtl(ctx context.Context, t *testing.T, dataDir string, args ...string) {
	t.Helper()
	binDir, err := pgembed.FindBinaries(os.Getenv("MEDIATION_PG_BIN"))
	if err != nil {
		t.Fatal(err)
	}
	pgdata := filepath.Join(dataDir, "postgres")
	var st syscall.Stat_t
	if err := syscall.Stat(pgdata, &st); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pg_ctl"), append([]string{"-D", pgdata}, args...)...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if os.Geteuid() == 0 && st.Uid != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: st.Uid, Gid: st.Gid}
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+pgdata)
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// privateDSN is the URL of the database of the private cluster running in
// dataDir, from its postmaster.pid (line 4: port, line 5: socket directory).
func privateDSN(t *testing.T, dataDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 5 {
		t.Fatalf("postmaster.pid has %d lines: %q", len(lines), data)
	}
	port, sockDir := strings.TrimSpace(lines[3]), strings.TrimSpace(lines[4])
	return fmt.Sprintf("postgres://%s@/mediation?host=%s&port=%s&sslmode=disable", pgembed.Superuser, sockDir, port)
}

// probe makes one authenticated call with a 10s deadline and returns its
// code and how long it took.
func probe(ctx context.Context, conn *grpc.ClientConn, token string) (codes.Code, time.Duration) {
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := mediationv1.NewCaseServiceClient(conn).ListCases(ctx, &mediationv1.ListCasesRequest{PageSize: 1})
	return status.Code(err), time.Since(start)
}

// TestCrashPostgresRestarted stops the service's private PostgreSQL in the
// middle of the workload and starts it again a few seconds later, without
// touching mediationd: while the database is down the service must say so
// quickly (503 on /readyz, UNAVAILABLE on calls, no call hanging), then
// become ready by itself, and the history must account for everything.
func TestCrashPostgresRestarted(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	dataDir := filepath.Join(reachableDir(t), "data")
	stopPostgresAtEnd(t, dataDir)
	s := serve(ctx, t, crashEnv(privateEnv(dataDir)...))
	s.waitReady(ctx, readyTimeout)
	s.signIn(ctx)
	dsn := privateDSN(t, dataDir)

	// Calls get 10s; while the database is down none may take half of it.
	const callTimeout, slowest = 10 * time.Second, 5 * time.Second
	w := newWorkload(ctx, t, s.token, checker.Options{
		Workers: 8, Cases: 20, HotCases: 3, Actions: 1 << 30, Duration: time.Minute, Seed: 12, CallTimeout: callTimeout,
	}, s)
	stop := background(ctx, t, w)
	time.Sleep(3 * time.Second)

	down := time.Now()
	pgCtl(ctx, t, dataDir, "stop", "-m", "fast", "-w", "-t", "30")
	t.Logf("PostgreSQL stopped in %v", time.Since(down).Round(time.Millisecond))

	var readyz struct{ Status, Reason string }
	code, err := s.call(ctx, "GET", "/readyz", nil, &readyz)
	if err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %d %+v, %v; want 503", code, readyz, err)
	}
	conns, err := checker.Dial([]string{s.grpcAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer conns[0].Close()
	for range 3 {
		code, took := probe(ctx, conns[0], s.token)
		t.Logf("a call with the database down: %v after %v", code, took.Round(time.Millisecond))
		if code != codes.Unavailable || took > slowest {
			t.Errorf("a call with the database down answered %v after %v; want UNAVAILABLE within %v", code, took, slowest)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if st, err := s.health(ctx); err != nil || st != healthpb.HealthCheckResponse_NOT_SERVING {
		// The health service follows within the readiness interval (5s).
		time.Sleep(5 * time.Second)
		if st, err := s.health(ctx); err != nil || st != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("gRPC health with the database down: %v, %v; want NOT_SERVING", st, err)
		}
	}
	if rest := 4*time.Second - time.Since(down); rest > 0 {
		time.Sleep(rest)
	}

	// restart reuses the options the cluster was started with
	// (postmaster.opts), which start would not.
	pgCtl(ctx, t, dataDir, "restart", "-m", "fast", "-w", "-t", "60", "-l", filepath.Join(dataDir, "postgres.log"))
	up := time.Now()
	t.Logf("PostgreSQL was down for %v", up.Sub(down).Round(time.Millisecond))
	s.waitReady(ctx, 30*time.Second)
	s.waitHealth(ctx, healthpb.HealthCheckResponse_SERVING, 15*time.Second)
	t.Logf("the service was ready again %v after PostgreSQL", time.Since(up).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	stop()
	if s.exited() {
		t.Fatalf("mediationd exited while PostgreSQL was down; stderr:\n%s", s.logs())
	}

	rec, _ := resolveAndVerify(ctx, t, w, dsn, true)
	failed, slow, unavailable := 0, 0, 0
	byCode := map[codes.Code]int{}
	check := func(start, end time.Time, outcome checker.Outcome, code codes.Code) {
		if outcome == checker.Acked || end.Before(down) || start.After(up) {
			return
		}
		failed++
		byCode[code]++
		if code == codes.Unavailable {
			unavailable++
		}
		if end.Sub(start) > slowest {
			slow++
		}
	}
	for _, c := range rec.Calls {
		check(c.Start, c.End, c.Outcome, c.Code)
	}
	for _, c := range rec.Creates {
		check(c.Start, c.End, c.Outcome, c.Code)
	}
	t.Logf("while PostgreSQL was down: %d calls failed (%v), %d slower than %v", failed, byCode, slow, slowest)
	if unavailable == 0 || slow > 0 {
		t.Errorf("while PostgreSQL was down %d calls failed, %d with UNAVAILABLE, %d took longer than %v; want UNAVAILABLE, quickly", failed, unavailable, slow, slowest)
	}
	if n := between(rec, checker.Acked, up, time.Now()); n == 0 {
		t.Error("no call was acknowledged after PostgreSQL came back")
	}
	s.stop(stopTimeout)
	checkPostgresStopped(t, dataDir)
}
