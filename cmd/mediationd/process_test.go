package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// binary is the mediationd executable built by TestMain.
var binary string

// process is one run of the binary, killed when the test ends.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout string // file receiving the process's stdout
	stderr string // file receiving the process's stderr
	done   chan struct{}
}

// launch starts the binary with args and the base environment plus env,
// which wins over it. ctx bounds the run: the process is killed when ctx
// ends, and in any case when the test ends.
func launch(ctx context.Context, t *testing.T, env []string, args ...string) *process {
	t.Helper()
	dir := t.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mediationd %s: %v", strings.Join(args, " "), err)
	}
	p := &process{t: t, cmd: cmd, stdout: stdout.Name(), stderr: stderr.Name(), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		stdout.Close()
		stderr.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// baseEnv is the test's environment without the settings that would
// change what the binary does; MEDIATION_PG_BIN is kept, since it says
// where this machine's PostgreSQL is.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DATABASE_URL" || (strings.HasPrefix(k, "MEDIATION_") && k != "MEDIATION_PG_BIN") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// output returns what the process has written to stdout and stderr.
func (p *process) output() (stdout, stderr string) {
	o, _ := os.ReadFile(p.stdout)
	e, _ := os.ReadFile(p.stderr)
	return string(o), string(e)
}

// logs returns the process's stderr.
func (p *process) logs() string {
	_, e := p.output()
	return e
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to timeout for the process to end and returns its exit
// status, failing the test if it does not end in time.
func (p *process) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("mediationd %s did not exit within %v; stderr:\n%s",
			strings.Join(p.cmd.Args[1:], " "), timeout, p.logs())
	}
	return p.cmd.ProcessState.ExitCode()
}

// signal sends sig to the process.
func (p *process) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// run runs the binary to completion within timeout and returns its exit
// status and output.
func run(t *testing.T, timeout time.Duration, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout+10*time.Second)
	defer cancel()
	p := launch(ctx, t, env, args...)
	code = p.wait(timeout)
	stdout, stderr = p.output()
	return code, stdout, stderr
}

// service is a running `mediationd serve` with its addresses.
type service struct {
	*process
	grpcAddr string
	baseURL  string
	env      []string
	// token is sent as the bearer credential once signIn has run.
	token string
}

// serve starts the service on free loopback ports.
func serve(ctx context.Context, t *testing.T, env []string, args ...string) *service {
	t.Helper()
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	args = append(args, "--grpc-addr="+grpcAddr, "--http-addr="+httpAddr)
	return &service{process: launch(ctx, t, env, args...), grpcAddr: grpcAddr, baseURL: "http://" + httpAddr, env: env}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// call makes an HTTP request to the service and decodes a JSON answer
// into out, if out is not nil. It returns the status code.
func (s *service) call(ctx context.Context, method, path string, body any, out any) (int, error) {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.baseURL+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: answer %q is not JSON: %w", method, path, data, err)
		}
	}
	return resp.StatusCode, nil
}

// mustCall is call failing the test on a transport error or a status
// other than want.
func (s *service) mustCall(ctx context.Context, method, path string, body any, want int, out any) {
	s.t.Helper()
	code, err := s.call(ctx, method, path, body, out)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d", method, path, code, want)
	}
}

// waitReady polls /readyz until it answers 200, failing the test if the
// process exits or timeout passes first.
func (s *service) waitReady(ctx context.Context, timeout time.Duration) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		var body map[string]string
		code, err := s.call(ctx, "GET", "/readyz", nil, &body)
		if err == nil && code == http.StatusOK {
			return
		}
		last = fmt.Sprintf("status %d %v, error %v", code, body, err)
		select {
		case <-s.done:
			s.t.Fatalf("mediationd exited with status %d before it was ready; stderr:\n%s",
				s.cmd.ProcessState.ExitCode(), s.logs())
		case <-ctx.Done():
			s.t.Fatalf("mediationd not ready within %v (last /readyz: %s); stderr:\n%s", timeout, last, s.logs())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and checks that the process exits with status 0
// within timeout.
func (s *service) stop(timeout time.Duration) {
	s.t.Helper()
	start := time.Now()
	s.signal(syscall.SIGTERM)
	if code := s.wait(timeout); code != 0 {
		s.t.Fatalf("after SIGTERM mediationd exited with status %d, want 0; stderr:\n%s", code, s.logs())
	}
	s.t.Logf("mediationd stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}

// health asks the gRPC health service about the whole server ("").
func (s *service) health(ctx context.Context) (healthpb.HealthCheckResponse_ServingStatus, error) {
	conn, err := grpc.NewClient("passthrough:///"+s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		return 0, err
	}
	return resp.GetStatus(), nil
}

// waitHealth polls the gRPC health service until it reports want.
func (s *service) waitHealth(ctx context.Context, want healthpb.HealthCheckResponse_ServingStatus, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := s.health(ctx)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("gRPC health = %v, %v after %v; want %v", got, err, timeout, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// reachableDir returns a fresh directory that, when the tests run as
// root, the unprivileged PostgreSQL account can pass through (as it could
// /var/lib), since t.TempDir's directories are private to their owner.
func reachableDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// postmasterPID returns the pid recorded in the cluster's postmaster.pid,
// or 0 if there is no such file.
func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		t.Fatalf("postmaster.pid starts with %q, not a pid", first)
	}
	return pid
}

// checkPostgresStopped fails the test if the private cluster in dataDir
// still has a postmaster.pid.
func checkPostgresStopped(t *testing.T, dataDir string) {
	t.Helper()
	if pid := postmasterPID(t, dataDir); pid != 0 {
		t.Errorf("PostgreSQL (pid %d) still running on %s after mediationd stopped", pid, dataDir)
	}
}

// stopPostgresAtEnd makes sure that no PostgreSQL server started by the
// binary on dataDir outlives the test, whatever happened to the binary.
func stopPostgresAtEnd(t *testing.T, dataDir string) {
	t.Cleanup(func() {
		pid := postmasterPID(t, dataDir)
		if pid == 0 {
			return
		}
		// SIGQUIT is PostgreSQL's immediate shutdown.
		if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
			return // not running: a stale postmaster.pid
		}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if postmasterPID(t, dataDir) == 0 {
				return
			}
		}
		t.Errorf("PostgreSQL (pid %d) on %s did not stop", pid, dataDir)
	})
}

// checkJSONLogs checks that every line the service logged is a JSON
// object with a level and a message, and that the messages in want appear.
func checkJSONLogs(t *testing.T, logs string, want ...string) {
	t.Helper()
	msgs := map[string]bool{}
	lines := strings.Split(strings.TrimRight(logs, "\n"), "\n")
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line %d is not JSON: %q", i+1, line)
			continue
		}
		level, _ := rec["level"].(string)
		msg, _ := rec["msg"].(string)
		if level == "" || msg == "" {
			t.Errorf("log line %d lacks level or msg: %q", i+1, line)
		}
		msgs[msg] = true
	}
	for _, m := range want {
		if !msgs[m] {
			t.Errorf("no %q in the logs:\n%s", m, logs)
		}
	}
}

// logged reports whether the service logged a line with message msg.
func logged(logs, msg string) bool {
	return strings.Contains(logs, `"msg":"`+msg+`"`)
}

// adminPassword is the password of the administrator signIn creates.
const adminPassword = "a long administrator password"

// signIn creates the administrator with `mediationd users add` against the
// service's database (the same environment), signs in over REST, and keeps
// the token for the following calls.
func (s *service) signIn(ctx context.Context) {
	s.t.Helper()
	cmd := exec.CommandContext(ctx, binary, "users", "add", "--username", "admin", "--role", "admin", "--password-stdin")
	cmd.Env = append(baseEnv(), s.env...)
	cmd.Stdin = strings.NewReader(adminPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("mediationd users add: %v\n%s", err, out)
	}
	var resp struct {
		Token string `json:"token"`
	}
	s.mustCall(ctx, "POST", "/v1/sessions", map[string]string{"username": "admin", "password": adminPassword}, http.StatusOK, &resp)
	if resp.Token == "" {
		s.t.Fatal("POST /v1/sessions returned no token")
	}
	s.token = resp.Token
}
