// Package e2e runs the workbench's browser tests: the scenarios in
// scenarios/*.mjs, driven by Playwright (playwright-core from npm) in the
// machine's Chromium, against the real mediationd binary, built here with
// the UI embedded, on a fresh PostgreSQL database loaded with the demo
// data (seed 42), on loopback addresses only.
//
// They run when MEDIATION_WEBUI_E2E=1, as `make test` (target webtest)
// sets it after building the UI and installing Chromium; otherwise they
// skip and say so, since they need Node.js, the built UI and Chromium.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/pgtest"
)

// envRun turns the browser tests on.
const envRun = "MEDIATION_WEBUI_E2E"

// readyTimeout allows for the migrations and the demo load (about 3000
// cases), which takes about a minute on a quiet machine.
const readyTimeout = 6 * time.Minute

func TestMain(m *testing.M) {
	if os.Getenv(envRun) == "" {
		// No database needed to skip.
		os.Exit(m.Run())
	}
	os.Exit(pgtest.Main(m, func(context.Context, string) error { return nil }))
}

// service is the mediationd under test.
type service struct {
	base string
	cmd  *exec.Cmd
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// webuiDir is internal/webui, the Vite project.
func webuiDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test's directory")
	}
	return filepath.Dir(filepath.Dir(file))
}

// startService builds mediationd (embedding the current UI build) and
// starts it on a fresh database with the demo data.
func startService(t *testing.T) *service {
	t.Helper()
	dir := webuiDir(t)
	if _, err := os.Stat(filepath.Join(dir, "dist", "index.html")); err != nil {
		t.Fatalf("the UI is not built (%v): run `make webui` first", err)
	}
	bin := filepath.Join(t.TempDir(), "mediationd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mediationd")
	build.Dir = filepath.Join(dir, "..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build mediationd: %v\n%s", err, out)
	}
	httpAddr := freeAddr(t)
	s := &service{base: "http://" + httpAddr, logs: &lockedBuffer{}}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+pgtest.NewDatabase(t),
		"MEDIATION_MIGRATE=true",
		"MEDIATION_DEMO=42",
		"MEDIATION_HTTP_ADDR="+httpAddr,
		"MEDIATION_GRPC_ADDR="+freeAddr(t),
		"MEDIATION_LOG_FORMAT=json",
		"MEDIATION_LOG_LEVEL=info",
		"MEDIATION_OVERDUE_INTERVAL=0",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("mediationd logs (last 4000 bytes):\n%s", tail(s.logs.String(), 4000))
		}
	})
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(s.logs.String(), "loaded demo data") {
				return s
			}
		}
		if s.cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("mediationd not ready with the demo data within %v:\n%s", readyTimeout, tail(s.logs.String(), 4000))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// result is what run.mjs prints last, one JSON line per scenario.
type result struct {
	Scenario string   `json:"scenario"`
	OK       bool     `json:"ok"`
	Error    string   `json:"error"`
	Checks   []string `json:"checks"`
	Millis   int64    `json:"ms"`
}

// TestBrowser runs every scenario, each as a subtest, against one
// service: the demo data is loaded once per run.
func TestBrowser(t *testing.T) {
	if os.Getenv(envRun) == "" {
		t.Skipf("browser tests are off: set %s=1 (make test does, after building the UI and installing Chromium)", envRun)
	}
	dir := webuiDir(t)
	svc := startService(t)
	out := filepath.Join(dir, "test-output")
	// Screenshots of this run only: a stale FAILED-*.png would mislead.
	if err := os.RemoveAll(filepath.Join(out, "screenshots")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	list := exec.Command("node", "e2e/run.mjs", "--list")
	list.Dir = dir
	names, err := list.Output()
	if err != nil {
		t.Fatalf("list scenarios: %v", err)
	}
	for _, name := range strings.Fields(string(names)) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", "e2e/run.mjs", name)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "WEBUI_BASE="+svc.base, "WEBUI_OUT="+out)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr lockedBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var res *result
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				var r result
				if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &r) == nil && r.Scenario != "" {
					res = &r
					continue
				}
				t.Log(line)
			}
			werr := cmd.Wait()
			switch {
			case res == nil:
				t.Fatalf("scenario %s gave no result (%v):\n%s", name, werr, tail(stderr.String(), 4000))
			case !res.OK:
				t.Fatalf("scenario %s failed after %d checks %v:\n%s\n%s", name, len(res.Checks), res.Checks, res.Error, tail(stderr.String(), 2000))
			case werr != nil:
				t.Fatalf("scenario %s: %v\n%s", name, werr, tail(stderr.String(), 2000))
			}
			t.Logf("%s: %d checks in %d ms: %s", name, len(res.Checks), res.Millis, strings.Join(res.Checks, "; "))
		})
	}
	fmt.Fprintf(os.Stderr, "screenshots in %s\n", filepath.Join(out, "screenshots"))
}
