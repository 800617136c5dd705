package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// logBuffer collects a cluster's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testDataDir returns a fresh data directory. Under root, the test's own
// temporary directories are opened for traversal so the server account can
// reach the cluster, as it could in /var/lib.
func testDataDir(t *testing.T) string {
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

// startCluster starts a cluster in dataDir, stops it when the test ends and
// returns it with its log.
func startCluster(t *testing.T, dataDir string, o Options) (*Cluster, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	o.DataDir = dataDir
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c, logs
}

// connect opens a connection to database on c, closed when the test ends.
func connect(t *testing.T, c *Cluster, database string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.ConnString(database))
	if err != nil {
		t.Fatalf("connect to %s: %v", c.ConnString(database), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestFindBinaries(t *testing.T) {
	dir, err := FindBinaries("")
	if err != nil {
		t.Fatalf("FindBinaries: %v (CI installs PostgreSQL, so this must not happen)", err)
	}
	if missing := missingBinaries(dir); len(missing) > 0 {
		t.Fatalf("FindBinaries returned %s, which lacks %v", dir, missing)
	}
	again, err := FindBinaries(dir)
	if err != nil || again != dir {
		t.Fatalf("FindBinaries(%q) = %q, %v; want the same directory back", dir, again, err)
	}
}

func TestFindBinariesBogusDir(t *testing.T) {
	_, err := FindBinaries(filepath.Join(t.TempDir(), "no-such-dir"))
	if !errors.Is(err, ErrBinariesMissing) {
		t.Fatalf("err = %v, want one wrapping ErrBinariesMissing", err)
	}
	for _, want := range []string{"apt-get install postgresql", "dnf install postgresql-server", "brew install postgresql", "MEDIATION_PG_BIN", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestHighestVersionDir(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "10", "17", "15"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range serverBinaries {
			if err := os.WriteFile(filepath.Join(bin, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	// An incomplete, higher installation must be passed over.
	if err := os.MkdirAll(filepath.Join(root, "18", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := highestVersionDir(filepath.Join(root, "*", "bin"))
	if want := filepath.Join(root, "17", "bin"); got != want {
		t.Fatalf("highestVersionDir = %q, want %q", got, want)
	}
}

func TestMajorVersion(t *testing.T) {
	for in, want := range map[string]string{
		"postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n": "15",
		"postgres (PostgreSQL) 9.6.24\n":                         "9.6",
		"postgres (PostgreSQL) 17devel\n":                        "17",
	} {
		got, err := majorVersion(in)
		if err != nil || got != want {
			t.Errorf("majorVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestStartStopReuse(t *testing.T) {
	dataDir := testDataDir(t)
	c, logs := startCluster(t, dataDir, Options{})
	for _, want := range []string{"initialising PostgreSQL cluster", "started PostgreSQL", "bin_dir="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}

	conn := connect(t, c, "mediation")
	var one int
	if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if _, err := conn.Exec(t.Context(), "CREATE TABLE marker (id int)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())
	checkOwnSession(t, c)

	if err := c.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if !strings.Contains(logs.String(), "stopped PostgreSQL") {
		t.Errorf("log lacks the stop:\n%s", logs)
	}

	c2, logs2 := startCluster(t, dataDir, Options{})
	if strings.Contains(logs2.String(), "initialising") {
		t.Errorf("second Start ran initdb again:\n%s", logs2)
	}
	conn2 := connect(t, c2, "mediation")
	if _, err := conn2.Exec(t.Context(), "SELECT * FROM marker"); err != nil {
		t.Fatalf("marker table from the first run is gone: %v", err)
	}
}

// checkOwnSession verifies that the postmaster runs in a session and process
// group of its own, so a terminal's Ctrl-C does not reach it.
func checkOwnSession(t *testing.T, c *Cluster) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.DataDir(), "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.SplitN(string(data), "\n", 2)[0]
	server, err := sessionOf(pid)
	if err != nil {
		t.Skipf("cannot read process sessions: %v", err)
	}
	self, err := sessionOf("self")
	if err != nil {
		t.Fatal(err)
	}
	if server[0] == self[0] || server[1] == self[1] {
		t.Errorf("postmaster (pgrp %s, session %s) shares the test's (pgrp %s, session %s)", server[0], server[1], self[0], self[1])
	}
}

// sessionOf returns the process group and session of a process from /proc.
func sessionOf(pid string) ([2]string, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return [2]string{}, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 4 {
		return [2]string{}, fmt.Errorf("short /proc/%s/stat", pid)
	}
	return [2]string{fields[2], fields[3]}, nil
}

func TestReuseRunningCluster(t *testing.T) {
	dataDir := testDataDir(t)
	first, _ := startCluster(t, dataDir, Options{Database: "cases"})
	// The first *Cluster is dropped without Stop, as when the service is
	// killed; the next Start must adopt the running server.
	second, logs := startCluster(t, dataDir, Options{Database: "cases"})
	if !strings.Contains(logs.String(), "reusing running PostgreSQL") {
		t.Fatalf("second Start did not reuse the server:\n%s", logs)
	}
	if second.ConnString("cases") != first.ConnString("cases") {
		t.Errorf("reused ConnString = %q, want %q", second.ConnString("cases"), first.ConnString("cases"))
	}
	conn := connect(t, second, "cases")
	if _, err := conn.Exec(t.Context(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())
	if err := second.Stop(t.Context()); err != nil {
		t.Fatalf("Stop of reused server: %v", err)
	}
	if err := first.Stop(t.Context()); err != nil {
		t.Fatalf("Stop of an already stopped server: %v", err)
	}
}

func TestStalePidFile(t *testing.T) {
	dataDir := testDataDir(t)
	c, _ := startCluster(t, dataDir, Options{})
	pidFile := filepath.Join(c.DataDir(), "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Recreate the pid file a killed server leaves, naming a process that
	// has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 2)
	stale := strconv.Itoa(dead.Process.Pid) + "\n" + lines[1]
	if err := os.WriteFile(pidFile, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(pidFile, int(c.user.uid), int(c.user.gid)); err != nil {
			t.Fatal(err)
		}
	}

	c2, logs := startCluster(t, dataDir, Options{})
	if !strings.Contains(logs.String(), "started PostgreSQL") {
		t.Fatalf("Start with a stale postmaster.pid did not start a server:\n%s", logs)
	}
	conn := connect(t, c2, "mediation")
	if _, err := conn.Exec(t.Context(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}

func TestLongDataDirUsesTempSocketDir(t *testing.T) {
	dataDir := filepath.Join(testDataDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60))
	c, _ := startCluster(t, dataDir, Options{Ephemeral: true})
	if strings.HasPrefix(c.sockDir, dataDir) {
		t.Fatalf("socket directory %s is inside the too-long data directory", c.sockDir)
	}
	conn := connect(t, c, "mediation")
	if _, err := conn.Exec(t.Context(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())
	sockDir := c.sockDir
	if err := c.Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for _, gone := range []string{sockDir, c.DataDir()} {
		if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after Remove (err %v)", gone, err)
		}
	}
}

func TestRootRefusesUntraversableDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only a root service hands PostgreSQL to another account; running as non-root")
	}
	blocked := filepath.Join(testDataDir(t), "private")
	if err := os.Mkdir(blocked, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), Options{DataDir: filepath.Join(blocked, "data")})
	if err == nil {
		t.Fatal("Start succeeded with a data directory the server account cannot reach")
	}
	for _, want := range []string{blocked, "MEDIATION_DATA_DIR=/var/lib/mediationd"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, statErr := os.Stat(filepath.Join(blocked, "data", clusterSubdir)); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("Start created the cluster directory despite refusing: %v", statErr)
	}
}

// TestInterruptedInitdbLeavesNoCluster: a first start killed during initdb
// leaves only the scratch directory, which the next start discards.
func TestInterruptedInitdbLeavesNoCluster(t *testing.T) {
	dataDir := testDataDir(t)
	scratch := filepath.Join(dataDir, "postgres.initdb")
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scratch, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := startCluster(t, dataDir, Options{Ephemeral: true})
	conn := connect(t, c, "mediation")
	var one int
	if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("scratch directory still there: %v", err)
	}
}

// TestStartFailsWhenDatabaseCannotBeCreated: an error after the server is
// up is reported, not swallowed.
func TestStartFailsWhenDatabaseCannotBeCreated(t *testing.T) {
	dataDir := testDataDir(t)
	_, err := Start(t.Context(), Options{DataDir: dataDir, Database: "bad\x00name", Ephemeral: true})
	if err == nil {
		t.Fatal("Start succeeded with a database name PostgreSQL cannot take")
	}
}

func TestTempDir(t *testing.T) {
	dir, err := TempDir("pgembed-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o711 {
		t.Fatalf("TempDir made %s: %v, %v; want a directory with mode 0711", dir, fi.Mode(), err)
	}
}
