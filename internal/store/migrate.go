package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/migrations"
)

// migrationLockID is the advisory lock that serialises migrations when
// several replicas start at once.
const migrationLockID int64 = 0x6d6564696174696f // "mediatio"

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// CompatibleFrom is the oldest schema version whose binaries keep
	// working with this migration applied: a migration that only adds
	// (a table, a nullable column, an index, a trigger the old code need
	// not know) says so with a line
	//
	//	-- compatible-from: N
	//
	// in its leading comment, and binaries built for schema N or newer
	// stay ready after it (a rolling upgrade: the migration runs first,
	// the old replicas serve until they are replaced). Without the line
	// it is the migration's own version: binaries built for older schemas
	// report themselves not ready once it is applied.
	CompatibleFrom int
}

// compatibleFrom reads a migration's "-- compatible-from: N" line from
// the comment lines it starts with; version if it has none.
func compatibleFrom(version int, sql string) (int, error) {
	for line := range strings.Lines(sql) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		rest, ok := strings.CutPrefix(line, "--")
		if !ok {
			break
		}
		v, ok := strings.CutPrefix(strings.TrimSpace(rest), "compatible-from:")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > version {
			return 0, fmt.Errorf("compatible-from: %q: give a schema version from 1 to %d (the oldest schema whose binaries work with this migration applied)", strings.TrimSpace(v), version)
		}
		return n, nil
	}
	return version, nil
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", e.Name())
		}
		b, err := fs.ReadFile(migrations.FS, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		from, err := compatibleFrom(v, string(b))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b), CompatibleFrom: from})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1, 2, 3...: found %04d at position %d", m.Version, i+1)
		}
	}
	return out, nil
}

// LatestVersion is the schema version this binary expects (read from the
// embedded migrations once: readiness asks it at every probe).
func LatestVersion() int { return latestVersion() }

var latestVersion = sync.OnceValue(func() int {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
})

// Migrate applies the migrations the database lacks, each in its own
// transaction, holding an advisory lock so that concurrent callers apply
// each migration once. It returns the versions it applied.
func Migrate(ctx context.Context, dsn string, log *slog.Logger) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect for migration: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockID) //nolint:errcheck // the lock also ends with the connection

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    int PRIMARY KEY,
		name       text NOT NULL,
		apply_time timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	// Which binaries each migration leaves working (see
	// Migration.CompatibleFrom); rows from before the column are read
	// as their own version.
	if _, err := conn.Exec(ctx, `ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS compatible_from int`); err != nil {
		return nil, fmt.Errorf("add schema_migrations.compatible_from: %w", err)
	}
	current, err := schemaVersion(ctx, conn)
	if err != nil {
		return nil, err
	}
	if current > len(ms) {
		if err := compatibleWith(ctx, conn, len(ms)); err != nil {
			return nil, err
		}
		if log != nil {
			log.Info("the database schema is newer than this binary's and works with it", "schema", current, "binary", len(ms))
		}
		return nil, nil
	}
	var applied []int
	for _, m := range ms[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, compatible_from) VALUES ($1, $2, $3)", m.Version, m.Name, m.CompatibleFrom)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if log != nil {
			log.Info("applied migration", "version", m.Version, "name", m.Name)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		if pgCode(err) == "42P01" { // undefined_table: never migrated
			return 0, nil
		}
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// SchemaVersion returns the version of the newest migration applied to the
// database, 0 if none.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.pool)
}

// ErrSchemaBehind and ErrSchemaAhead are CheckSchema's refusals.
var (
	ErrSchemaBehind = errors.New("the database schema is older than this binary's")
	ErrSchemaAhead  = errors.New("the database schema is newer than this binary works with")
)

// CheckSchema reports whether this binary can serve the database: its
// schema is at LatestVersion, or newer by migrations that all declare
// this binary's schema compatible (Migration.CompatibleFrom), as during
// a rolling upgrade. The error wraps ErrSchemaBehind or ErrSchemaAhead
// and says what to run, or an error reading the database.
func (s *Store) CheckSchema(ctx context.Context) error {
	v, err := schemaVersion(ctx, s.pool)
	if err != nil {
		return err
	}
	switch want := LatestVersion(); {
	case v < want:
		return fmt.Errorf("%w: it is at version %d, this binary needs %d: run `mediationd migrate`", ErrSchemaBehind, v, want)
	case v > want:
		return compatibleWith(ctx, s.pool, want)
	}
	return nil
}

// compatibleWith checks that every migration applied after version
// leaves binaries built for version working.
func compatibleWith(ctx context.Context, q queryer, version int) error {
	var (
		newest, first int
		name          string
	)
	// The first migration after version that older binaries do not
	// survive, if any (rows from before compatible_from: their version).
	err := q.QueryRow(ctx, `SELECT (SELECT max(version) FROM schema_migrations), version, name
		FROM schema_migrations
		WHERE version > $1 AND coalesce(compatible_from, version) > $1
		ORDER BY version LIMIT 1`, version).Scan(&newest, &first, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		if pgCode(err) == "42703" { // undefined_column: written before compatible_from, so no migration declared it
			return fmt.Errorf("%w: it is at a version newer than %d, applied by a mediationd that does not record compatibility: run that newer mediationd", ErrSchemaAhead, version)
		}
		return fmt.Errorf("read schema compatibility: %w", err)
	}
	return fmt.Errorf("%w: it is at version %d, and migration %04d_%s needs binaries built for schema %d or newer, this one is built for %d: replace this replica with the newer mediationd",
		ErrSchemaAhead, newest, first, name, first, version)
}
