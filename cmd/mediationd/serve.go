package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mediationd/mediationd/internal/config"
	"github.com/mediationd/mediationd/internal/delivery"
	"github.com/mediationd/mediationd/internal/pgembed"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
)

// database returns the DSN to use: DATABASE_URL, or the private cluster,
// started (or reused) in the data directory. stop stops a private cluster
// and does nothing otherwise.
func database(ctx context.Context, cfg config.Config, log *slog.Logger) (dsn string, private bool, stop func(), err error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, false, func() {}, nil
	}
	o := pgembed.Options{DataDir: cfg.DataDir, BinDir: cfg.PGBin, Logger: log}
	if cfg.PgBackRestStanza != "" {
		o.Archive = &pgembed.Archive{Stanza: cfg.PgBackRestStanza, Config: cfg.PgBackRestConfig}
	}
	cluster, err := pgembed.Start(ctx, o)
	if err != nil {
		return "", false, nil, fmt.Errorf("start the private PostgreSQL (set DATABASE_URL to use an existing server instead): %w", err)
	}
	stop = func() {
		if err := cluster.Stop(context.WithoutCancel(ctx)); err != nil {
			log.Error("stop private PostgreSQL", "error", err.Error())
		}
	}
	return cluster.ConnString("mediation"), true, stop, nil
}

// gcPercent is the garbage collector's goal (GOGC) of the service when
// the environment sets none: the heap may grow to gcPercent% above what is
// live before the next collection.
const gcPercent = 200

// tuneGC applies gcPercent unless GOGC is set. The service's live heap is
// small (about 10 MiB with the benchmark's 32 busy clients) while every
// call allocates tens of kilobytes, so at Go's default goal of 100 the
// collector ran many times a second: 11–14% of the service's CPU in
// profiles of the benchmark, 5% after the allocations of listing were
// cut. A larger goal makes it run less often for a few tens of MiB more
// heap; an operator who must bound memory sets GOGC or GOMEMLIMIT.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := config.Parse("mediationd serve", args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	tuneGC(os.Getenv)
	log := cfg.Logger(os.Stderr)
	slog.SetDefault(log)
	tlsConfig, err := server.LoadTLSConfig(cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA)
	if err != nil {
		return fmt.Errorf("TLS (MEDIATION_TLS_CERT, MEDIATION_TLS_KEY, MEDIATION_TLS_CLIENT_CA): %w", err)
	}

	dsn, private, stopDB, err := database(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopDB()
	if private || cfg.Migrate {
		if _, err := store.Migrate(ctx, dsn, log); err != nil {
			return err
		}
	}
	if err := serveDemo(ctx, dsn, os.Getenv, log); err != nil {
		return err
	}
	keys, err := webhookKeys(cfg, private)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: int32(cfg.DBMaxConns)})
	if err != nil {
		return err
	}
	defer st.Close()
	checkDurability(ctx, st, private, log)

	srv, err := server.New(ctx, server.Config{
		Store:           st,
		Logger:          log,
		Location:        cfg.Location(),
		MaxRequestBytes: cfg.MaxRequestBytes,
		ShutdownTimeout: cfg.ShutdownTimeout,
		OverdueInterval: jobInterval(cfg.OverdueInterval),

		TallyFoldInterval: jobInterval(cfg.TallyFoldInterval),

		GroupDisputeApplicants: cfg.GroupDisputeApplicants,
		TLS:                    tlsConfig,
		CORSOrigins:            cfg.CORSOrigins,
		RateLimit:              cfg.RateLimit,
		RateBurst:              cfg.RateBurst,
		Metrics:                server.MetricsOptions{Private: cfg.DebugAddr != "", Version: version},
		Webhooks: server.WebhookOptions{
			Deliver:         cfg.Webhooks.Deliver,
			Keys:            keys,
			AllowedNetworks: cfg.Webhooks.AllowedNetworks,
			Schedule:        cfg.Webhooks.RetrySchedule,
			Workers:         cfg.Webhooks.Workers,
			Retention:       cfg.Webhooks.Retention,
			Timeout:         cfg.Webhooks.Timeout,
			Lease:           cfg.Webhooks.Lease,
		},
	})
	if err != nil {
		return err
	}
	if cfg.DebugAddr != "" {
		stop, err := serveDebug(ctx, cfg.DebugAddr, srv.MetricsHandler(), log)
		if err != nil {
			return err
		}
		defer stop()
	}
	var lc net.ListenConfig
	grpcLis, err := lc.Listen(ctx, "tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen for gRPC on %s (set MEDIATION_GRPC_ADDR to another address): %w", cfg.GRPCAddr, err)
	}
	httpLis, err := lc.Listen(ctx, "tcp", cfg.HTTPAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("listen for HTTP on %s (set MEDIATION_HTTP_ADDR to another address): %w", cfg.HTTPAddr, err)
	}
	return srv.Serve(ctx, grpcLis, httpLis)
}

// serveDebug serves /debug/pprof and /metrics on addr, for operators and
// profiling; it should be a loopback or otherwise private address. stop
// closes the listener.
func serveDebug(ctx context.Context, addr string, metrics http.Handler, log *slog.Logger) (stop func(), err error) {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for debugging on %s (MEDIATION_DEBUG_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug listener stopped", "error", err.Error())
		}
	}()
	log.Info("serving pprof and metrics", "debug", lis.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// jobInterval maps a job's interval the setting (0 = never) to the server's (negative
// = never).
func jobInterval(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func runMigrate(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := config.Parse("mediationd migrate", args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(os.Stderr)
	dsn, _, stopDB, err := database(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopDB()
	applied, err := store.Migrate(ctx, dsn, log)
	if err != nil {
		return err
	}
	log.Info("schema is current", "version", store.LatestVersion(), "applied", len(applied))
	return nil
}

// runPsql opens psql on the service's database: DATABASE_URL's, or the
// private cluster's.
func runPsql(ctx context.Context, args []string, stderr io.Writer) error {
	var psqlArgs []string
	for i, a := range args {
		if a == "--" {
			args, psqlArgs = args[:i], args[i+1:]
			break
		}
	}
	cfg, err := config.Parse("mediationd psql", args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(os.Stderr)
	// A private cluster keeps running after psql, since the service may be
	// using it; the service's next start reuses it either way.
	dsn, _, _, err := database(ctx, cfg, log)
	if err != nil {
		return err
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		return errors.New("psql not found: install the postgresql-client package")
	}
	cmd := exec.CommandContext(ctx, psql, append([]string{dsn}, psqlArgs...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return runChild(cmd)
}

// runPGExec starts a throwaway PostgreSQL cluster, runs a command with
// DATABASE_URL and MEDIATION_TEST_DATABASE_URL pointing at it, and removes
// the cluster afterwards. The test suite runs under it so that every test
// package shares one server.
func runPGExec(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New("usage: mediationd pg-exec -- COMMAND [ARGS...]")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir, err := pgembed.TempDir("mediationd-pg-")
	if err != nil {
		return fmt.Errorf("make cluster directory: %w", err)
	}
	defer os.RemoveAll(dir)
	cluster, err := pgembed.Start(ctx, pgembed.Options{
		DataDir:        filepath.Join(dir, "data"),
		BinDir:         os.Getenv("MEDIATION_PG_BIN"),
		Logger:         log,
		Ephemeral:      true,
		MaxConnections: 400,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := cluster.Remove(); err != nil {
			log.Error("remove throwaway PostgreSQL", "error", err.Error())
		}
	}()
	dsn := cluster.ConnString("mediation")
	// Asked to stop (SIGTERM or SIGINT), pass it on to the command, which
	// gets a while to finish before it is killed; the cluster goes either way.
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = pgExecStopDelay
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "MEDIATION_TEST_DATABASE_URL="+dsn)
	return runChild(cmd)
}

// pgExecStopDelay is how long pg-exec's command may take to stop once
// told to, before it is killed.
const pgExecStopDelay = 30 * time.Second

// runChild runs cmd and turns its failure into the same exit status.
func runChild(cmd *exec.Cmd) error {
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitCode(128 + int(ws.Signal()))
		}
		return exitCode(exitErr.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", strings.Join(cmd.Args, " "), err)
	}
	return nil
}

func printHelp(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`mediationd: case management for people's mediation and court–mediation linkage.

Commands:
  mediationd [serve] [flags]     run the service (the default)
  mediationd migrate [flags]     apply pending database migrations and exit
  mediationd psql [flags] [-- psql args]
                                 open psql on the service's database
  mediationd users add --username NAME --role ROLE --password-stdin [flags]
                                 create a user (the first administrator, say)
  mediationd users list [flags]  list the users
  mediationd demo [--seed N] [--cases N] [flags]
                                 load the Qingyang demo dataset into an empty database
  mediationd pg-exec -- CMD...   run CMD against a throwaway PostgreSQL cluster
                                 (DATABASE_URL and MEDIATION_TEST_DATABASE_URL set)
  mediationd version             print the version
  mediationd help backup         the commands that back up the private cluster with pgBackRest
                                 and restore it to a point in time

Settings (flag, environment variable, default):
`)
	for _, s := range config.Settings() {
		fmt.Fprintf(&b, "  --%-18s %-28s %q\n      %s\n", s.Flag, s.Env, s.Default, s.Usage)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// webhookKeys is the keyring of the webhook secrets: MEDIATION_SECRET_KEY;
// without it, for the private cluster, a key file made in the data
// directory; otherwise none, and registering an endpoint is refused with
// a message saying how to configure the key.
func webhookKeys(cfg config.Config, private bool) (*delivery.Keyring, error) {
	switch {
	case cfg.Webhooks.SecretKey != nil:
		return delivery.NewKeyring(cfg.Webhooks.SecretKey)
	case private:
		return delivery.LoadOrCreateKeyFile(cfg.DataDir)
	}
	return nil, nil
}

// checkDurability says once, at start, whether a commit the database
// acknowledges is on a standby too. On a server reached through
// DATABASE_URL that is a deployment's choice, and a warning says what a
// failover may lose and how to fix it. The private cluster has no standby
// by design: it is noted at info level, not warned about.
func checkDurability(ctx context.Context, st *store.Store, private bool, log *slog.Logger) {
	d, err := st.Durability(ctx)
	switch {
	case err != nil:
		log.Warn("could not read whether commits wait for a standby", "error", err.Error())
	case d.Replicated:
		log.Info("commits wait for a synchronous standby", "synchronous_commit", d.SynchronousCommit,
			"synchronous_standby_names", d.SynchronousStandbyNames)
	case private:
		log.Info("the private PostgreSQL has no standby: commits are durable on this machine only; use a Patroni cluster through DATABASE_URL for failover")
	default:
		log.Warn(d.Advice(), "synchronous_commit", d.SynchronousCommit, "synchronous_standby_names", d.SynchronousStandbyNames)
	}
}
