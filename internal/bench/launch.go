package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mediationd/mediationd/internal/pgembed"
)

// The administrator the benchmark creates in its private database.
const benchUser = "bench-admin"

// launchTimeouts bound the steps of starting and stopping the service.
const (
	readyTimeout = 90 * time.Second
	stopTimeout  = 30 * time.Second
)

// LaunchOptions say how to start a private mediationd.
type LaunchOptions struct {
	// Binary is the mediationd executable; empty = go build it from the
	// module the working directory is in.
	Binary string
	// PGBin is the directory of the PostgreSQL server binaries; empty =
	// the service's own discovery (PATH, then /usr/lib/postgresql/*/bin).
	PGBin string
	// FastDB runs PostgreSQL without durability (fsync, synchronous_commit
	// and full_page_writes off), as the test suite does; the default is a
	// durable cluster, as mediationd's own private one.
	FastDB bool
	// DBMaxConns is the service's pool size (MEDIATION_DB_MAX_CONNS); 0 =
	// its default.
	DBMaxConns int
	// DebugAddr, when set, is where the service serves /debug/pprof
	// (MEDIATION_DEBUG_ADDR), for profiling it during a run.
	DebugAddr string
	// Log receives progress lines.
	Log io.Writer
}

// Server is a mediationd the benchmark started on free loopback ports,
// with its own PostgreSQL cluster in a temporary directory and an
// administrator signed in.
type Server struct {
	GRPCAddr    string
	HTTPAddr    string
	DatabaseURL string
	Token       string
	// PID is the service's process id; PostgresPID the postmaster's.
	PID         int
	PostgresPID int

	dir     string
	cluster *pgembed.Cluster
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
}

// Launch builds (if needed) and starts mediationd against a fresh
// PostgreSQL cluster, creates the administrator with `mediationd users
// add`, waits until the service is ready and signs in. Stop undoes all of
// it.
func Launch(ctx context.Context, o LaunchOptions) (s *Server, err error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	dir, err := pgembed.TempDir("mediation-bench-")
	if err != nil {
		return nil, fmt.Errorf("make work directory: %w", err)
	}
	s = &Server{dir: dir, logPath: filepath.Join(dir, "mediationd.log")}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
		}
	}()
	binary := o.Binary
	if binary == "" {
		binary = filepath.Join(dir, "mediationd")
		logf("building mediationd into %s", binary)
		if err := build(ctx, binary); err != nil {
			return s, err
		}
	}
	logf("starting PostgreSQL in %s (durable: %v)", dir, !o.FastDB)
	s.cluster, err = pgembed.Start(ctx, pgembed.Options{
		DataDir: filepath.Join(dir, "data"), BinDir: o.PGBin, Ephemeral: o.FastDB, MaxConnections: 200,
	})
	if err != nil {
		return s, fmt.Errorf("start PostgreSQL: %w", err)
	}
	s.DatabaseURL = s.cluster.ConnString("mediation")
	if s.PostgresPID, err = postmasterPID(s.cluster.DataDir()); err != nil {
		return s, err
	}
	password := randomPassword()
	if err := addAdmin(ctx, binary, s.DatabaseURL, password); err != nil {
		return s, err
	}
	if s.GRPCAddr, err = freeAddr(); err != nil {
		return s, err
	}
	if s.HTTPAddr, err = freeAddr(); err != nil {
		return s, err
	}
	if err := s.start(binary, o.DBMaxConns, o.DebugAddr); err != nil {
		return s, err
	}
	logf("mediationd (pid %d) on gRPC %s, HTTP %s", s.PID, s.GRPCAddr, s.HTTPAddr)
	if err := s.waitReady(ctx); err != nil {
		return s, err
	}
	if s.Token, err = SignIn(ctx, s.HTTPAddr, benchUser, password); err != nil {
		return s, err
	}
	return s, nil
}

// build compiles mediationd from the module of the working directory.
func build(ctx context.Context, out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building mediationd needs the go command (or pass --mediationd PATH): %w", err)
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, "github.com/mediationd/mediationd/cmd/mediationd")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build mediationd (run from inside the repository, or pass --mediationd PATH): %w\n%s", err, bytes.TrimSpace(b))
	}
	return nil
}

func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// childEnv is this process's environment without the settings that would
// change what mediationd does (MEDIATION_PG_BIN stays: it says where
// PostgreSQL is), plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DATABASE_URL" || (strings.HasPrefix(k, "MEDIATION_") && k != "MEDIATION_PG_BIN") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// addAdmin runs `mediationd users add` for the benchmark's administrator.
func addAdmin(ctx context.Context, binary, dsn, password string) error {
	cmd := exec.CommandContext(ctx, binary, "users", "add", "--username", benchUser, "--role", "admin",
		"--password-stdin", "--database-url", dsn)
	cmd.Env = childEnv("MEDIATION_LOG_LEVEL=warn")
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mediationd users add: %w\n%s", err, bytes.TrimSpace(out))
	}
	return nil
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs `mediationd serve` with the rate limiter off (it would hold
// the benchmark's one principal to 50 calls a second) and quiet logs.
func (s *Server) start(binary string, dbMaxConns int, debugAddr string) error {
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return fmt.Errorf("create service log: %w", err)
	}
	env := childEnv(
		"DATABASE_URL="+s.DatabaseURL,
		"MEDIATION_GRPC_ADDR="+s.GRPCAddr,
		"MEDIATION_HTTP_ADDR="+s.HTTPAddr,
		"MEDIATION_RATE_LIMIT=0",
		"MEDIATION_LOG_LEVEL=warn",
		"MEDIATION_LOG_FORMAT=json",
		"MEDIATION_SHUTDOWN_TIMEOUT=10s",
	)
	if dbMaxConns > 0 {
		env = append(env, "MEDIATION_DB_MAX_CONNS="+strconv.Itoa(dbMaxConns))
	}
	if debugAddr != "" {
		env = append(env, "MEDIATION_DEBUG_ADDR="+debugAddr)
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Should the benchmark die, the service goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start mediationd: %w", err)
	}
	s.cmd, s.PID, s.done = cmd, cmd.Process.Pid, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	return nil
}

// waitReady polls /readyz until the service answers 200.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.HTTPAddr+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("wait for mediationd: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("mediationd exited before it was ready (%v); its log:\n%s", s.cmd.ProcessState, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("mediationd not ready within %v; its log:\n%s", readyTimeout, s.logTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logTail returns the end of the service's log.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Warnings returns what the service logged (at warn level and above).
func (s *Server) Warnings() string {
	b, _ := os.ReadFile(s.logPath)
	return strings.TrimSpace(string(b))
}

// Stop stops the service with SIGTERM (killing it if it does not exit in
// time), removes the PostgreSQL cluster and the temporary directory.
func (s *Server) Stop() error {
	var errs []error
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(stopTimeout):
				_ = s.cmd.Process.Kill()
				<-s.done
				errs = append(errs, fmt.Errorf("mediationd did not stop within %v of SIGTERM; killed it", stopTimeout))
			}
		}
		if st := s.cmd.ProcessState; st != nil && !st.Success() && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("mediationd exited with %v; its log:\n%s", st, s.logTail()))
		}
	}
	if s.cluster != nil {
		if err := s.cluster.Remove(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove work directory: %w", err))
		}
	}
	return errors.Join(errs...)
}

// SignIn creates a session over the REST API and returns its token.
func SignIn(ctx context.Context, httpAddr, username, password string) (string, error) {
	body, err := json.Marshal(map[string]string{"username": username, "password": password})
	if err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/v1/sessions", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("sign in: %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("sign in: no token in %s", bytes.TrimSpace(raw))
	}
	return out.Token, nil
}
