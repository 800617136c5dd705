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

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mediationd/mediationd/internal/config"
	"github.com/mediationd/mediationd/internal/pgtest"
)

const (
	// readyTimeout allows for initdb and the migrations on a first start.
	readyTimeout = 90 * time.Second
	// shutdownTimeout is passed to the service; stopTimeout adds time for
	// stopping the private PostgreSQL.
	shutdownTimeout = 10 * time.Second
	stopTimeout     = shutdownTimeout + 5*time.Second
)

// TestMain builds the binary, then runs the tests with a PostgreSQL
// server for the DATABASE_URL tests. The template database is left
// empty: the binary applies its own migrations.
func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mediationd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintf(os.Stderr, "the go command is needed to build mediationd: %v\n", err)
		return 1
	}
	binary = filepath.Join(dir, "mediationd")
	build := exec.Command(goTool, "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build mediationd: %v\n", err)
		return 1
	}
	return pgtest.Main(m, func(context.Context, string) error { return nil })
}

// testContext bounds a whole test: every process it starts is killed
// when limit has passed.
func testContext(t *testing.T, limit time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	t.Cleanup(cancel)
	return ctx
}

// newCase is the case the tests register.
var newCase = map[string]any{
	"disputeType": "DISPUTE_TYPE_NEIGHBOR",
	"source":      "CASE_SOURCE_WALK_IN",
	"summary":     "邻里纠纷",
	"regionCode":  "621002",
	"parties":     []map[string]any{{"name": "张三", "role": "PARTY_ROLE_APPLICANT"}},
}

type caseJSON struct {
	Name       string `json:"name"`
	CaseNumber string `json:"caseNumber"`
	State      string `json:"state"`
	Summary    string `json:"summary"`
}

// createCase registers newCase and returns its resource name.
func createCase(ctx context.Context, s *service) string {
	s.t.Helper()
	var resp struct {
		Case caseJSON `json:"case"`
	}
	s.mustCall(ctx, "POST", "/v1/cases", newCase, http.StatusOK, &resp)
	if !strings.HasPrefix(resp.Case.Name, "cases/") || resp.Case.Summary != "邻里纠纷" || resp.Case.CaseNumber == "" {
		s.t.Fatalf("POST /v1/cases returned %+v", resp.Case)
	}
	return resp.Case.Name
}

// checkListed fails the test unless GET /v1/cases lists the case name.
func checkListed(ctx context.Context, s *service, name string) {
	s.t.Helper()
	var resp struct {
		Cases []caseJSON `json:"cases"`
	}
	s.mustCall(ctx, "GET", "/v1/cases", nil, http.StatusOK, &resp)
	for _, c := range resp.Cases {
		if c.Name == name {
			return
		}
	}
	s.t.Fatalf("GET /v1/cases = %+v, want %s among them", resp.Cases, name)
}

// privateEnv is the environment of a service running its own PostgreSQL
// in dataDir.
func privateEnv(dataDir string) []string {
	return []string{
		"MEDIATION_DATA_DIR=" + dataDir,
		"MEDIATION_SHUTDOWN_TIMEOUT=" + shutdownTimeout.String(),
	}
}

// TestOutOfTheBox runs the service with nothing configured but a data
// directory, stops it, and starts it again on the same data.
func TestOutOfTheBox(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	dataDir := filepath.Join(reachableDir(t), "data")
	stopPostgresAtEnd(t, dataDir)

	s := serve(ctx, t, privateEnv(dataDir))
	s.waitReady(ctx, readyTimeout)
	if code, err := s.call(ctx, "POST", "/v1/cases", newCase, nil); err != nil || code != http.StatusUnauthorized {
		t.Errorf("POST /v1/cases without a token: %d, %v; want 401", code, err)
	}
	s.signIn(ctx)
	name := createCase(ctx, s)
	checkListed(ctx, s, name)
	s.mustCall(ctx, "GET", "/healthz", nil, http.StatusOK, nil)
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	s.mustCall(ctx, "GET", "/openapi.json", nil, http.StatusOK, &doc)
	if _, ok := doc.Paths["/v1/cases"]; !ok {
		t.Errorf("/openapi.json has no path /v1/cases among %d paths", len(doc.Paths))
	}
	s.waitHealth(ctx, healthpb.HealthCheckResponse_SERVING, 10*time.Second)

	s.stop(stopTimeout)
	checkPostgresStopped(t, dataDir)
	// Not a terminal, so JSON lines.
	logs := s.logs()
	checkJSONLogs(t, logs, "initialising PostgreSQL cluster", "started PostgreSQL", "ready", "serving", "shutting down", "stopped PostgreSQL")

	again := serve(ctx, t, privateEnv(dataDir))
	again.waitReady(ctx, readyTimeout)
	again.token = s.token // sessions outlive a restart
	checkListed(ctx, again, name)
	again.stop(stopTimeout)
	checkPostgresStopped(t, dataDir)
	logs = again.logs()
	checkJSONLogs(t, logs, "started PostgreSQL", "serving", "stopped PostgreSQL")
	if logged(logs, "initialising PostgreSQL cluster") {
		t.Errorf("second start ran initdb again:\n%s", logs)
	}
}

// TestKilledThenRestarted checks that a service killed outright leaves
// PostgreSQL running and that the next start adopts it.
func TestKilledThenRestarted(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	dataDir := filepath.Join(reachableDir(t), "data")
	stopPostgresAtEnd(t, dataDir)

	s := serve(ctx, t, privateEnv(dataDir))
	s.waitReady(ctx, readyTimeout)
	s.signIn(ctx)
	name := createCase(ctx, s)
	s.signal(syscall.SIGKILL)
	if code := s.wait(10 * time.Second); code != -1 {
		t.Fatalf("SIGKILL: exit status %d, want death by signal", code)
	}
	pid := postmasterPID(t, dataDir)
	if pid == 0 {
		t.Fatal("no postmaster.pid after the service was killed: PostgreSQL died with it")
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("PostgreSQL (pid %d) is not running after the service was killed: %v", pid, err)
	}

	again := serve(ctx, t, privateEnv(dataDir))
	again.waitReady(ctx, readyTimeout)
	again.token = s.token
	checkListed(ctx, again, name)
	if got := postmasterPID(t, dataDir); got != pid {
		t.Errorf("PostgreSQL pid is %d after the restart, want the running server %d", got, pid)
	}
	again.stop(stopTimeout)
	checkPostgresStopped(t, dataDir)
	logs := again.logs()
	checkJSONLogs(t, logs, "reusing running PostgreSQL", "serving", "stopped PostgreSQL")
	if logged(logs, "initialising PostgreSQL cluster") || logged(logs, "started PostgreSQL") {
		t.Errorf("restart did not simply reuse the running PostgreSQL:\n%s", logs)
	}
}

// TestDatabaseURL runs the service against an existing server.
func TestDatabaseURL(t *testing.T) {
	t.Parallel()
	t.Run("migrate at start", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t, 2*time.Minute)
		dsn := pgtest.NewDatabase(t)
		dataDir := filepath.Join(t.TempDir(), "unused")
		s := serve(ctx, t, []string{"DATABASE_URL=" + dsn, "MEDIATION_DATA_DIR=" + dataDir}, "--migrate")
		s.waitReady(ctx, 30*time.Second)
		s.signIn(ctx)
		name := createCase(ctx, s)
		checkListed(ctx, s, name)
		s.waitHealth(ctx, healthpb.HealthCheckResponse_SERVING, 10*time.Second)
		s.stop(shutdownTimeout)
		if _, err := os.Stat(dataDir); err == nil {
			t.Errorf("with DATABASE_URL set the service created the data directory %s", dataDir)
		}
		checkJSONLogs(t, s.logs(), "applied migration", "serving")
	})

	t.Run("unmigrated", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t, 2*time.Minute)
		dsn := pgtest.NewDatabase(t)
		s := serve(ctx, t, []string{"DATABASE_URL=" + dsn}, "serve", "--shutdown-timeout=5s")
		// Alive but not ready.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if code, err := s.call(ctx, "GET", "/healthz", nil, nil); err == nil && code == http.StatusOK {
				break
			}
			if s.exited() || time.Now().After(deadline) {
				t.Fatalf("service not serving /healthz; stderr:\n%s", s.logs())
			}
			time.Sleep(100 * time.Millisecond)
		}
		var body struct{ Status, Reason string }
		s.mustCall(ctx, "GET", "/readyz", nil, http.StatusServiceUnavailable, &body)
		if !strings.Contains(body.Reason, "mediationd migrate") {
			t.Errorf("/readyz reason = %q, want it to say to run `mediationd migrate`", body.Reason)
		}
		if st, err := s.health(ctx); err != nil || st != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("gRPC health = %v, %v; want NOT_SERVING", st, err)
		}
		if code, _ := s.call(ctx, "POST", "/v1/cases", newCase, nil); code == http.StatusOK {
			t.Errorf("POST /v1/cases succeeded on an unmigrated database")
		}

		code, _, stderr := run(t, time.Minute, nil, "migrate", "--database-url", dsn)
		if code != 0 {
			t.Fatalf("mediationd migrate: exit status %d; stderr:\n%s", code, stderr)
		}
		checkJSONLogs(t, stderr, "applied migration", "schema is current")

		// /readyz checks the database itself; the gRPC health status
		// follows within the readiness interval (5s).
		s.waitReady(ctx, 5*time.Second)
		s.waitHealth(ctx, healthpb.HealthCheckResponse_SERVING, 12*time.Second)
		s.signIn(ctx)
		createCase(ctx, s)
		s.stop(5 * time.Second)
	})
}

// TestMissingPostgres checks the advice given when there is neither a
// database URL nor a PostgreSQL installation.
func TestMissingPostgres(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{
		"MEDIATION_PG_BIN=/nonexistent",
		"MEDIATION_DATA_DIR=" + dataDir,
		"MEDIATION_GRPC_ADDR=" + freeAddr(t),
		"MEDIATION_HTTP_ADDR=" + freeAddr(t),
	}
	code, _, stderr := run(t, 10*time.Second, env)
	if code == 0 {
		t.Fatalf("exit status 0 without PostgreSQL; stderr:\n%s", stderr)
	}
	for _, want := range []string{"apt-get install postgresql", "DATABASE_URL", "MEDIATION_PG_BIN"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr)
		}
	}
}

// TestBadConfiguration checks that each kind of mistake stops the binary
// before it does anything, with a message naming the setting.
func TestBadConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"time zone", []string{"MEDIATION_TIMEZONE=Mars/Olympus"}, nil, []string{"MEDIATION_TIMEZONE", "Mars/Olympus"}},
		{"log level", nil, []string{"--log-level=loud"}, []string{"log-level", "loud"}},
		{"shutdown timeout", []string{"MEDIATION_SHUTDOWN_TIMEOUT=soon"}, []string{"serve"}, []string{"MEDIATION_SHUTDOWN_TIMEOUT", "soon"}},
		{"migrate log format", nil, []string{"migrate", "--log-format=xml"}, []string{"log-format", "xml"}},
		{"unknown flag", nil, []string{"--colour=blue"}, []string{"colour"}},
		{"unexpected argument", nil, []string{"serve", "now"}, []string{"unexpected arguments: now"}},
		{"unknown command", nil, []string{"frobnicate"}, []string{"unknown command", "frobnicate", "mediationd help"}},
		{"pg-exec without command", nil, []string{"pg-exec", "--"}, []string{"usage: mediationd pg-exec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dataDir := filepath.Join(t.TempDir(), "data")
			env := append([]string{
				"MEDIATION_DATA_DIR=" + dataDir,
				"MEDIATION_GRPC_ADDR=" + freeAddr(t),
				"MEDIATION_HTTP_ADDR=" + freeAddr(t),
			}, tt.env...)
			code, _, stderr := run(t, 10*time.Second, env, tt.args...)
			if code == 0 {
				t.Fatalf("mediationd %q with %q: exit status 0, want failure; stderr:\n%s", tt.args, tt.env, stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("mediationd %q with %q: stderr does not mention %q:\n%s", tt.args, tt.env, want, stderr)
				}
			}
			if _, err := os.Stat(dataDir); err == nil {
				t.Errorf("mediationd %q with %q created the data directory despite the error", tt.args, tt.env)
			}
		})
	}

	t.Run("help", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := run(t, 10*time.Second, nil, "help")
		if code != 0 {
			t.Fatalf("mediationd help: exit status %d; stderr:\n%s", code, stderr)
		}
		for _, s := range config.Settings() {
			if !strings.Contains(stdout, "--"+s.Flag+" ") || !strings.Contains(stdout, s.Env+" ") {
				t.Errorf("mediationd help does not list --%s / %s:\n%s", s.Flag, s.Env, stdout)
			}
		}
		for _, cmd := range []string{"migrate", "psql", "pg-exec", "version"} {
			if !strings.Contains(stdout, "mediationd "+cmd) {
				t.Errorf("mediationd help does not describe %q", cmd)
			}
		}
	})

	for _, args := range [][]string{{"--help"}, {"-h"}, {"serve", "--help"}, {"migrate", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, 10*time.Second, nil, args...)
			if code != 0 || !strings.Contains(stdout+stderr, "grpc-addr") || strings.Contains(stderr, "failed") {
				t.Errorf("mediationd %s: exit status %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
			}
		})
	}

	t.Run("version", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := run(t, 10*time.Second, nil, "version")
		if code != 0 {
			t.Fatalf("mediationd version: exit status %d; stderr:\n%s", code, stderr)
		}
		if lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "mediationd ") || len(lines[0]) <= len("mediationd ") {
			t.Errorf("mediationd version printed %q, want one line `mediationd VERSION`", stdout)
		}
	})
}

// TestPGExec runs commands against throwaway clusters and checks that
// they are removed.
func TestPGExec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string
		code   int
	}{
		{
			name: "psql",
			// Prints the query's result, then where the cluster is.
			script: `psql "$DATABASE_URL" -X -A -t -c "select 1" && test "$DATABASE_URL" = "$MEDIATION_TEST_DATABASE_URL" && echo "$DATABASE_URL"`,
			code:   0,
		},
		{name: "exit status", script: `psql "$DATABASE_URL" -X -q -c "select 1" >/dev/null && exit 3`, code: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmp := reachableDir(t)
			code, stdout, stderr := run(t, 90*time.Second, []string{"TMPDIR=" + tmp}, "pg-exec", "--", "sh", "-c", tt.script)
			if code != tt.code {
				t.Fatalf("pg-exec: exit status %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if tt.code == 0 {
				lines := strings.Split(strings.TrimSpace(stdout), "\n")
				if len(lines) != 2 || lines[0] != "1" || !strings.Contains(lines[1], "host="+tmp+"/mediationd-pg-") {
					t.Errorf("pg-exec output = %q, want 1 and a DATABASE_URL with its socket under %s/mediationd-pg-*", stdout, tmp)
				}
			}
			entries, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("pg-exec left %s behind", filepath.Join(tmp, e.Name()))
			}
		})
	}
	t.Run("stopped", func(t *testing.T) {
		// SIGTERM to pg-exec reaches its command, and the cluster goes.
		t.Parallel()
		tmp := reachableDir(t)
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
		defer cancel()
		p := launch(ctx, t, []string{"TMPDIR=" + tmp}, "pg-exec", "--", "sh", "-c", `echo started; exec sleep 600`)
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if out, _ := p.output(); strings.Contains(out, "started") {
				break
			}
			if p.exited() || time.Now().After(deadline) {
				t.Fatal("the command under pg-exec did not start")
			}
		}
		start := time.Now()
		p.signal(syscall.SIGTERM)
		if code := p.wait(20 * time.Second); code != 128+int(syscall.SIGTERM) {
			t.Fatalf("pg-exec told to stop: exit status %d after %s, want %d (its command ended by SIGTERM)", code, time.Since(start), 128+int(syscall.SIGTERM))
		}
		entries, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			t.Errorf("pg-exec left %s behind", filepath.Join(tmp, e.Name()))
		}
	})
}
