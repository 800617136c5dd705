// Package pgtest gives every test its own PostgreSQL database.
//
// A test binary uses one server: the one named by MEDIATION_TEST_DATABASE_URL,
// or else a throwaway private cluster (see package pgembed) that lives only as
// long as the test binary. On that server Main creates a template database and
// lets the caller migrate it; NewDatabase then clones the template for each
// test, which is much faster than migrating every database, and drops the
// clone when the test ends. All database names carry a random suffix, so test
// binaries running in parallel (as `go test ./...` does) can share a server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mediationd/mediationd/internal/pgembed"
)

const (
	// EnvDatabaseURL names an existing server for the tests. Its role must be
	// allowed to create databases, and the server must be PostgreSQL 13 or
	// later (for DROP DATABASE ... WITH (FORCE)).
	EnvDatabaseURL = "MEDIATION_TEST_DATABASE_URL"
	// EnvPGBin optionally names the directory of the PostgreSQL binaries used
	// for the throwaway server.
	EnvPGBin = "MEDIATION_PG_BIN"

	// setupTimeout bounds starting the server and preparing the template.
	setupTimeout = 5 * time.Minute
	// databaseTimeout bounds creating or dropping one test database.
	databaseTimeout = time.Minute
	// createAttempts bounds retries of CREATE DATABASE while the template is
	// briefly in use.
	createAttempts = 10
)

// state is the server and template shared by the tests of one binary.
var state struct {
	adminDSN string
	template string
}

// Main runs a package's tests against PostgreSQL. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, migrate)) }
//
// If MEDIATION_TEST_DATABASE_URL is set, Main uses that server; otherwise it
// starts a throwaway cluster (pgembed, Ephemeral) in a temporary directory
// and removes it afterwards, also when the run is interrupted. It creates a
// uniquely named template database, calls setup with the template's DSN (the
// caller applies migrations there; setup must close its connections), runs
// the tests and drops the template.
//
// If PostgreSQL cannot be started or prepared, Main prints why and returns a
// non-zero code without running the tests, so they never pass vacuously.
func Main(m *testing.M, setup func(ctx context.Context, dsn string) error) int {
	code, err := run(m, setup)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// run is Main returning its error instead of printing it.
func run(m *testing.M, setup func(ctx context.Context, dsn string) error) (code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	adminDSN, stopServer, err := startServer(ctx)
	if err != nil {
		return 1, err
	}
	var cleanupOnce sync.Once
	var cleanupErr error
	cleanup := func() error {
		cleanupOnce.Do(func() {
			cleanupErr = errors.Join(dropTemplate(adminDSN, state.template), stopServer())
		})
		return cleanupErr
	}
	defer func() { err = errors.Join(err, cleanup()) }()

	// The throwaway server runs in a session of its own, so an interrupt
	// does not reach it: remove it before exiting.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer func() {
		signal.Stop(signals)
		close(signals)
	}()
	go func() {
		if sig, ok := <-signals; ok {
			if err := cleanup(); err != nil {
				fmt.Fprintf(os.Stderr, "pgtest: clean up after %v: %v\n", sig, err)
			}
			os.Exit(1)
		}
	}()

	template := "tmpl_" + randomSuffix()
	if err := createTemplate(ctx, adminDSN, template, setup); err != nil {
		return 1, err
	}
	state.adminDSN, state.template = adminDSN, template
	return m.Run(), nil
}

// startServer returns the admin DSN of the test server and a function that
// disposes of the server if it is a throwaway one.
func startServer(ctx context.Context) (string, func() error, error) {
	if dsn := os.Getenv(EnvDatabaseURL); dsn != "" {
		return dsn, func() error { return nil }, nil
	}
	dir, err := pgembed.TempDir("mediation-pgtest-")
	if err != nil {
		return "", nil, fmt.Errorf("create directory for throwaway PostgreSQL: %w", err)
	}
	cluster, err := pgembed.Start(ctx, pgembed.Options{
		DataDir:   dir,
		BinDir:    os.Getenv(EnvPGBin),
		Database:  "postgres",
		Ephemeral: true,
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start throwaway PostgreSQL (or set %s to an existing server): %w", EnvDatabaseURL, err)
	}
	stop := func() error {
		return errors.Join(cluster.Remove(), os.RemoveAll(dir))
	}
	return cluster.ConnString("postgres"), stop, nil
}

// createTemplate creates the template database, lets setup migrate it and
// closes it to connections, so that cloning it cannot collide with a session
// still using it.
func createTemplate(ctx context.Context, adminDSN, template string, setup func(ctx context.Context, dsn string) error) error {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{template}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	// From here on the template exists; run's cleanup drops it.
	state.template = template
	if setup != nil {
		dsn, err := withDatabase(adminDSN, template)
		if err != nil {
			return err
		}
		if err := setup(ctx, dsn); err != nil {
			return fmt.Errorf("set up template database: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("close template database to connections: %w", err)
	}
	// Sessions setup left open would make every clone fail.
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", template); err != nil {
		return fmt.Errorf("close sessions on template database: %w", err)
	}
	return nil
}

// dropTemplate removes the template database, if one was created.
func dropTemplate(adminDSN, template string) error {
	if template == "" {
		return nil
	}
	if err := dropDatabase(adminDSN, template); err != nil {
		return fmt.Errorf("drop template database: %w", err)
	}
	return nil
}

// NewDatabase creates a database for one test as a copy of the migrated
// template and returns its DSN. The database is dropped, with any sessions
// still connected to it, when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if state.adminDSN == "" {
		t.Fatal("pgtest: NewDatabase needs TestMain to run the tests through pgtest.Main")
	}
	name := "t_" + randomSuffix()
	dsn, err := withDatabase(state.adminDSN, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), databaseTimeout)
	defer cancel()
	if err := createFromTemplate(ctx, name); err != nil {
		t.Fatalf("pgtest: create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(state.adminDSN, name); err != nil {
			t.Errorf("pgtest: drop test database: %v", err)
		}
	})
	return dsn
}

// AdminDSN returns the DSN of the maintenance database on the test server,
// for tests that manage databases or roles themselves. It is empty unless the
// tests run through Main.
func AdminDSN() string {
	return state.adminDSN
}

// createFromTemplate clones the template into a new database, retrying while
// another session briefly holds the template (such as autovacuum).
func createFromTemplate(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, state.adminDSN)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{state.template}.Sanitize()
	for attempt := 1; ; attempt++ {
		_, err := conn.Exec(ctx, sql)
		if err == nil {
			return nil
		}
		if !templateInUse(err) || attempt == createAttempts {
			return fmt.Errorf("create database %s from template %s: %w", name, state.template, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create database %s from template %s: %w", name, state.template, err)
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

// templateInUse reports whether err is PostgreSQL refusing to copy a
// template that another session is connected to.
func templateInUse(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55006" &&
		strings.Contains(pgErr.Message, "is being accessed by other users")
}

// dropDatabase drops name, disconnecting any sessions still using it.
func dropDatabase(adminDSN, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), databaseTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// withDatabase returns dsn with its database replaced by database. dsn may
// be a URL (postgres://...) or keyword/value pairs (host=... dbname=...).
func withDatabase(dsn, database string) (string, error) {
	var out string
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN: %w", err)
		}
		u.Path, u.RawPath = "/"+database, ""
		if q := u.Query(); q.Has("dbname") {
			q.Del("dbname")
			u.RawQuery = q.Encode()
		}
		out = u.String()
	} else {
		// In keyword/value form the last occurrence of a keyword wins.
		out = strings.TrimSpace(dsn + " dbname=" + quoteKeywordValue(database))
	}
	cfg, err := pgconn.ParseConfig(out)
	if err != nil {
		return "", fmt.Errorf("parse DSN for database %s: %w", database, err)
	}
	if cfg.Database != database {
		return "", fmt.Errorf("DSN for database %s names database %q instead", database, cfg.Database)
	}
	return out, nil
}

// quoteKeywordValue quotes a value for a keyword/value connection string.
func quoteKeywordValue(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// randomSuffix returns 16 random hex digits for unique database names.
func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
