package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/pgtest"
)

func TestCompatibleFrom(t *testing.T) {
	for _, tc := range []struct {
		sql     string
		want    int
		wantErr string
	}{
		{"CREATE INDEX x ON cases (id);", 16, ""},
		{"-- An index for the lists.\n-- compatible-from: 14\nCREATE INDEX x ON cases (id);", 14, ""},
		{"\n--compatible-from:15\n", 15, ""},
		{"-- compatible-from: 16\n", 16, ""},
		{"CREATE INDEX x ON cases (id);\n-- compatible-from: 14\n", 16, ""}, // only the leading comment counts
		{"-- compatible-from: 17\n", 0, "from 1 to 16"},
		{"-- compatible-from: 0\n", 0, "from 1 to 16"},
		{"-- compatible-from: fourteen\n", 0, `"fourteen"`},
	} {
		got, err := compatibleFrom(16, tc.sql)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("compatibleFrom(%q) = %d, %v; want an error saying %q", tc.sql, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("compatibleFrom(%q) = %d, %v; want %d", tc.sql, got, err, tc.want)
		}
	}
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.CompatibleFrom < 1 || m.CompatibleFrom > m.Version {
			t.Errorf("migration %04d: compatible from %d", m.Version, m.CompatibleFrom)
		}
	}
}

// TestMigrateWithANewerSchema: migrate by an older binary (a replica
// restarting during a rolling upgrade) leaves a newer schema alone when it
// works with it, and refuses, naming the migration, when it does not.
func TestMigrateWithANewerSchema(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	latest := LatestVersion()
	var recorded int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE compatible_from IS NOT NULL`).Scan(&recorded); err != nil || recorded != latest {
		t.Fatalf("migrations recorded with their compatibility: %d, %v; want %d", recorded, err, latest)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name, compatible_from) VALUES ($1, 'next', $2)`, latest+1, latest-1); err != nil {
		t.Fatal(err)
	}
	applied, err := Migrate(ctx, dsn, nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("Migrate on a compatible newer schema = %v, %v; want nothing applied, no error", applied, err)
	}
	if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET compatible_from = $1 WHERE version = $1`, latest+1); err != nil {
		t.Fatal(err)
	}
	_, err = Migrate(ctx, dsn, nil)
	if !errors.Is(err, ErrSchemaAhead) || !strings.Contains(err.Error(), "_next needs binaries built for schema") {
		t.Fatalf("Migrate on an incompatible newer schema = %v, want ErrSchemaAhead naming the migration", err)
	}
}
