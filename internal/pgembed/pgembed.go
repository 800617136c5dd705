// Package pgembed runs a private PostgreSQL cluster inside the service's data
// directory, so that mediationd works without a configured database server.
//
// The cluster lives in DataDir/postgres, listens on a Unix socket only and
// trusts local connections, so no password or network port is involved. It
// is initialised on first use and reused afterwards, including when a
// previous run of the service died without stopping it. When the service runs
// as root, PostgreSQL (which refuses to run as root) runs as the "postgres"
// account, or "nobody" if that does not exist.
package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// Superuser is the PostgreSQL role initdb creates; ConnString connects as it.
	Superuser = "mediation"

	defaultDatabase       = "mediation"
	defaultMaxConnections = 200
	firstPort             = 5432

	// clusterSubdir is the directory under Options.DataDir that holds PGDATA.
	clusterSubdir = "postgres"
	// logFileName is the server log, kept next to PGDATA.
	logFileName = "postgres.log"
	// socketSubdir is the socket directory inside PGDATA.
	socketSubdir = "run"
	// maxSocketPath is the longest Unix socket path the kernel accepts
	// (sizeof(sockaddr_un.sun_path) minus the terminating NUL).
	maxSocketPath = 107
	// socketFilePrefix starts the name of PostgreSQL's socket and lock files.
	socketFilePrefix = ".s.PGSQL."
	// logTailLines is how much of the server log a start failure reports.
	logTailLines = 20
	// defaultReadyTimeout bounds the wait for connections when ctx has no deadline.
	defaultReadyTimeout = 60 * time.Second
	// stopFallbackTimeout bounds an immediate shutdown after a failed fast one.
	stopFallbackTimeout = 30 * time.Second
	// recoveryStartTimeout bounds pg_ctl's wait for a cluster restored
	// from a backup to reach a consistent state, which needs the WAL
	// written during the backup replayed first.
	recoveryStartTimeout = time.Hour
	// archiveTimeout forces a WAL segment switch after this many seconds
	// with writes, so that an archived copy of every commit exists within
	// a minute even when the service is quiet.
	archiveTimeout = 60
	// recoverySignal is the file that makes PostgreSQL recover from an
	// archive (pgbackrest restore writes it); it is removed at promotion.
	recoverySignal = "recovery.signal"
)

// Options configure a private cluster.
type Options struct {
	// DataDir is the service's data directory. The cluster lives in
	// DataDir/postgres (PGDATA) and logs to DataDir/postgres.log. DataDir is
	// created if missing.
	DataDir string
	// BinDir is the directory holding initdb, pg_ctl and postgres. Empty
	// means discover them with FindBinaries.
	BinDir string
	// Database is created if it does not exist. Empty means "mediation".
	Database string
	// Logger receives progress lines (initdb, start, reuse, stop). Nil
	// discards them.
	Logger *slog.Logger
	// Ephemeral trades durability for speed in throwaway clusters such as
	// test servers: fsync, synchronous_commit and full_page_writes are off
	// and initdb skips syncing. Never use it for data that must survive a
	// crash.
	Ephemeral bool
	// MaxConnections sets max_connections. Zero means 200.
	MaxConnections int
	// Archive, when set, makes the server archive its WAL to a pgBackRest
	// repository, so that the cluster can be backed up and restored to
	// any point in time.
	Archive *Archive
}

// Archive configures WAL archiving with pgBackRest. The settings are given
// on the server's command line, so they hold whatever postgresql.conf says
// and survive a new initdb; the repository and its retention are
// pgBackRest's own configuration.
type Archive struct {
	// Stanza is the pgBackRest stanza the cluster belongs to.
	Stanza string
	// Config is pgBackRest's configuration file; empty means its default
	// (/etc/pgbackrest/pgbackrest.conf).
	Config string
	// Command is the pgbackrest program; empty means look it up on PATH.
	Command string
}

// Cluster is a running private PostgreSQL cluster. It is owned by the
// service that started or reused it: Stop shuts it down.
type Cluster struct {
	binDir  string
	pgdata  string
	logFile string
	sockDir string
	// tempSockDir is a socket directory outside PGDATA, used when the path
	// inside PGDATA is too long for a Unix socket; Stop removes it.
	tempSockDir string
	port        int
	user        *serverUser
	logger      *slog.Logger
	// archiveCommand is the server's archive_command; empty means no
	// archiving.
	archiveCommand string

	mu      sync.Mutex
	stopped bool
}

// Start brings up the private cluster described by o and returns once it
// accepts connections and o.Database exists.
//
// On first use it runs initdb; afterwards it reuses the cluster, refusing one
// created by a different PostgreSQL major version. A server still running on
// the cluster (for example after the service was killed) is reused as is.
// Start runs PostgreSQL in its own session, so signals sent to the service's
// terminal do not reach it; the service stops it with Stop.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	c, err := newCluster(o)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	database := o.Database
	if database == "" {
		database = defaultDatabase
	}
	if o.Archive != nil {
		if c.archiveCommand, err = archiveCommand(*o.Archive, c.pgdata); err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
	}
	// A restored cluster recovers up to its target before it accepts
	// writes; the service's migrations need writes, so Start waits.
	recovering := exists(filepath.Join(c.pgdata, recoverySignal))

	started, err := c.bringUp(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err = c.waitReady(ctx); err == nil && recovering {
		err = c.waitRecovered(ctx)
	}
	if err == nil && !started && c.archiveCommand != "" {
		c.checkArchiving(ctx)
	}
	if err == nil {
		err = c.ensureDatabase(ctx, database)
	}
	if err != nil {
		if started {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopFallbackTimeout)
			defer cancel()
			err = errors.Join(err, c.Stop(stopCtx))
		}
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return c, nil
}

// newCluster resolves paths, binaries and the server account, and checks
// that the account can reach them.
func newCluster(o Options) (*Cluster, error) {
	if o.DataDir == "" {
		return nil, errors.New("no data directory given")
	}
	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("resolve data directory: %w", err)
	}
	binDir, err := FindBinaries(o.BinDir)
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pgdata := filepath.Join(dataDir, clusterSubdir)
	c := &Cluster{
		binDir:  binDir,
		pgdata:  pgdata,
		logFile: filepath.Join(dataDir, logFileName),
		logger:  logger.With("data_dir", pgdata, "bin_dir", binDir),
	}
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}

	if os.Geteuid() != 0 {
		c.user = currentServerUser()
		return c, nil
	}
	c.user, err = rootServerUser(pgdata)
	if err != nil {
		return nil, err
	}
	blocked, err := c.user.blockingDir(dataDir)
	if err != nil {
		return nil, err
	}
	if blocked != "" {
		return nil, fmt.Errorf("PostgreSQL must run as an unprivileged account because the service runs as root, "+
			"and %s cannot enter directory %s to reach the data directory %s; "+
			"use a data directory that account can reach, e.g. MEDIATION_DATA_DIR=/var/lib/mediationd (any directory outside /root)",
			c.user, blocked, dataDir)
	}
	blocked, err = c.user.blockingDir(binDir)
	if err != nil {
		return nil, err
	}
	if blocked != "" {
		return nil, fmt.Errorf("PostgreSQL runs as %s because the service runs as root, and that account cannot enter directory %s "+
			"holding the PostgreSQL binaries; set MEDIATION_PG_BIN to an installation it can reach", c.user, blocked)
	}
	return c, nil
}

// rootServerUser picks the account a root service runs PostgreSQL as: the
// owner of an existing cluster unless that is root, else lookupServerUser.
func rootServerUser(pgdata string) (*serverUser, error) {
	owner, err := ownerOf(pgdata)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("inspect cluster directory: %w", err)
	case owner != 0:
		return userByUID(owner)
	}
	return lookupServerUser()
}

// bringUp initialises the cluster if needed and starts it unless a server
// is already running on it. started reports whether this call started it.
func (c *Cluster) bringUp(ctx context.Context, o Options) (started bool, err error) {
	binMajor, err := c.binaryMajor(ctx)
	if err != nil {
		return false, err
	}
	clusterVersion, err := os.ReadFile(filepath.Join(c.pgdata, "PG_VERSION"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := c.initdb(ctx, o.Ephemeral); err != nil {
			return false, err
		}
	case err != nil:
		return false, fmt.Errorf("read cluster version: %w", err)
	default:
		if v := strings.TrimSpace(string(clusterVersion)); v != binMajor {
			return false, fmt.Errorf("cluster %s was created by PostgreSQL %s but the binaries in %s are PostgreSQL %s; "+
				"upgrade the cluster with pg_upgrade, or set MEDIATION_PG_BIN to PostgreSQL %s binaries",
				c.pgdata, v, c.binDir, binMajor, v)
		}
		if c.user.cred != nil {
			if owner, err := ownerOf(c.pgdata); err == nil && owner == 0 {
				if err := c.user.chownTree(c.pgdata); err != nil {
					return false, fmt.Errorf("give cluster directory to %s: %w", c.user, err)
				}
			}
		}
		running, err := c.reuseRunning(ctx)
		if err != nil || running {
			return false, err
		}
	}
	return true, c.start(ctx, o)
}

// binaryMajor returns the major version of the postgres binary.
func (c *Cluster) binaryMajor(ctx context.Context) (string, error) {
	out, err := c.run(ctx, "postgres", "--version")
	if err != nil {
		return "", fmt.Errorf("postgres --version: %w: %s", err, bytes.TrimSpace(out))
	}
	v, err := majorVersion(string(out))
	if err != nil {
		return "", fmt.Errorf("postgres --version: %w", err)
	}
	return v, nil
}

// initdb creates the cluster in an empty or missing PGDATA.
func (c *Cluster) initdb(ctx context.Context, ephemeral bool) error {
	entries, err := os.ReadDir(c.pgdata)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("inspect cluster directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away or delete it", c.pgdata)
	}
	// initdb builds the cluster beside its final place and the result is
	// renamed into place only when complete, so that an interrupted first
	// start leaves nothing that looks like a cluster.
	building := c.pgdata + ".initdb"
	if err := os.RemoveAll(building); err != nil {
		return fmt.Errorf("remove unfinished cluster %s: %w", building, err)
	}
	if err := os.MkdirAll(building, 0o700); err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	if err := os.Chmod(building, 0o700); err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	if c.user.cred != nil {
		if err := os.Lchown(building, int(c.user.uid), int(c.user.gid)); err != nil {
			return fmt.Errorf("give cluster directory to %s: %w", c.user, err)
		}
	}

	c.logger.Info("initialising PostgreSQL cluster", "user", c.user.name)
	args := []string{
		"-D", building,
		"-U", Superuser,
		"-E", "UTF8",
		localeFlag(ctx),
		"--auth-local=trust",
		"--auth-host=scram-sha-256",
	}
	if ephemeral {
		args = append(args, "--no-sync")
	}
	if out, err := c.run(ctx, "initdb", args...); err != nil {
		_ = os.RemoveAll(building)
		return fmt.Errorf("initdb: %w\n%s", err, bytes.TrimSpace(out))
	}
	if err := os.Remove(c.pgdata); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replace empty cluster directory: %w", err)
	}
	if err := os.Rename(building, c.pgdata); err != nil {
		return fmt.Errorf("move the new cluster into place: %w", err)
	}
	return nil
}

// localeFlag selects C.UTF-8 when the system provides it, which sorts
// bytewise like C but classifies non-ASCII letters, and no locale otherwise.
func localeFlag(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "locale", "-a").Output()
	if err == nil {
		for l := range strings.FieldsSeq(string(out)) {
			if n := strings.ToLower(strings.ReplaceAll(l, "-", "")); n == "c.utf8" {
				return "--locale=C.UTF-8"
			}
		}
	}
	return "--no-locale"
}

// reuseRunning adopts a server already running on the cluster, reading its
// port and socket directory from postmaster.pid. It reports false when no
// server is running, leaving a stale postmaster.pid for pg_ctl start to handle.
func (c *Cluster) reuseRunning(ctx context.Context) (bool, error) {
	pidFile := filepath.Join(c.pgdata, "postmaster.pid")
	if _, err := os.Stat(pidFile); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	running, err := c.running(ctx)
	if err != nil || !running {
		return false, err
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return false, fmt.Errorf("read running server's postmaster.pid: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 5 {
		return false, fmt.Errorf("running server's %s is incomplete", pidFile)
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return false, fmt.Errorf("running server's %s: bad port %q", pidFile, lines[3])
	}
	sockDir := strings.TrimSpace(lines[4])
	if sockDir == "" {
		return false, fmt.Errorf("the PostgreSQL server running on %s has no Unix socket; stop it with `pg_ctl stop -D %s`", c.pgdata, c.pgdata)
	}
	c.port, c.sockDir = port, sockDir
	if strings.HasPrefix(filepath.Base(sockDir), "mdpg-") && !strings.HasPrefix(sockDir, c.pgdata+string(filepath.Separator)) {
		c.tempSockDir = sockDir
	}
	c.logger.Info("reusing running PostgreSQL", "port", port, "socket_dir", sockDir)
	return true, nil
}

// running asks pg_ctl whether a server is running on the cluster.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	out, err := c.run(ctx, "pg_ctl", "status", "-D", c.pgdata)
	if err == nil {
		return true, nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && (exit.ExitCode() == 3 || exit.ExitCode() == 4) {
		return false, nil
	}
	return false, fmt.Errorf("pg_ctl status: %w: %s", err, bytes.TrimSpace(out))
}

// start launches the postmaster with pg_ctl and waits until it is ready.
func (c *Cluster) start(ctx context.Context, o Options) error {
	if err := c.prepareSocketDir(); err != nil {
		return err
	}
	if err := c.prepareLogFile(); err != nil {
		return err
	}
	maxConns := o.MaxConnections
	if maxConns <= 0 {
		maxConns = defaultMaxConnections
	}
	settings := []string{
		"listen_addresses=",
		"port=" + strconv.Itoa(c.port),
		"unix_socket_directories=" + socketDirSetting(c.sockDir),
		"unix_socket_permissions=0700",
		"max_connections=" + strconv.Itoa(maxConns),
	}
	if o.Ephemeral {
		settings = append(settings, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
	}
	if c.archiveCommand != "" {
		settings = append(settings,
			"wal_level=replica",
			"archive_mode=on",
			"archive_command="+c.archiveCommand,
			"archive_timeout="+strconv.Itoa(archiveTimeout))
	}
	timeout := "60"
	if exists(filepath.Join(c.pgdata, recoverySignal)) {
		timeout = strconv.Itoa(int(recoveryStartTimeout / time.Second))
		c.logger.Info("starting PostgreSQL on a restored cluster: it replays the archived WAL up to the restore target first")
	}
	// pg_ctl hands the -o string to /bin/sh, so every word is quoted.
	var opts []string
	for _, s := range settings {
		opts = append(opts, "-c", shellQuote(s))
	}
	out, err := c.run(ctx, "pg_ctl", "start", "-w", "-t", timeout,
		"-D", c.pgdata, "-l", c.logFile, "-o", strings.Join(opts, " "))
	if err != nil {
		c.removeTempSockDir()
		return fmt.Errorf("pg_ctl start: %w\n%s\nlast lines of %s:\n%s",
			err, bytes.TrimSpace(out), c.logFile, tailFile(c.logFile, logTailLines))
	}
	c.logger.Info("started PostgreSQL", "port", c.port, "socket_dir", c.sockDir, "user", c.user.name)
	return nil
}

// prepareSocketDir chooses the socket directory and port. It prefers a
// directory inside PGDATA, falling back to a fresh temporary directory when
// that path would exceed the Unix socket path limit.
func (c *Cluster) prepareSocketDir() error {
	dir := filepath.Join(c.pgdata, socketSubdir)
	if len(dir)+len("/"+socketFilePrefix+"65535") <= maxSocketPath {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create socket directory: %w", err)
		}
		if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("socket directory %s is not a directory", dir)
		}
		// No server runs on this cluster, so sockets left in its private
		// directory are stale.
		stale, _ := filepath.Glob(filepath.Join(dir, socketFilePrefix+"*"))
		for _, f := range stale {
			os.Remove(f)
		}
	} else {
		var err error
		dir, err = os.MkdirTemp("", "mdpg-")
		if err != nil {
			return fmt.Errorf("create socket directory: %w", err)
		}
		c.tempSockDir = dir
		if len(dir)+len("/"+socketFilePrefix+"65535") > maxSocketPath {
			c.removeTempSockDir()
			return fmt.Errorf("socket directory %s is too long for a Unix socket; use a shorter data directory or TMPDIR", dir)
		}
		if c.user.cred != nil {
			blocked, err := c.user.blockingDir(filepath.Dir(dir))
			if err != nil || blocked != "" {
				c.removeTempSockDir()
				return fmt.Errorf("%s cannot enter %s to reach its socket directory %s; set TMPDIR to a directory it can reach", c.user, blocked, dir)
			}
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("prepare socket directory: %w", err)
	}
	if c.user.cred != nil {
		if err := os.Lchown(dir, int(c.user.uid), int(c.user.gid)); err != nil {
			return fmt.Errorf("give socket directory to %s: %w", c.user, err)
		}
	}
	c.sockDir = dir
	c.port = firstPort
	for ; c.port < 65535; c.port++ {
		if !exists(filepath.Join(dir, socketFilePrefix+strconv.Itoa(c.port))) &&
			!exists(filepath.Join(dir, socketFilePrefix+strconv.Itoa(c.port)+".lock")) {
			break
		}
	}
	return nil
}

// prepareLogFile creates the server log so that the server account, which
// cannot create files in the data directory, can append to it.
func (c *Cluster) prepareLogFile() error {
	f, err := os.OpenFile(c.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("create server log: %w", err)
	}
	defer f.Close()
	if c.user.cred != nil {
		if err := f.Chown(int(c.user.uid), int(c.user.gid)); err != nil {
			return fmt.Errorf("give server log to %s: %w", c.user, err)
		}
	}
	return nil
}

// waitReady retries connecting until the server accepts connections or ctx
// (or, without a deadline, defaultReadyTimeout) expires.
func (c *Cluster) waitReady(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReadyTimeout)
		defer cancel()
	}
	for {
		conn, err := pgconn.Connect(ctx, c.ConnString("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for PostgreSQL to accept connections: %w\nlast lines of %s:\n%s",
				err, c.logFile, tailFile(c.logFile, logTailLines))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitRecovered waits until a cluster recovering from an archive has
// reached its target and been promoted, so that it accepts writes. A
// recovery that pauses at its target (recovery_target_action=pause) is
// reported, since it would wait for someone to resume it.
func (c *Cluster) waitRecovered(ctx context.Context) error {
	c.logger.Info("PostgreSQL is recovering from a backup; waiting until it reaches the restore target and is promoted")
	var last error
	for {
		inRecovery, paused, err := c.recoveryState(ctx)
		switch {
		case err == nil && !inRecovery:
			c.logger.Info("PostgreSQL finished recovery and accepts writes")
			return nil
		case err == nil && paused:
			return fmt.Errorf("PostgreSQL paused its recovery at the restore target (recovery_target_action=pause) instead of promoting, "+
				"and mediationd stops it again: add recovery_target_action = 'promote' to %s/postgresql.auto.conf as the account that owns it "+
				"(or restore again with pgbackrest's --target-action=promote), then start mediationd: the replay runs to the target again and promotes", c.pgdata)
		case err != nil:
			last = err
			if running, _ := c.running(ctx); !running {
				return fmt.Errorf("PostgreSQL stopped during recovery (%v); last lines of %s:\n%s", last, c.logFile, tailFile(c.logFile, logTailLines))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for PostgreSQL to finish recovery: %w (last error: %v)", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// recoveryState asks the server whether it is still in recovery and, if
// so, whether its replay is paused.
func (c *Cluster) recoveryState(ctx context.Context) (inRecovery, paused bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // one attempt; the caller tries again
	defer cancel()
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return false, false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// pg_is_wal_replay_paused, not the newer pause state: every supported
	// server version has it.
	err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery(),
		CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END`).Scan(&inRecovery, &paused)
	return inRecovery, paused, err
}

// checkArchiving warns when a server that was already running (and so
// reused, not started) does not archive as configured: archive_mode only
// changes when the server restarts.
func (c *Cluster) checkArchiving(ctx context.Context) {
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var mode, command string
	if err := conn.QueryRow(ctx, "SELECT current_setting('archive_mode'), current_setting('archive_command')").Scan(&mode, &command); err != nil {
		return
	}
	if mode != "on" || command != c.archiveCommand {
		c.logger.Warn("the PostgreSQL server that was already running does not archive its WAL as configured, so backups cannot be restored "+
			"to a point in time; stop mediationd (which stops the server) and start it again",
			"archive_mode", mode, "archive_command", command, "want_archive_command", c.archiveCommand)
	}
}

// archiveCommand renders the archive_command that pushes WAL to the
// stanza of a, naming pgdata so that a cluster restored elsewhere archives
// its own WAL.
func archiveCommand(a Archive, pgdata string) (string, error) {
	if a.Stanza == "" {
		return "", errors.New("WAL archiving needs a pgBackRest stanza")
	}
	command := a.Command
	if command == "" {
		command = "pgbackrest"
	}
	path, err := exec.LookPath(command)
	if err != nil {
		return "", fmt.Errorf("WAL archiving needs pgBackRest (%v): install it with `apt-get install pgbackrest`, "+
			"or turn archiving off by leaving MEDIATION_PGBACKREST_STANZA empty", err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return "", fmt.Errorf("resolve pgbackrest: %w", err)
	}
	words := []string{path}
	if a.Config != "" {
		config, err := filepath.Abs(a.Config)
		if err != nil {
			return "", fmt.Errorf("resolve pgBackRest configuration file: %w", err)
		}
		words = append(words, "--config="+config)
	}
	words = append(words, "--stanza="+a.Stanza, "--pg1-path="+pgdata)
	var b strings.Builder
	for _, w := range words {
		// archive_command runs through /bin/sh after PostgreSQL replaces
		// %p, %f and %%: quote for the shell, then escape the percent signs.
		b.WriteString(strings.ReplaceAll(shellQuote(w), "%", "%%"))
		b.WriteString(" ")
	}
	b.WriteString("archive-push %p")
	return b.String(), nil
}

// ensureDatabase creates database unless it exists.
func (c *Cluster) ensureDatabase(ctx context.Context, database string) error {
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("connect to create database %q: %w", database, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", database, err)
	}
	c.logger.Info("created database", "database", database)
	return nil
}

// ConnString returns a pgx-compatible URL connecting to database on the
// cluster as the superuser over its Unix socket.
func (c *Cluster) ConnString(database string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.User(Superuser),
		Path:   "/" + database,
	}
	// A slash needs no escaping in a query and keeps the socket path readable.
	host := strings.ReplaceAll(url.QueryEscape(c.sockDir), "%2F", "/")
	u.RawQuery = "host=" + host + "&port=" + strconv.Itoa(c.port) + "&sslmode=disable"
	return u.String()
}

// DataDir returns the cluster directory (PGDATA).
func (c *Cluster) DataDir() string { return c.pgdata }

// BinDir returns the directory of the PostgreSQL binaries in use.
func (c *Cluster) BinDir() string { return c.binDir }

// Stop shuts the cluster down: a fast shutdown (sessions are disconnected,
// transactions rolled back), falling back to an immediate one if that fails.
// Stop also stops a reused server, since the service owns the cluster. A
// second call does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	out, err := c.run(ctx, "pg_ctl", "stop", "-D", c.pgdata, "-m", "fast", "-w", "-t", "60")
	if err != nil {
		fallbackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopFallbackTimeout)
		defer cancel()
		if running, statusErr := c.running(fallbackCtx); statusErr == nil && !running {
			err = nil
		} else {
			c.logger.Warn("fast shutdown failed, shutting PostgreSQL down immediately", "error", err, "output", string(bytes.TrimSpace(out)))
			out, err = c.run(fallbackCtx, "pg_ctl", "stop", "-D", c.pgdata, "-m", "immediate", "-w", "-t", "30")
		}
	}
	if err != nil {
		return fmt.Errorf("stop postgres: pg_ctl stop: %w: %s", err, bytes.TrimSpace(out))
	}
	c.removeTempSockDir()
	c.stopped = true
	c.logger.Info("stopped PostgreSQL")
	return nil
}

// Remove stops the cluster and deletes it with its log, for throwaway
// clusters. The data directory that held it is left in place.
func (c *Cluster) Remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		return fmt.Errorf("remove postgres: %w", err)
	}
	if err := os.RemoveAll(c.pgdata); err != nil {
		return fmt.Errorf("remove postgres: %w", err)
	}
	if err := os.Remove(c.logFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove postgres: %w", err)
	}
	return nil
}

// TempDir makes a new temporary directory (see os.MkdirTemp) to hold a
// throwaway cluster: when run as root the server runs as an unprivileged
// account, which must be able to pass through it, hence mode 0711. The
// caller removes it when done.
func TempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// removeTempSockDir deletes a temporary socket directory once the server no
// longer uses it. It is not recursive: a directory still holding a socket
// stays.
func (c *Cluster) removeTempSockDir() {
	if c.tempSockDir != "" {
		os.Remove(c.tempSockDir)
		c.tempSockDir = ""
	}
}

// run executes one of the PostgreSQL programs as the server account, in a
// session of its own, and returns its combined output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = "/"
	cmd.Env = c.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: c.user.cred}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl's postmaster must not hold the output pipe open; if it ever
	// did, give up on the pipe rather than hang.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// env is the environment of the PostgreSQL programs: the service's, minus
// libpq and server variables that could redirect them, with HOME set to a
// directory the server account can use.
func (c *Cluster) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || (c.user.cred != nil && strings.HasPrefix(kv, "HOME=")) {
			continue
		}
		env = append(env, kv)
	}
	if c.user.cred != nil {
		env = append(env, "HOME="+c.pgdata)
	}
	return env
}

// socketDirSetting renders dir as the single element of the comma-separated
// unix_socket_directories list, double-quoting it when it holds a separator.
func socketDirSetting(dir string) string {
	if strings.ContainsAny(dir, ", \t") {
		return `"` + dir + `"`
	}
	return dir
}

// shellQuote quotes s as one word for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// exists reports whether path names an existing file.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// tailFile returns the last n lines of path, or a note why it cannot.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
