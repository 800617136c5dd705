package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	os.Exit(Main(m, func(ctx context.Context, dsn string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE notes (owner text PRIMARY KEY)")
		return err
	}))
}

// connect opens a connection to dsn, closed when the test ends.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestDatabasesAreIsolated(t *testing.T) {
	var (
		mu       sync.Mutex
		dsns     = map[string]string{}
		inserted sync.WaitGroup
	)
	inserted.Add(2)
	allInserted := make(chan struct{})
	go func() { inserted.Wait(); close(allInserted) }()

	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			done := sync.OnceFunc(inserted.Done)
			defer done()
			dsn := NewDatabase(t)
			conn := connect(t, dsn)
			if _, err := conn.Exec(t.Context(), "INSERT INTO notes (owner) VALUES ($1)", name); err != nil {
				t.Fatalf("the table created by setup is missing: %v", err)
			}
			mu.Lock()
			for other, otherDSN := range dsns {
				if otherDSN == dsn {
					t.Errorf("%s and %s share database %s", name, other, dsn)
				}
			}
			dsns[name] = dsn
			mu.Unlock()
			done()
			// Wait for the other test's write, so that it would be visible
			// here if the databases were shared. With -parallel 1 the other
			// test runs later and this wait times out harmlessly.
			select {
			case <-allInserted:
			case <-time.After(10 * time.Second):
			}

			rows, err := conn.Query(t.Context(), "SELECT owner FROM notes")
			if err != nil {
				t.Fatal(err)
			}
			owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			if len(owners) != 1 || owners[0] != name {
				t.Errorf("notes in %s's database = %v, want only its own row", name, owners)
			}
		})
	}
}

func TestManyDatabasesInParallel(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, NewDatabase(t))
			var n int
			if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM notes").Scan(&n); err != nil || n != 0 {
				t.Fatalf("fresh database: count = %d, %v; want an empty notes table", n, err)
			}
		})
	}
}

func TestDatabaseDroppedAfterTest(t *testing.T) {
	var dsn string
	t.Run("user", func(t *testing.T) { dsn = NewDatabase(t) })
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin := connect(t, AdminDSN())
	var exists bool
	err = admin.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cfg.Database).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", cfg.Database)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:p@db.example:5433/postgres?sslmode=disable", "postgres://u:p@db.example:5433/t_1?sslmode=disable"},
		{"postgresql://u@/old?host=/run/pg&port=5432", "postgresql://u@/t_1?host=/run/pg&port=5432"},
		{"postgres://u@h/old?dbname=old", "postgres://u@h/t_1"},
		{"host=/run/pg port=5432 user=u dbname=postgres", "host=/run/pg port=5432 user=u dbname=postgres dbname='t_1'"},
		{"host=h password='a b\\'c'", "host=h password='a b\\'c' dbname='t_1'"},
	} {
		got, err := withDatabase(tc.in, "t_1")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
